/** `berth-runtime ps [--format table|json] ID [ps options]`: the processes of a container. */
import { execFileSync } from 'node:child_process';
import { str } from '../args.js';
import { containerPids } from '../../runtime/lifecycle.js';
import { BerthError } from '../../util/errors.js';
import type { Command } from './context.js';

export const ps: Command = {
  name: 'ps',
  usage: 'ps [command options] <container-id> [ps options]',
  summary: 'ps displays the processes running inside a container',
  flags: [{ name: 'format', aliases: ['f'], type: 'string', help: 'select one of: table or json (default: "table")' }],
  args: [1, -1],
  async run(ctx, p) {
    const [id, ...psArgs] = p.positional;
    const pids = await containerPids(ctx.root, id!);
    const format = str(p, 'format') ?? 'table';
    if (format === 'json') {
      ctx.out(JSON.stringify(pids) + '\n');
      return 0;
    }
    if (format !== 'table') throw new BerthError('EINVALID_ARG', `invalid format option ${JSON.stringify(format)}: use table or json`);
    // Like runc: run the host's ps and keep the header and the lines of the container's pids.
    const out = execFileSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8' });
    const lines = out.split('\n');
    const header = lines[0] ?? '';
    const pidCol = header.trim().split(/\s+/).indexOf('PID');
    if (pidCol < 0) throw new BerthError('EINVALID_ARG', `ps output has no PID column: ${header}`);
    const wanted = new Set(pids);
    const keep = lines.slice(1).filter((l) => l.trim() && wanted.has(Number(l.trim().split(/\s+/)[pidCol])));
    ctx.out([header, ...keep].join('\n') + '\n');
    return 0;
  },
};
