/**
 * `berth start [-a] [-i] [--report] CONTAINER...`: start created or stopped containers in the
 * background, each watched by the native helper (prints each name as given, like Docker). With
 * -a, one container runs attached in the foreground like `berth run`: its output on this
 * terminal, signals passed on, and its exit code (with --report, the outcome table on stderr).
 */
import { bool, str } from '../args.js';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../../engine/detach-keys.js';
import { findContainer } from '../../engine/containers.js';
import { launch } from '../../engine/launch.js';
import { startDetached } from '../../engine/monitor.js';
import { formatReport } from '../../engine/report.js';
import { BerthError } from '../../util/errors.js';
import { containerStdio } from '../io.js';
import type { Command } from './context.js';
import { eachContainer } from './each.js';
import { waitForeground } from './run-flags.js';

export const start: Command = {
  name: 'start',
  aliases: ['container start'],
  usage: 'start [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'start one or more stopped containers',
  warm: (p) => !bool(p, 'attach') && !bool(p, 'interactive'),
  flags: [
    { name: 'attach', aliases: ['a'], type: 'bool', help: 'attach stdout/stderr and forward signals' },
    { name: 'interactive', aliases: ['i'], type: 'bool', help: 'attach container\'s stdin' },
    { name: 'report', type: 'bool', help: 'with -a: print what happened (exit, OOM kill, cpu, memory and pids peaks) on stderr' },
    { name: 'detach-keys', type: 'string', help: 'override the key sequence for detaching a container (default "ctrl-p,ctrl-q")' },
  ],
  args: [1, -1],
  async run(ctx, p) {
    const keys = parseDetachKeys(str(p, 'detach-keys') ?? DEFAULT_DETACH_KEYS);
    if (!bool(p, 'attach') && !bool(p, 'interactive')) {
      return eachContainer(ctx, p.positional, async (ref) => {
        const rec = await findContainer(ctx.paths, ref);
        if (!rec.State.Running) await startDetached(ctx.paths, rec.Id, ctx.warn, undefined, ctx.caller.cgroupOf);
      });
    }
    if (p.positional.length > 1) throw new BerthError('EINVALID_ARG', 'you cannot start and attach multiple containers at once');
    const rec = await findContainer(ctx.paths, p.positional[0]!);
    if (rec.State.Running) throw new BerthError('EBAD_STATE', `container ${rec.Name} is already running: use berth attach`);
    // Docker: the detach keys work when stdin (-i) is attached to a terminal and the container has one.
    const detachKeys = rec.Config.Tty && bool(p, 'interactive') && ctx.stdin.isTTY ? keys : undefined;
    const launched = await launch(ctx.paths, rec.Id, {
      stdio: containerStdio(ctx, [bool(p, 'interactive') || rec.Config.Tty, true, true]), warn: ctx.warn, detachKeys, launcher: ctx.launch,
      cgroupOf: ctx.caller.cgroupOf,
    });
    const report = await waitForeground(launched, ctx.signals);
    if (!report) return 0; // detached: the container goes on in the background
    if (bool(p, 'report')) ctx.stderr.write(formatReport(report));
    return report.exitCode;
  },
};
