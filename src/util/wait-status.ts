/**
 * A raw wait(2) status — what the native helper reports in its "exit <status>" message — read
 * the one way every part of Berth reads it: the exit code a shell (and Docker) shows, the code
 * itself for a normal exit or 128 + the signal number for a process a signal ended, and that
 * signal. (Core dumps, bit 0x80, change neither.)
 */

/** How a process ended. */
export interface WaitStatus {
  /** The code for a normal exit, else 128 + the signal number (Docker's and the shell's rule). */
  exitCode: number;
  /** The number of the signal that ended the process, when one did. */
  signal?: number;
}

/**
 * Decode a raw wait status.
 * @example decodeWaitStatus(0x100) // { exitCode: 1 }; decodeWaitStatus(9) // { exitCode: 137, signal: 9 }
 */
export function decodeWaitStatus(status: number): WaitStatus {
  const sig = status & 0x7f; // WTERMSIG; 0 means WIFEXITED
  if (sig === 0) return { exitCode: (status >> 8) & 0xff }; // WEXITSTATUS
  return { exitCode: 128 + sig, signal: sig };
}

/**
 * The raw wait status of a normal exit with `code` (its low 8 bits), for an exit known only by
 * its code: decodeWaitStatus(exitStatus(c)).exitCode === c & 0xff, with no signal.
 */
export function exitStatus(code: number): number {
  return (code & 0xff) << 8;
}
