/**
 * Docker's way with several containers: act on each, print the reference on success, print an
 * error line for a failure and go on; exit 1 if any failed.
 */
import { BerthError } from '../../util/errors.js';
import type { CommandIO } from '../io.js';

/** Run `fn` for each reference, printing to the caller `io`; returns the exit code. */
export async function eachContainer(io: Pick<CommandIO, 'stdout' | 'stderr'>, refs: string[], fn: (ref: string) => Promise<void>, print = true): Promise<number> {
  let code = 0;
  for (const ref of refs) {
    try {
      await fn(ref);
      if (print) io.stdout.write(`${ref}\n`);
    } catch (err) {
      const msg = err instanceof BerthError ? err.message : `internal error: ${(err as Error)?.stack ?? String(err)}`;
      io.stderr.write(`berth: ${msg}\n`);
      code = 1;
    }
  }
  return code;
}
