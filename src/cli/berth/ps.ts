/**
 * `berth ps [-a] [-q] [--no-trunc] [--format table|json|TEMPLATE]`: list containers as Docker does.
 */
import { bool, str } from '../args.js';
import { formatTable } from '../table.js';
import { listEngineContainers } from '../../engine/containers.js';
import type { EngineRecord } from '../../engine/store.js';
import type { Command } from './context.js';
import { publishedPorts } from '../../engine/networking.js';
import { formatPsPorts, type PortSet } from '../../network/ports.js';
import { humanDuration, isTableFormat, renderTemplate, statusText, tableTemplate } from './format.js';

/** Docker's `ps --format json` object for a container. */
export function psObject(rec: EngineRecord, noTrunc: boolean): Record<string, string> {
  const cmd = [rec.Path, ...rec.Args].join(' ');
  const command = noTrunc || cmd.length <= 20 ? `"${cmd}"` : `"${cmd.slice(0, 19)}…"`;
  return {
    Command: command,
    CreatedAt: new Date(rec.Created).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
    ID: noTrunc ? rec.Id : rec.Id.slice(0, 12),
    Image: rec.Config.Image || (rec.UserRootfs ? rec.RootPath : 'host'),
    Labels: Object.entries(rec.Config.Labels).map(([k, v]) => `${k}=${v}`).join(','),
    LocalVolumes: '0',
    Mounts: '',
    Names: rec.Name,
    Networks: rec.HostConfig.NetworkMode || 'none',
    Ports: rec.State.Running ? formatPsPorts(publishedPorts(rec), (rec.Config.ExposedPorts ?? {}) as PortSet) : '',
    RunningFor: `${humanDuration(Date.now() - Date.parse(rec.Created))} ago`,
    Size: '0B',
    State: rec.State.Status,
    Status: statusText(rec),
  };
}

export const ps: Command = {
  name: 'ps',
  aliases: ['container ls', 'container list', 'container ps'],
  usage: 'ps [OPTIONS]',
  summary: 'list containers',
  warm: () => true,
  flags: [
    { name: 'all', aliases: ['a'], type: 'bool', help: 'show all containers (default shows just running)' },
    { name: 'quiet', aliases: ['q'], type: 'bool', help: 'only display container ids' },
    { name: 'no-trunc', type: 'bool', help: 'don\'t truncate output' },
    { name: 'format', type: 'string', help: 'format output using a custom template: table, json or a go template' },
  ],
  args: [0, 0],
  async run(ctx, p) {
    const noTrunc = bool(p, 'no-trunc');
    const recs = await listEngineContainers(ctx.paths, bool(p, 'all'));
    const rows = recs.map((r) => psObject(r, noTrunc));
    const format = str(p, 'format') ?? 'table';
    if (bool(p, 'quiet')) {
      ctx.stdout.write(rows.map((r) => `${r.ID}\n`).join(''));
    } else if (format === 'json') {
      ctx.stdout.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    } else if (format === 'table') {
      const header = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'];
      ctx.stdout.write(formatTable([header, ...rows.map((r) => [r.ID!, r.Image!, r.Command!, r.RunningFor!, r.Status!, r.Ports!, r.Names!])], 10, 3));
    } else if (isTableFormat(format)) {
      // Docker's ps headers where they are not the field's name upper-cased.
      ctx.stdout.write(tableTemplate(format, { headers: { ID: 'CONTAINER ID', RunningFor: 'CREATED' } }).render(rows));
    } else {
      ctx.stdout.write(rows.map((r) => `${renderTemplate(format, r)}\n`).join(''));
    }
    return 0;
  },
};
