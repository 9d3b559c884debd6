/**
 * `berth network create|ls|inspect|rm|prune|connect|disconnect`: Docker's network commands and
 * flags over engine/networks.ts.
 */
import { bool, list, str } from '../args.js';
import { formatTable } from '../table.js';
import { connectContainer, createNetwork, disconnectContainer, inspectNetwork, listNetworks, matchesNetworkFilters, NETWORK_FILTERS, pruneNetworks, removeNetwork } from '../../engine/networks.js';
import { BerthError } from '../../util/errors.js';
import type { Command } from './context.js';
import { filterMap, keyValues, labelFilters } from './options.js';
import { isTableFormat, printInspect, renderTemplate, tableTemplate } from './format.js';

export const networkCreate: Command = {
  name: 'network create',
  aliases: ['network create'],
  usage: 'network create [OPTIONS] NETWORK',
  summary: 'create a network',
  warm: () => true,
  flags: [
    { name: 'driver', aliases: ['d'], type: 'string', help: 'driver to manage the network (bridge)' },
    { name: 'subnet', type: 'list', help: 'subnet in CIDR format that represents a network segment' },
    { name: 'gateway', type: 'list', help: 'IPv4 gateway for the master subnet' },
    { name: 'ip-range', type: 'list', help: 'allocate container ips from a sub-range' },
    { name: 'internal', type: 'bool', help: 'restrict external access to the network' },
    { name: 'label', type: 'list', help: 'set metadata on a network' },
    { name: 'opt', aliases: ['o'], type: 'list', help: 'set driver specific options (com.docker.network.bridge.name, com.docker.network.driver.mtu)' },
  ],
  args: [1, 1],
  async run(ctx, p) {
    const one = (k: string) => {
      const v = list(p, k);
      if (v.length > 1) throw new BerthError('EUNSUPPORTED', `--${k} given ${v.length} times: Berth's networks have one IPv4 subnet`);
      return v[0];
    };
    const n = await createNetwork(ctx.paths, {
      name: p.positional[0]!, driver: str(p, 'driver'), subnet: one('subnet'), gateway: one('gateway'), ipRange: one('ip-range'),
      internal: bool(p, 'internal'), labels: keyValues(list(p, 'label'), '--label'), options: keyValues(list(p, 'opt'), '--opt', true),
    });
    ctx.stdout.write(`${n.Id}\n`);
    return 0;
  },
};

export const networkLs: Command = {
  name: 'network ls',
  aliases: ['network ls', 'network list'],
  usage: 'network ls [OPTIONS]',
  summary: 'list networks',
  warm: () => true,
  flags: [
    { name: 'quiet', aliases: ['q'], type: 'bool', help: 'only display network ids' },
    { name: 'no-trunc', type: 'bool', help: 'do not truncate the output' },
    { name: 'format', type: 'string', help: 'format output using a go template or json' },
    { name: 'filter', aliases: ['f'], type: 'list', help: 'provide filter values (driver=, id=, label=KEY[=VALUE], name=, scope=, type=custom|builtin)' },
  ],
  args: [0, 0],
  async run(ctx, p) {
    const filters = filterMap(list(p, 'filter'), NETWORK_FILTERS);
    const nets = (await listNetworks(ctx.paths)).filter((n) => matchesNetworkFilters(n, filters));
    const id = (s: string) => (bool(p, 'no-trunc') ? s : s.slice(0, 12));
    const format = str(p, 'format');
    if (bool(p, 'quiet')) ctx.stdout.write(nets.map((n) => `${id(n.ID)}\n`).join(''));
    else if (format === 'json') ctx.stdout.write(nets.map((n) => `${JSON.stringify({ ...n, ID: id(n.ID) })}\n`).join(''));
    else if (format && format !== 'table' && isTableFormat(format)) ctx.stdout.write(tableTemplate(format, { headers: { ID: 'NETWORK ID' } }).render(nets.map((n) => ({ ...n, ID: id(n.ID) }))));
    else if (format && format !== 'table') ctx.stdout.write(nets.map((n) => `${renderTemplate(format, { ...n, ID: id(n.ID) })}\n`).join(''));
    else ctx.stdout.write(formatTable([['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], ...nets.map((n) => [id(n.ID), n.Name, n.Driver, n.Scope])], 10, 3));
    return 0;
  },
};

export const networkInspect: Command = {
  name: 'network inspect',
  aliases: ['network inspect'],
  usage: 'network inspect [OPTIONS] NETWORK [NETWORK...]',
  summary: 'display detailed information on one or more networks',
  warm: () => true,
  flags: [{ name: 'format', aliases: ['f'], type: 'string', help: 'format output using a go template or json' }],
  args: [1, -1],
  async run(ctx, p) {
    return printInspect(ctx, p.positional, (ref) => inspectNetwork(ctx.paths, ref), str(p, 'format'));
  },
};

export const networkRm: Command = {
  name: 'network rm',
  aliases: ['network rm', 'network remove'],
  usage: 'network rm NETWORK [NETWORK...]',
  summary: 'remove one or more networks',
  warm: () => true,
  flags: [],
  args: [1, -1],
  async run(ctx, p) {
    let code = 0;
    for (const ref of p.positional) {
      try {
        await removeNetwork(ctx.paths, ref);
        ctx.stdout.write(`${ref}\n`);
      } catch (err) {
        if (!(err instanceof BerthError)) throw err;
        ctx.stderr.write(`berth: ${err.message}\n`);
        code = 1;
      }
    }
    return code;
  },
};

export const networkPrune: Command = {
  name: 'network prune',
  aliases: ['network prune'],
  usage: 'network prune [OPTIONS]',
  summary: 'remove all unused networks',
  warm: () => true,
  flags: [
    { name: 'force', aliases: ['f'], type: 'bool', help: 'do not prompt for confirmation (berth never prompts)' },
    { name: 'filter', type: 'list', help: 'provide filter values (label=KEY[=VALUE])' },
  ],
  args: [0, 0],
  async run(ctx, p) {
    const labels = labelFilters(list(p, 'filter'));
    const names = await pruneNetworks(ctx.paths, labels);
    if (names.length) ctx.stdout.write(`Deleted Networks:\n${names.map((n) => `${n}\n`).join('')}`);
    return 0;
  },
};

export const networkConnect: Command = {
  name: 'network connect',
  aliases: ['network connect'],
  usage: 'network connect [OPTIONS] NETWORK CONTAINER',
  summary: 'connect a container to a network',
  warm: () => true,
  flags: [
    { name: 'alias', type: 'list', help: 'add network-scoped alias for the container' },
    { name: 'ip', type: 'string', help: 'IPv4 address (e.g. 172.30.100.104)' },
  ],
  args: [2, 2],
  async run(ctx, p) {
    await connectContainer(ctx.paths, p.positional[0]!, p.positional[1]!, { aliases: list(p, 'alias'), ip: str(p, 'ip') });
    return 0;
  },
};

export const networkDisconnect: Command = {
  name: 'network disconnect',
  aliases: ['network disconnect'],
  usage: 'network disconnect NETWORK CONTAINER',
  summary: 'disconnect a container from a network',
  warm: () => true,
  flags: [{ name: 'force', aliases: ['f'], type: 'bool', help: 'force the container to disconnect from a network' }],
  args: [2, 2],
  async run(ctx, p) {
    await disconnectContainer(ctx.paths, p.positional[0]!, p.positional[1]!);
    return 0;
  },
};
