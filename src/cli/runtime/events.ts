/**
 * `berth-runtime events [--stats] [--interval 5s] ID`: container events as JSON lines, like
 * runc's: `{"type":"stats","id":…,"data":{…}}` every interval, `{"type":"oom","id":…}` when the
 * OOM killer strikes. `--stats` prints the stats once and exits.
 */
import { bool, str } from '../args.js';
import { openContainer } from '../../runtime/lifecycle.js';
import { BerthError } from '../../util/errors.js';
import { runcStats } from '../../runtime/stats.js';
import type { Command } from './context.js';

/** Parse a Go-style duration (`5s`, `500ms`, `1m`) into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new BerthError('EINVALID_ARG', `invalid duration ${JSON.stringify(text)}: use e.g. 500ms, 5s, 1m`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  const ms = Number(m[1]) * unit;
  if (ms <= 0) throw new BerthError('EINVALID_ARG', `duration ${text} must be greater than 0`);
  return ms;
}

export const events: Command = {
  name: 'events',
  usage: 'events [command options] <container-id>',
  summary: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics',
  flags: [
    { name: 'interval', type: 'string', help: 'set the stats collection interval (default: 5s)' },
    { name: 'stats', type: 'bool', help: 'display the container\'s stats then exit' },
  ],
  args: [1, 1],
  // The stream runs until the container stops: not a request for the shared runtime server.
  coldOnly: (p) => !bool(p, 'stats'),
  async run(ctx, p) {
    const id = p.positional[0]!;
    const interval = parseDuration(str(p, 'interval') ?? '5s');
    const c = await openContainer(ctx.root, id);
    c.release();
    if (c.status === 'stopped') throw new BerthError('EBAD_STATE', `container ${id} is not running`);
    const cgroup = c.cgroup;
    if (!cgroup) throw new BerthError('EBAD_STATE', `container ${id} has no cgroup`);
    const emit = (o: object) => ctx.out(JSON.stringify(o) + '\n');
    if (bool(p, 'stats')) {
      emit({ type: 'stats', id, data: runcStats(await cgroup.stats()) });
      return 0;
    }
    return new Promise<number>((resolve) => {
      const stopOom = cgroup.watchOom(() => emit({ type: 'oom', id }));
      const timer = setInterval(async () => {
        if (!cgroup.exists()) {
          clearInterval(timer);
          stopOom();
          resolve(0);
          return;
        }
        try {
          emit({ type: 'stats', id, data: runcStats(await cgroup.stats()) });
        } catch (err) {
          ctx.warn(`stats of ${id}: ${(err as Error).message}`);
        }
      }, interval);
    });
  },
};
