/**
 * `berth system df [-v]` (disk usage by images, containers, local volumes and build cache, in
 * Docker's table) and `berth system prune [-a] [--volumes] [-f]`, over engine/df.ts.
 */
import { bool, list } from '../args.js';
import { formatTable } from '../table.js';
import { diskUsage, pruneSystem } from '../../engine/df.js';
import { statusText } from '../../engine/status.js';
import { familiarName, parseReference } from '../../image/reference.js';
import type { Command } from './context.js';
import { humanSize, imageOptions } from './image-output.js';
import { confirm, labelFilters } from './options.js';

const pct = (part: number, whole: number): string => (whole ? ` (${Math.round((part / whole) * 100)}%)` : '');

export const systemDf: Command = {
  name: 'system df',
  aliases: ['system df'],
  usage: 'system df [OPTIONS]',
  summary: 'show disk usage',
  warm: () => true,
  flags: [{ name: 'verbose', aliases: ['v'], type: 'bool', help: 'show detailed information on space usage' }],
  args: [0, 0],
  async run(ctx, p) {
    const du = await diskUsage(ctx.paths, imageOptions(ctx));
    const activeImages = du.images.filter((i) => i.containers > 0).length;
    const cSize = du.containers.reduce((n, c) => n + c.size, 0);
    const cReclaim = du.containers.filter((c) => !c.record.State.Running).reduce((n, c) => n + c.size, 0);
    const vSize = du.volumes.reduce((n, v) => n + v.size, 0);
    const vReclaim = du.volumes.filter((v) => v.refCount === 0).reduce((n, v) => n + v.size, 0);
    if (!bool(p, 'verbose')) {
      ctx.stdout.write(formatTable([
        ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'],
        ['Images', String(du.images.length), String(activeImages), humanSize(du.layersSize), `${humanSize(du.imagesReclaimable)}${pct(du.imagesReclaimable, du.layersSize)}`],
        ['Containers', String(du.containers.length), String(du.containers.filter((c) => c.record.State.Running).length), humanSize(cSize), `${humanSize(cReclaim)}${pct(cReclaim, cSize)}`],
        ['Local Volumes', String(du.volumes.length), String(du.volumes.filter((v) => v.refCount > 0).length), humanSize(vSize), `${humanSize(vReclaim)}${pct(vReclaim, vSize)}`],
        ['Build Cache', '0', '0', '0B', '0B'],
      ], 10, 3));
      return 0;
    }
    ctx.stdout.write('Images space usage:\n\n');
    ctx.stdout.write(formatTable([['REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS'],
      ...du.images.flatMap((i) => (i.image.names.length ? i.image.names : ['']).map((n) => {
        const r = n ? parseReference(n) : undefined;
        return [r ? familiarName({ ...r, tag: undefined, digest: undefined }) : '<none>', r?.tag ?? '<none>', i.image.id.slice(7, 19), humanSize(i.size), humanSize(i.sharedSize), humanSize(i.size - i.sharedSize), String(i.containers)];
      }))], 10, 3));
    ctx.stdout.write('\nContainers space usage:\n\n');
    ctx.stdout.write(formatTable([['CONTAINER ID', 'IMAGE', 'COMMAND', 'LOCAL VOLUMES', 'SIZE', 'STATUS', 'NAMES'],
      ...du.containers.map(({ record: r, size }) => [r.Id.slice(0, 12), r.Config.Image || 'host', JSON.stringify([r.Path, ...r.Args].join(' ').slice(0, 20)),
        String((r.MountPoints ?? []).filter((m) => m.Type === 'volume').length), humanSize(size), statusText(r), r.Name])], 10, 3));
    ctx.stdout.write('\nLocal Volumes space usage:\n\n');
    ctx.stdout.write(formatTable([['VOLUME NAME', 'LINKS', 'SIZE'], ...du.volumes.map((v) => [v.volume.Name, String(v.refCount), humanSize(v.size)])], 10, 3));
    ctx.stdout.write('\nBuild cache usage: 0B\n');
    return 0;
  },
};

export const systemPrune: Command = {
  name: 'system prune',
  aliases: ['system prune'],
  usage: 'system prune [OPTIONS]',
  summary: 'remove unused data (stopped containers, unused networks, dangling images; --volumes: anonymous volumes)',
  warm: (p) => bool(p, 'force'),
  flags: [
    { name: 'all', aliases: ['a'], type: 'bool', help: 'remove all unused images, not just dangling ones' },
    { name: 'volumes', type: 'bool', help: 'prune anonymous volumes' },
    { name: 'force', aliases: ['f'], type: 'bool', help: 'do not prompt for confirmation' },
    { name: 'filter', type: 'list', help: 'provide filter values (label=KEY[=VALUE])' },
  ],
  args: [0, 0],
  async run(ctx, p) {
    const labels = labelFilters(list(p, 'filter'));
    const all = bool(p, 'all');
    const volumes = bool(p, 'volumes');
    if (!bool(p, 'force')) {
      const what = ['all stopped containers', 'all networks not used by at least one container',
        ...(volumes ? ['all anonymous volumes not used by at least one container'] : []),
        all ? 'all images without at least one container associated to them' : 'all dangling images'];
      if (!(await confirm(ctx, `This will remove:\n${what.map((w) => `  - ${w}\n`).join('')}`))) return 0;
    }
    const r = await pruneSystem(ctx.paths, imageOptions(ctx), { all, volumes, labels });
    const section = (title: string, items: string[]) => { if (items.length) ctx.stdout.write(`${title}:\n${items.map((i) => `${i}\n`).join('')}\n`); };
    section('Deleted Containers', r.containers);
    section('Deleted Networks', r.networks);
    section('Deleted Volumes', r.volumes);
    section('Deleted Images', r.images);
    ctx.stdout.write(`Total reclaimed space: ${humanSize(r.bytes)}\n`);
    return 0;
  },
};

/** `berth system SUBCOMMAND` for a subcommand Berth does not have: say which it has. */
export const system: Command = {
  name: 'system',
  usage: 'system df|prune|events|info|service',
  summary: 'manage berth',
  warm: () => true,
  flags: [],
  args: [0, -1],
  async run(ctx, p) {
    ctx.stderr.write(`berth: unknown command "system${p.positional[0] ? ` ${p.positional[0]}` : ''}": supported: system df, system prune, system events, system info, system service\n`);
    return 1;
  },
};
