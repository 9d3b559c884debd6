/**
 * `berth attach [--no-stdin] [--sig-proxy=false] [--detach-keys KEYS] CONTAINER`: attach to a
 * detached container's output (its log, from now on) and, if it was started with -i, its stdin.
 * Like `docker attach`: with a tty the detach keys (default ctrl-p,ctrl-q) leave the container
 * running and exit 0, the terminal's size follows this terminal's, and signals are not proxied
 * (the pty turns ^C into SIGINT); without a tty signals sent to berth go to the container
 * (--sig-proxy, default true). When stdin ends, a container with StdinOnce (`create -i`) gets
 * end-of-file on its stdin. Exits with the container's exit code when it stops.
 */
import { bool, str } from '../args.js';
import { openStdinWriter, resizeDetached, type StdinWriter } from '../../engine/attach.js';
import { findContainer, refresh } from '../../engine/containers.js';
import { DEFAULT_DETACH_KEYS, DetachFilter, parseDetachKeys } from '../../engine/detach-keys.js';
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
    { name: 'detach-keys', type: 'string', help: 'override the key sequence for detaching a container (default "ctrl-p,ctrl-q")' },
  ],
  args: [1, 1],
  async run(ctx, p) {
    const keys = parseDetachKeys(str(p, 'detach-keys') ?? DEFAULT_DETACH_KEYS);
    const rec = await findContainer(ctx.paths, p.positional[0]!);
    if (!rec.State.Running) throw new BerthError('EBAD_STATE', 'you cannot attach to a stopped container, start it first');
    if (rec.Monitor?.kind !== 'helper') throw new BerthError('EBAD_STATE', `container ${rec.Name} runs in the foreground of another berth command: attach works for detached containers`);
    const store = new EngineStore(ctx.paths);
    const tty = rec.Config.Tty;
    let detached = false;
    let stdin: StdinWriter | undefined;
    const raw = tty && ctx.stdin.isTTY;
    // The caller's stdin, read here (attach is never served warm: Command.warm is absent).
    const input = rec.Config.OpenStdin && !bool(p, 'no-stdin') ? ctx.stdin.stream() : undefined;
    if (input) {
      stdin = await openStdinWriter(ctx.paths, rec.Id);
      // With a tty the container's pty does the line editing and turns ^C into SIGINT.
      if (raw) input.setRawMode?.(true);
      // Docker watches for the detach keys only with a tty.
      const filter = tty ? new DetachFilter(keys) : undefined;
      input.on('data', (chunk: Buffer) => {
        if (detached) return;
        const { pass, detach } = filter ? filter.push(chunk) : { pass: chunk, detach: false };
        if (pass.length) stdin?.write(pass);
        if (detach) detached = true;
      });
      input.on('end', () => { void stdin?.end(); });
    }
    const resize = () => { void resizeDetached(ctx.paths, rec, ctx.stdout.rows ?? 0, ctx.stdout.columns ?? 0).catch(() => undefined); };
    if (tty && ctx.stdout.isTTY) {
      resize();
      ctx.stdout.on('resize', resize);
    }
    // Docker proxies signals only without a tty (with one, ^C reaches the pty as a byte).
    const proxy = bool(p, 'sig-proxy', true) && !tty;
    const forward = (sig: NodeJS.Signals) => { void killEngineContainer(ctx.paths, rec.Id, sig, 'berth attach').catch(() => undefined); };
    const unproxy = proxy ? PROXIED.map((sig) => ctx.signals.on(sig, forward)) : [];
    await readLog(store.logPath(rec.Id), {
      tail: 0, follow: true,
      done: async () => {
        if (detached) return true;
        const r = store.load(rec.Id);
        return !r || !(await refresh(ctx.paths, r))?.State.Running;
      },
    }, (e) => { if (!detached) (e.stream === 'stderr' ? ctx.stderr : ctx.stdout).write(e.log); });
    for (const off of unproxy) off();
    ctx.stdout.removeListener('resize', resize);
    if (raw && stdin) input?.setRawMode?.(false);
    (input as { destroy?: () => void } | undefined)?.destroy?.();
    await stdin?.end();
    if (detached) {
      // Docker's message; the container goes on, the attach ends successfully.
      ctx.stderr.write('read escape sequence\n');
      return 0;
    }
    const after = store.load(rec.Id);
    return after?.State.ExitCode ?? rec.Outcome?.exitCode ?? 0;
  },
};
