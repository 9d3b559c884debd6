/**
 * `berth run [OPTIONS] [IMAGE|host] [--] COMMAND [ARG...]`: create and start a container. In the
 * foreground it waits, passes signals on, tells how the container ended when a signal or the OOM
 * killer ended it (`--report`: the whole outcome table on stderr) and exits with its code. With
 * -d it prints the id and leaves the container to its monitor.
 */
import { bool, str } from '../args.js';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../../engine/detach-keys.js';
import { launch } from '../../engine/launch.js';
import { startDetached } from '../../engine/monitor.js';
import { formatReport } from '../../engine/report.js';
import { requestFromFlags } from '../../engine/flags.js';
import { createAndStart } from '../../engine/run.js';
import { pullOutput } from './image-output.js';
import { containerStdio } from '../io.js';
import type { Command } from './context.js';
import { CREATE_FLAGS, imageAndCommand, waitForeground } from './run-flags.js';

export const run: Command = {
  name: 'run',
  aliases: ['container run'],
  usage: 'run [OPTIONS] [IMAGE|host] [--] COMMAND [ARG...]',
  summary: 'create and run a new container',
  warm: (p) => !bool(p, 'interactive') && !bool(p, 'tty'),
  flags: [
    ...CREATE_FLAGS,
    { name: 'detach', aliases: ['d'], type: 'bool', help: 'run the container in the background and print its id' },
    { name: 'report', type: 'bool', help: 'print what happened (exit, OOM kill, cpu, memory and pids peaks) on stderr' },
    { name: 'detach-keys', type: 'string', help: 'override the key sequence for detaching a container (default "ctrl-p,ctrl-q")' },
  ],
  args: [0, -1],
  stopAtPositional: true,
  async run(ctx, p) {
    const { image, cmd } = imageAndCommand(ctx.argv, p);
    const keys = parseDetachKeys(str(p, 'detach-keys') ?? DEFAULT_DETACH_KEYS);
    const req = requestFromFlags(p.flags, image, cmd, ctx);
    const created = { warn: ctx.warn, pullOutput: pullOutput(ctx.stderr), caller: ctx.caller };
    if (bool(p, 'detach')) {
      const r = await createAndStart(ctx.paths, req, (rec) => startDetached(ctx.paths, rec.Id, undefined, undefined, ctx.caller.cgroupOf), created);
      if (r.failed) throw r.failed.error;
      ctx.stdout.write(`${r.rec.Id}\n`);
      return 0;
    }
    const r = await createAndStart(ctx.paths, req, (rec) => {
      // Docker: the detach keys work with -i -t on a terminal.
      const detachKeys = rec.Config.Tty && rec.Config.OpenStdin && ctx.stdin.isTTY ? keys : undefined;
      return launch(ctx.paths, rec.Id, {
        stdio: containerStdio(ctx, [rec.Config.OpenStdin || rec.Config.Tty, true, true]), warn: ctx.warn, detachKeys, launcher: ctx.launch,
        cgroupOf: ctx.caller.cgroupOf,
      });
    }, created);
    if (r.failed) {
      ctx.stderr.write(`berth: ${(r.failed.error as Error).message}\n`);
      return r.failed.exitCode;
    }
    const { rec, started: launched } = r;
    const report = await waitForeground(launched, ctx.signals);
    if (!report) return 0; // detached: the container goes on in the background
    if (bool(p, 'report')) ctx.stderr.write(formatReport(report));
    else if (report.signal) ctx.stderr.write(`berth: container ${rec.Name} ${report.summary}\n`);
    return report.exitCode;
  },
};
