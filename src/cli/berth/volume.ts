/**
 * `berth volume create|ls|inspect|rm|prune`: Docker's volume commands and flags over
 * engine/volumes.ts. `prune` follows today's docker CLI (23 and later): anonymous volumes only,
 * named ones too with --all.
 */
import { bool, list, str } from '../args.js';
import { formatTable } from '../table.js';
import { createVolume, inspectVolume, matchesVolumeFilters, pruneVolumes, removeVolume, VOLUME_FILTERS, volumeUsers, listVolumes } from '../../engine/volumes.js';
import { BerthError } from '../../util/errors.js';
import type { Command } from './context.js';
import { isTableFormat, printInspect, renderTemplate, tableTemplate } from './format.js';
import { humanSize } from './image-output.js';
import { confirm, filterMap, keyValues, labelFilters } from './options.js';

export const volumeCreate: Command = {
  name: 'volume create',
  aliases: ['volume create'],
  usage: 'volume create [OPTIONS] [VOLUME]',
  summary: 'create a volume',
  warm: () => true,
  flags: [
    { name: 'driver', aliases: ['d'], type: 'string', help: 'volume driver name (local)' },
    { name: 'label', type: 'list', help: 'set metadata for a volume' },
    { name: 'opt', aliases: ['o'], type: 'list', help: 'set driver specific options (none are supported yet)' },
    { name: 'name', type: 'string', help: 'the volume\'s name (as the argument)' },
  ],
  args: [0, 1],
  async run(ctx, p) {
    const name = p.positional[0] ?? str(p, 'name');
    if (p.positional[0] && str(p, 'name') && str(p, 'name') !== p.positional[0]) {
      throw new BerthError('EINVALID_ARG', `conflicting options: either specify --name or provide positional arg, not both (${str(p, 'name')} and ${p.positional[0]})`);
    }
    const v = await createVolume(ctx.paths, { ...(name ? { name } : {}), ...(str(p, 'driver') ? { driver: str(p, 'driver') } : {}),
      labels: keyValues(list(p, 'label'), '--label'), options: keyValues(list(p, 'opt'), '--opt', true) });
    ctx.stdout.write(`${v.Name}\n`);
    return 0;
  },
};

export const volumeLs: Command = {
  name: 'volume ls',
  aliases: ['volume ls', 'volume list'],
  usage: 'volume ls [OPTIONS]',
  summary: 'list volumes',
  warm: () => true,
  flags: [
    { name: 'quiet', aliases: ['q'], type: 'bool', help: 'only display volume names' },
    { name: 'format', type: 'string', help: 'format output using a go template or json' },
    { name: 'filter', aliases: ['f'], type: 'list', help: `provide filter values (${VOLUME_FILTERS.map((f) => `${f}=`).join(', ')})` },
  ],
  args: [0, 0],
  async run(ctx, p) {
    const filters = filterMap(list(p, 'filter'), VOLUME_FILTERS);
    const users = volumeUsers(ctx.paths);
    const vols = (await listVolumes(ctx.paths)).filter((v) => matchesVolumeFilters(v, users.get(v.Name)?.length ?? 0, filters));
    const format = str(p, 'format');
    // The fields docker volume ls --format knows.
    const row = (v: (typeof vols)[number]) => ({ ...v, Links: String(users.get(v.Name)?.length ?? 0), Size: 'N/A',
      Labels: Object.entries(v.Labels ?? {}).map(([k, x]) => `${k}=${x}`).join(',') });
    if (bool(p, 'quiet')) ctx.stdout.write(vols.map((v) => `${v.Name}\n`).join(''));
    else if (format === 'json') ctx.stdout.write(vols.map((v) => `${JSON.stringify(row(v))}\n`).join(''));
    else if (format && format !== 'table' && isTableFormat(format)) ctx.stdout.write(tableTemplate(format, { headers: { Name: 'VOLUME NAME' } }).render(vols.map(row)));
    else if (format && format !== 'table') ctx.stdout.write(vols.map((v) => `${renderTemplate(format, row(v))}\n`).join(''));
    else ctx.stdout.write(formatTable([['DRIVER', 'VOLUME NAME'], ...vols.map((v) => [v.Driver, v.Name])], 10, 4));
    return 0;
  },
};

export const volumeInspect: Command = {
  name: 'volume inspect',
  aliases: ['volume inspect'],
  usage: 'volume inspect [OPTIONS] VOLUME [VOLUME...]',
  summary: 'display detailed information on one or more volumes',
  warm: () => true,
  flags: [{ name: 'format', aliases: ['f'], type: 'string', help: 'format output using a go template or json' }],
  args: [1, -1],
  async run(ctx, p) {
    return printInspect(ctx, p.positional, (name) => inspectVolume(ctx.paths, name), str(p, 'format'));
  },
};

export const volumeRm: Command = {
  name: 'volume rm',
  aliases: ['volume rm', 'volume remove'],
  usage: 'volume rm [OPTIONS] VOLUME [VOLUME...]',
  summary: 'remove one or more volumes (never one a container uses)',
  warm: () => true,
  flags: [{ name: 'force', aliases: ['f'], type: 'bool', help: 'do not fail on a volume that does not exist' }],
  args: [1, -1],
  async run(ctx, p) {
    let code = 0;
    for (const name of p.positional) {
      try {
        await removeVolume(ctx.paths, name, bool(p, 'force'));
        ctx.stdout.write(`${name}\n`);
      } catch (err) {
        if (!(err instanceof BerthError)) throw err;
        ctx.stderr.write(`berth: ${err.message}\n`);
        code = 1;
      }
    }
    return code;
  },
};

export const volumePrune: Command = {
  name: 'volume prune',
  aliases: ['volume prune'],
  usage: 'volume prune [OPTIONS]',
  summary: 'remove unused anonymous volumes (with --all, unused named ones too)',
  warm: (p) => bool(p, 'force'),
  flags: [
    { name: 'all', aliases: ['a'], type: 'bool', help: 'remove all unused volumes, not just anonymous ones' },
    { name: 'force', aliases: ['f'], type: 'bool', help: 'do not prompt for confirmation' },
    { name: 'filter', type: 'list', help: 'provide filter values (label=KEY[=VALUE])' },
  ],
  args: [0, 0],
  async run(ctx, p) {
    const labels = labelFilters(list(p, 'filter'));
    const all = bool(p, 'all');
    if (!bool(p, 'force') && !(await confirm(ctx, `This will remove ${all ? 'all local volumes' : 'anonymous local volumes'} not used by at least one container.`))) return 0;
    const { names, bytes } = await pruneVolumes(ctx.paths, { labels, anonymousOnly: !all });
    if (names.length) ctx.stdout.write(`Deleted Volumes:\n${names.map((n) => `${n}\n`).join('')}\n`);
    ctx.stdout.write(`Total reclaimed space: ${humanSize(bytes)}\n`);
    return 0;
  },
};
