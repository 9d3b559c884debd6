/**
 * Why a monitored container's init is gone. When `run`'s start finds the init dead (it died
 * between create and start), the runtime's own view is only "it has stopped"; the helper has the
 * real account on the sync socket: the child's "error <message>" (an op that failed) and the
 * monitor's "exit <raw wait status>". This reads them and words the error.
 */
import { BerthError } from '../util/errors.js';
import { decodeWaitStatus } from '../util/wait-status.js';
import type { HelperSession } from './helper.js';
import { signalName } from './signals.js';

/** Words a raw wait status the way a user reads it. */
export function describeWaitStatus(status: number): string {
  const { exitCode, signal } = decodeWaitStatus(status);
  return signal === undefined ? `exited with status ${exitCode}` : `was killed by ${signalName(signal)}`;
}

/**
 * Read what is left on a monitored session (up to `ms`) and, when the helper reported an error
 * or an exit, return an EBAD_STATE error for container `id` that says what happened; undefined
 * when the helper said nothing (the caller keeps its own error then).
 * @example `cannot start container c1: its init exited with status 1: exec: /x: No such file or directory`
 */
export async function initExitError(session: HelperSession, id: string, ms = 2000): Promise<BerthError | undefined> {
  let error: string | undefined;
  let status: number | undefined;
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const msg = await Promise.race([
      session.next(),
      new Promise<undefined>((r) => { timer = setTimeout(() => r(undefined), left); }),
    ]);
    clearTimeout(timer);
    if (!msg) break;
    const [kind, ...rest] = msg.map((b) => b.toString());
    if (kind === 'error') error = rest.join(' ');
    if (kind === 'exit') {
      status = Number(rest[0]);
      break;
    }
  }
  if (error === undefined && status === undefined) return undefined;
  const how = status === undefined ? 'exited' : describeWaitStatus(status);
  return new BerthError('EBAD_STATE', `cannot start container ${id}: its init ${how}${error ? `: ${error}` : ''}`);
}
