/** `berth-runtime list [--format table|json] [-q]`: the containers under --root. */
import { bool, str } from '../args.js';
import { formatTable } from '../table.js';
import { listContainers } from '../../runtime/lifecycle.js';
import { BerthError } from '../../util/errors.js';
import type { Command } from './context.js';

export const list: Command = {
  name: 'list',
  usage: 'list [command options]',
  summary: 'lists containers started by berth-runtime with the given root',
  flags: [
    { name: 'format', aliases: ['f'], type: 'string', help: 'select one of: table or json (default: "table")' },
    { name: 'quiet', aliases: ['q'], type: 'bool', help: 'display only container IDs' },
  ],
  args: [0, 0],
  async run(ctx, p) {
    const all = await listContainers(ctx.root);
    if (bool(p, 'quiet')) {
      for (const c of all) ctx.out(c.id + '\n');
      return 0;
    }
    const format = str(p, 'format') ?? 'table';
    if (format === 'json') {
      ctx.out(JSON.stringify(all.length ? all : null) + '\n');
      return 0;
    }
    if (format !== 'table') throw new BerthError('EINVALID_ARG', `invalid format option ${JSON.stringify(format)}: use table or json`);
    const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
    for (const c of all) rows.push([c.id, String(c.pid ?? 0), c.status, c.bundle, c.created, c.owner || 'root']);
    ctx.out(formatTable(rows));
    return 0;
  },
};
