/**
 * A failure the helper reported: `error <op> <errno> <text>` (native/proto.c). The operation and
 * the errno are fields of their own, so callers branch on them, never on the text.
 */
import { constants } from 'node:os';
import { BerthError } from '../util/errors.js';

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

export class HelperError extends BerthError {
  /**
   * @param op the operation that failed (src/native/ops.ts), '' outside one (reading the plan, the clone)
   * @param errno the system call's errno, 0 when the failure was not one
   */
  constructor(readonly op: string, readonly errno: number, text: string) {
    super('EHELPER', text);
    this.name = 'HelperError';
  }

  /** The errno's name (`ENOENT`), or undefined for 0 or an unknown number. */
  get errnoName(): string | undefined {
    return ERRNO_NAMES.get(this.errno);
  }

  /** The error of an `error` message's fields (after the type); tolerates a missing errno. */
  static fromFields(fields: readonly string[]): HelperError {
    const [op = '', errno = '0', ...text] = fields;
    return new HelperError(op, Number(errno) || 0, text.join(' ') || 'container init failed');
  }
}

/** The HelperError behind `err` (itself, or along its `cause` chain), if any. */
export function helperErrorOf(err: unknown): HelperError | undefined {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof HelperError) return e;
  }
  return undefined;
}
