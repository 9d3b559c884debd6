/**
 * `berth wait [--report] CONTAINER...`: block until each container stops, then print its exit
 * code (one line per container, like Docker); `--report` prints the outcome table on stderr.
 */
import { bool } from '../args.js';
import { findContainer, waitNotRunning } from '../../engine/containers.js';
import { formatReport } from '../../engine/report.js';
import { readEvents } from '../../engine/events.js';
import type { EnginePaths } from '../../engine/store.js';
import { BerthError } from '../../util/errors.js';
import { CALLER_GONE, type Command } from './context.js';

/** The exit code of the container's last `die` event, if any. */
function lastExitCode(paths: EnginePaths, id: string): number | undefined {
  const die = readEvents(paths).events.filter((e) => e.id === id && e.Action === 'die').pop();
  return die ? Number(die.Actor.Attributes.exitCode) : undefined;
}

export const wait: Command = {
  name: 'wait',
  aliases: ['container wait'],
  usage: 'wait [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'block until one or more containers stop, then print their exit codes',
  warm: () => true,
  flags: [{ name: 'report', type: 'bool', help: 'print what happened (exit, OOM kill, cpu, memory and pids peaks) on stderr' }],
  args: [1, -1],
  async run(ctx, p) {
    let code = 0;
    for (const ref of p.positional) {
      try {
        const rec = await findContainer(ctx.paths, ref);
        const after = await waitNotRunning(ctx.paths, rec.Id, -1, ctx.gone);
        if (ctx.gone?.aborted) return CALLER_GONE;
        // Removed by --rm while we waited: Docker's wait still prints the code; here it comes
        // from the container's last `die` event.
        const exitCode = after?.State.ExitCode ?? lastExitCode(ctx.paths, rec.Id) ?? 0;
        ctx.stdout.write(`${exitCode}\n`);
        if (bool(p, 'report') && after?.Outcome) ctx.stderr.write(formatReport(after.Outcome));
      } catch (err) {
        if (!(err instanceof BerthError)) throw err;
        ctx.stderr.write(`berth: ${err.message}\n`);
        code = 1;
      }
    }
    return code;
  },
};
