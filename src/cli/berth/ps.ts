/**
 * `berth ps [-a] [-q] [-s] [-n N | -l] [--filter KEY=VALUE]... [--no-trunc] [--format table|json|TEMPLATE]`:
 * list containers as Docker does (filters: engine/container-filters.ts).
 */
import { bool, int, list, str } from '../args.js';
import { CONTAINER_FILTERS, matchesContainerFilters } from '../../engine/container-filters.js';
import { writableLayerSize } from '../../engine/df.js';
import { BerthError } from '../../util/errors.js';
import { humanSize, imageOptions } from './image-output.js';
import { listImages } from '../../image/index.js';
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
    { name: 'filter', aliases: ['f'], type: 'list', help: `filter output based on conditions provided (${CONTAINER_FILTERS.map((f) => `${f}=`).join(', ')})` },
    { name: 'last', aliases: ['n'], type: 'int', help: 'show n last created containers (includes all states)' },
    { name: 'latest', aliases: ['l'], type: 'bool', help: 'show the latest created container (includes all states)' },
    { name: 'size', aliases: ['s'], type: 'bool', help: 'display total file sizes' },
  ],
  args: [0, 0],
  async run(ctx, p) {
    const noTrunc = bool(p, 'no-trunc');
    const filters: Record<string, string[]> = {};
    for (const f of list(p, 'filter')) {
      const eq = f.indexOf('=');
      if (eq <= 0) throw new BerthError('EINVALID_ARG', `invalid --filter ${JSON.stringify(f)}: use KEY=VALUE, with KEY one of ${CONTAINER_FILTERS.join(', ')}`);
      (filters[f.slice(0, eq)] ??= []).push(f.slice(eq + 1));
    }
    const last = bool(p, 'latest') ? 1 : int(p, 'last');
    // Docker: -n/-l and a status filter other than running show stopped containers too.
    const all = bool(p, 'all') || (last !== undefined && last > 0) || (filters.status ?? []).some((st) => st !== 'running');
    const every = await listEngineContainers(ctx.paths, true);
    let recs = every.filter((r) => (all || r.State.Running) && matchesContainerFilters(r, filters, every));
    if (last !== undefined && last > 0) recs = recs.slice(0, last);
    // -s: the writable layer, and Docker's "virtual" size: that plus the image's layers
    const imageSizes = bool(p, 'size') ? new Map((await listImages(imageOptions(ctx))).map((i) => [i.id as string, i.layers.reduce((n, l) => n + l.size, 0)])) : undefined;
    const rows = recs.map((r) => {
      const row = psObject(r, noTrunc);
      if (imageSizes) {
        const rw = writableLayerSize(ctx.paths, r);
        row.Size = `${humanSize(rw)} (virtual ${humanSize(rw + (r.ImageId ? imageSizes.get(r.ImageId) ?? 0 : 0))})`;
      }
      return row;
    });
    const format = str(p, 'format') ?? 'table';
    if (bool(p, 'quiet')) {
      ctx.stdout.write(rows.map((r) => `${r.ID}\n`).join(''));
    } else if (format === 'json') {
      ctx.stdout.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    } else if (format === 'table') {
      const header = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES', ...(bool(p, 'size') ? ['SIZE'] : [])];
      ctx.stdout.write(formatTable([header, ...rows.map((r) => [r.ID!, r.Image!, r.Command!, r.RunningFor!, r.Status!, r.Ports!, r.Names!, ...(bool(p, 'size') ? [r.Size!] : [])])], 10, 3));
    } else {
      // Templates also get Docker's method `.Label "key"` (the value of one label, '' when unset).
      const withLabel = rows.map((r, i) => ({ ...r, Label: (key: string) => recs[i]!.Config.Labels?.[key] ?? '' }));
      // Docker's ps headers where they are not the field's name upper-cased.
      if (isTableFormat(format)) ctx.stdout.write(tableTemplate(format, { headers: { ID: 'CONTAINER ID', RunningFor: 'CREATED' } }).render(withLabel));
      else ctx.stdout.write(withLabel.map((r) => `${renderTemplate(format, r)}\n`).join(''));
    }
    return 0;
  },
};
