/**
 * Sizes as Docker and runc take them (go-units RAMInBytes): `512`, `64k`, `64m`, `1g`, `1.5g`,
 * `64MiB`, `64mb` — binary multiples, case-insensitive, an optional `i` and `b`.
 */
import { BerthError } from './errors.js';

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** Parse a size in bytes; `what` names the flag in the error, e.g. `--memory`. */
export function parseSize(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i.exec(text.trim());
  if (!m) {
    throw new BerthError('EINVALID_ARG', `invalid size ${JSON.stringify(text)} for ${what}: use a number with an optional unit b, k, m, g (e.g. 64m)`);
  }
  return Math.floor(Number(m[1]) * UNITS[(m[2] ?? '').toLowerCase()]!);
}

/** Like parseSize, but `-1` means unlimited (returned as -1). */
export function parseSizeOrUnlimited(text: string, what: string): number {
  return text.trim() === '-1' ? -1 : parseSize(text, what);
}
