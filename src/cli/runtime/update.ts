/**
 * `berth-runtime update [flags] ID`: change a running container's limits, from runc's flags or
 * from `-r FILE` (a JSON linux.resources object; `-r -` reads standard input).
 */
import { readFileSync } from 'node:fs';
import type { LinuxResources } from '../../oci/spec.js';
import { int, str, type Parsed } from '../args.js';
import { intText } from '../../util/flag-values.js';
import { updateContainer } from '../../runtime/lifecycle.js';
import { BerthError } from '../../util/errors.js';
import { parseSizeOrUnlimited } from '../../util/size.js';
import type { Command } from './context.js';

export const update: Command = {
  name: 'update',
  usage: 'update [command options] <container-id>',
  summary: 'update container resource constraints',
  flags: [
    { name: 'resources', aliases: ['r'], type: 'string', help: 'path to a file with the resources to update, or - for stdin' },
    { name: 'blkio-weight', type: 'int' },
    { name: 'cpu-period', type: 'string' },
    { name: 'cpu-quota', type: 'string' },
    { name: 'cpu-share', type: 'string' },
    { name: 'cpu-rt-period', type: 'string' },
    { name: 'cpu-rt-runtime', type: 'string' },
    { name: 'cpu-burst', type: 'string' },
    { name: 'cpu-idle', type: 'string' },
    { name: 'cpuset-cpus', type: 'string' },
    { name: 'cpuset-mems', type: 'string' },
    { name: 'kernel-memory', type: 'string', hidden: true },
    { name: 'kernel-memory-tcp', type: 'string', hidden: true },
    { name: 'memory', aliases: ['m'], type: 'string' },
    { name: 'memory-reservation', type: 'string' },
    { name: 'memory-swap', type: 'string' },
    { name: 'pids-limit', type: 'int' },
    { name: 'l3-cache-schema', type: 'string' },
    { name: 'mem-bw-schema', type: 'string' },
  ],
  args: [1, 1],
  // `-r -` reads the caller's stdin, which the runtime server does not have.
  coldOnly: (p) => str(p, 'resources') === '-',
  async run(ctx, p) {
    await updateContainer(ctx.root, p.positional[0]!, resourcesFrom(p, ctx.path, ctx.stdin.fd));
    return 0;
  },
};

/** The resources an update asks for: the file's (`-`: the caller's stdin, fd `stdin`), or the flags'. */
export function resourcesFrom(p: Parsed, at: (path: string) => string = (x) => x, stdin?: number): LinuxResources {
  const file = str(p, 'resources');
  if (file) {
    try {
      if (file === '-' && stdin === undefined) throw new Error('this caller\'s stdin cannot be read here');
      return JSON.parse(readFileSync(file === '-' ? stdin! : at(file), 'utf8')) as LinuxResources;
    } catch (err) {
      throw new BerthError('EINVALID_ARG', `--resources ${file}: ${(err as Error).message}`);
    }
  }
  if (str(p, 'l3-cache-schema') || str(p, 'mem-bw-schema')) {
    throw new BerthError('EUNSUPPORTED', 'intel rdt (--l3-cache-schema, --mem-bw-schema) is not supported on this host');
  }
  const r: LinuxResources = {};
  const mem = (flag: string) => (str(p, flag) === undefined ? undefined : parseSizeOrUnlimited(str(p, flag)!, `--${flag}`));
  const memory = { limit: mem('memory'), reservation: mem('memory-reservation'), swap: mem('memory-swap'),
    kernel: mem('kernel-memory'), kernelTCP: mem('kernel-memory-tcp') };
  if (Object.values(memory).some((v) => v !== undefined)) r.memory = strip(memory);
  const cpu = { period: intText(p, 'cpu-period'), quota: intText(p, 'cpu-quota'), shares: intText(p, 'cpu-share'),
    realtimePeriod: intText(p, 'cpu-rt-period'), realtimeRuntime: intText(p, 'cpu-rt-runtime'), burst: intText(p, 'cpu-burst'),
    idle: intText(p, 'cpu-idle'), cpus: str(p, 'cpuset-cpus'), mems: str(p, 'cpuset-mems') };
  if (Object.values(cpu).some((v) => v !== undefined)) r.cpu = strip(cpu);
  const pids = int(p, 'pids-limit');
  if (pids !== undefined) r.pids = { limit: pids };
  const weight = int(p, 'blkio-weight');
  if (weight !== undefined) r.blockIO = { weight };
  return r;
}

function strip<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
