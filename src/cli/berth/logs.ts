/**
 * `berth logs [-f] [--tail N] [-t] [--since T] [--until T] CONTAINER`: the output of a detached
 * container (its json-file log), stdout entries on stdout and stderr entries on stderr.
 */
import { bool, str } from '../args.js';
import { findContainer, refresh } from '../../engine/containers.js';
import { fixedNanos, parseTimeArg, readLog } from '../../engine/logs.js';
import { EngineStore } from '../../engine/store.js';
import { BerthError } from '../../util/errors.js';
import { CALLER_GONE, type Command } from './context.js';

export const logs: Command = {
  name: 'logs',
  aliases: ['container logs'],
  usage: 'logs [OPTIONS] CONTAINER',
  summary: 'fetch the logs of a container',
  warm: () => true,
  flags: [
    { name: 'follow', aliases: ['f'], type: 'bool', help: 'follow log output' },
    { name: 'tail', aliases: ['n'], type: 'string', help: 'number of lines to show from the end of the logs (default "all")' },
    { name: 'timestamps', aliases: ['t'], type: 'bool', help: 'show timestamps' },
    { name: 'since', type: 'string', help: 'show logs since a timestamp (2013-01-02T13:23:37Z) or relative (42m)' },
    { name: 'until', type: 'string', help: 'show logs before a timestamp or relative (42m)' },
    { name: 'details', type: 'bool', help: 'show extra details (accepted, no extra attributes here)' },
  ],
  args: [1, 1],
  async run(ctx, p) {
    const rec = await findContainer(ctx.paths, p.positional[0]!);
    const store = new EngineStore(ctx.paths);
    const tailText = str(p, 'tail') ?? 'all';
    if (tailText !== 'all' && !/^-?\d+$/.test(tailText)) throw new BerthError('EINVALID_ARG', `invalid value for --tail ${JSON.stringify(tailText)}: a number or "all"`);
    const tail = tailText === 'all' || Number(tailText) < 0 ? undefined : Number(tailText);
    const since = str(p, 'since');
    const until = str(p, 'until');
    const stamps = bool(p, 'timestamps');
    await readLog(store.logPath(rec.Id), {
      tail,
      since: since !== undefined ? parseTimeArg(since, 'since') : undefined,
      until: until !== undefined ? parseTimeArg(until, 'until') : undefined,
      follow: bool(p, 'follow'),
      signal: ctx.gone,
      done: async () => {
        const r = store.load(rec.Id);
        return !r || !(await refresh(ctx.paths, r))?.State.Running;
      },
    }, (e) => {
      const text = stamps ? `${fixedNanos(e.time)} ${e.log}` : e.log;
      (e.stream === 'stderr' ? ctx.stderr : ctx.stdout).write(text);
    });
    return ctx.gone?.aborted ? CALLER_GONE : 0;
  },
};
