/**
 * `berth run [OPTIONS] [IMAGE|host] [--] COMMAND [ARG...]`: create and start a container. In the
 * foreground it waits, passes signals on, tells how the container ended when a signal or the OOM
 * killer ended it (`--report`: the whole outcome table on stderr) and exits with its code. With
 * -d it prints the id and leaves the container to its monitor.
 */
import { bool, str } from '../args.js';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../../engine/detach-keys.js';
import { createEngineContainer } from '../../engine/create.js';
import { launch, startFailureCode } from '../../engine/launch.js';
import { startDetached } from '../../engine/monitor.js';
import { formatReport } from '../../engine/report.js';
import { requestFromFlags } from '../../engine/flags.js';
import { EngineStore } from '../../engine/store.js';
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
    const rec = await createEngineContainer(ctx.paths, req, ctx.warn, pullOutput(ctx.stderr), ctx.caller);
    const store = new EngineStore(ctx.paths);
    if (bool(p, 'detach')) {
      try {
        await startDetached(ctx.paths, rec.Id, undefined, undefined, ctx.caller.cgroupOf);
      } catch (err) {
        if (rec.HostConfig.AutoRemove) store.remove(rec);
        throw err;
      }
      ctx.stdout.write(`${rec.Id}\n`);
      return 0;
    }
    let launched;
    try {
      // Docker: the detach keys work with -i -t on a terminal.
      const detachKeys = rec.Config.Tty && rec.Config.OpenStdin && ctx.stdin.isTTY ? keys : undefined;
      launched = await launch(ctx.paths, rec.Id, {
        stdio: containerStdio(ctx, [rec.Config.OpenStdin || rec.Config.Tty, true, true]), warn: ctx.warn, detachKeys, launcher: ctx.launch,
        cgroupOf: ctx.caller.cgroupOf,
      });
    } catch (err) {
      if (rec.HostConfig.AutoRemove) store.remove(rec);
      ctx.stderr.write(`berth: ${(err as Error).message}\n`);
      return startFailureCode(err);
    }
    const report = await waitForeground(launched, ctx.signals);
    if (!report) return 0; // detached: the container goes on in the background
    if (bool(p, 'report')) ctx.stderr.write(formatReport(report));
    else if (report.signal) ctx.stderr.write(`berth: container ${rec.Name} ${report.summary}\n`);
    return report.exitCode;
  },
};
