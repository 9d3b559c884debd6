/**
 * Docker's detach keys (`--detach-keys`, default `ctrl-p,ctrl-q`): a comma-separated sequence,
 * each key a single character or `ctrl-<value>` with value one of `a`…`z`, `@`, `[`, `\`, `]`,
 * `^`, `_` (Docker's term.ToBytes), and the filter that watches an attached terminal's input for
 * it (Docker's escape proxy).
 */
import { BerthError } from '../util/errors.js';

/** Docker's default. */
export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** The key names Docker knows, indexed by their byte: ctrl-@ is 0, ctrl-a 1 … ctrl-_ 31. */
const CTRL = ['ctrl-@', ...'abcdefghijklmnopqrstuvwxyz'.split('').map((c) => `ctrl-${c}`), 'ctrl-[', 'ctrl-\\', 'ctrl-]', 'ctrl-^', 'ctrl-_'];

/**
 * The bytes of a detach key sequence, e.g. `ctrl-p,ctrl-q` → [0x10, 0x11], `ctrl-a,x` → [1, 0x78].
 * An empty string is an error, as in Docker.
 */
export function parseDetachKeys(text: string): Buffer {
  const codes: number[] = [];
  for (const key of text.split(',')) {
    if (key.length === 1) {
      codes.push(key.charCodeAt(0) & 0xff);
      continue;
    }
    const code = CTRL.indexOf(key.toLowerCase());
    if (code < 0) {
      throw new BerthError('EINVALID_ARG', `invalid detach keys ${JSON.stringify(text)}: unknown key ${JSON.stringify(key)}: use a comma-separated list of single characters and ctrl-<value> (a-z, @, [, \\, ], ^, _), e.g. ctrl-p,ctrl-q`);
    }
    codes.push(code);
  }
  return Buffer.from(codes);
}

/**
 * Watches input for the detach sequence. Bytes that could be the start of it are held back;
 * once a byte breaks the match they are passed on with it (so a lone ctrl-p still reaches the
 * container). `push` returns what to pass on and whether the whole sequence was read (then
 * nothing after it is passed on).
 */
export class DetachFilter {
  private matched = 0;

  constructor(private readonly keys: Buffer) {}

  /** Filter one chunk of input. */
  push(chunk: Buffer): { pass: Buffer; detach: boolean } {
    const out: number[] = [];
    for (const byte of chunk) {
      if (this.keys.length > 0 && byte === this.keys[this.matched]) {
        this.matched += 1;
        if (this.matched === this.keys.length) return { pass: Buffer.from(out), detach: true };
        continue;
      }
      if (this.matched > 0) {
        out.push(...this.keys.subarray(0, this.matched));
        this.matched = 0;
        // The byte that broke the match may start a new one.
        if (byte === this.keys[0]) { this.matched = 1; continue; }
      }
      out.push(byte);
    }
    return { pass: Buffer.from(out), detach: false };
  }
}
