/**
 * `berth attach [--no-stdin] [--sig-proxy=false] CONTAINER`: attach to a detached container's
 * output (its log, from now on) and, if it was started with -i, its stdin; signals sent to berth
 * go to the container. Exits with the container's exit code when it stops.
 */
import { createWriteStream, openSync } from 'node:fs';
import { bool } from '../args.js';
import { findContainer, refresh } from '../../engine/containers.js';
import { killEngineContainer } from '../../engine/launch.js';
import { readLog } from '../../engine/logs.js';
import { EngineStore } from '../../engine/store.js';
import { BerthError } from '../../util/errors.js';
import type { Command } from './context.js';

const PROXIED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export const attach: Command = {
  name: 'attach',
  aliases: ['container attach'],
  usage: 'attach [OPTIONS] CONTAINER',
  summary: 'attach local standard input, output, and error streams to a running container',
  flags: [
    { name: 'no-stdin', type: 'bool', help: 'do not attach stdin' },
    { name: 'sig-proxy', type: 'bool', help: 'proxy all received signals to the process (default true)' },
  ],
  args: [1, 1],
  async run(ctx, p) {
    const rec = await findContainer(ctx.paths, p.positional[0]!);
    if (!rec.State.Running) throw new BerthError('EBAD_STATE', 'you cannot attach to a stopped container, start it first');
    if (rec.Monitor?.kind !== 'helper') throw new BerthError('EBAD_STATE', `container ${rec.Name} runs in the foreground of another berth command: attach works for detached containers`);
    const store = new EngineStore(ctx.paths);
    if (rec.Config.OpenStdin && !bool(p, 'no-stdin')) {
      // The container holds the fifo open for reading, so opening it for writing does not block.
      const out = createWriteStream('', { fd: openSync(store.stdinPath(rec.Id), 'w') });
      out.on('error', () => undefined);
      // With a tty the container's pty does the line editing and turns ^C into SIGINT.
      if (rec.Config.Tty && process.stdin.isTTY) process.stdin.setRawMode(true);
      process.stdin.pipe(out);
    }
    const proxy = p.flags['sig-proxy'] !== false;
    const forward = (sig: NodeJS.Signals) => { void killEngineContainer(ctx.paths, rec.Id, sig, 'berth attach').catch(() => undefined); };
    if (proxy) for (const sig of PROXIED) process.on(sig, forward);
    await readLog(store.logPath(rec.Id), {
      tail: 0, follow: true,
      done: async () => {
        const r = store.load(rec.Id);
        return !r || !(await refresh(ctx.paths, r))?.State.Running;
      },
    }, (e) => { (e.stream === 'stderr' ? process.stderr : process.stdout).write(e.log); });
    if (proxy) for (const sig of PROXIED) process.off(sig, forward);
    if (rec.Config.Tty && process.stdin.isTTY) process.stdin.setRawMode(false);
    process.stdin.unpipe();
    process.stdin.destroy();
    const after = store.load(rec.Id);
    return after?.State.ExitCode ?? rec.Outcome?.exitCode ?? 0;
  },
};
