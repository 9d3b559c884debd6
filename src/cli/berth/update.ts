/**
 * `berth update [OPTIONS] CONTAINER...`: change the limits of containers, live for a running one
 * (written to its cgroup) and kept for the next start. Docker's flags and sizes.
 */
import { int, str } from '../args.js';
import { findContainer } from '../../engine/containers.js';
import { updateEngineContainer, type UpdateFields } from '../../engine/control.js';
import { parseCpus, restartPolicy } from '../../engine/flags.js';
import { parseSize } from '../../util/size.js';
import { BerthError } from '../../util/errors.js';
import type { Command } from './context.js';
import { eachContainer } from './each.js';

export const update: Command = {
  name: 'update',
  aliases: ['container update'],
  usage: 'update [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'update configuration of one or more containers',
  warm: () => true,
  flags: [
    { name: 'memory', aliases: ['m'], type: 'string', help: 'memory limit' },
    { name: 'memory-swap', type: 'string', help: 'swap limit equal to memory plus swap: -1 to enable unlimited swap' },
    { name: 'memory-reservation', type: 'string', help: 'memory soft limit' },
    { name: 'cpus', type: 'string', help: 'number of cpus' },
    { name: 'cpu-shares', aliases: ['c'], type: 'int', help: 'cpu shares (relative weight)' },
    { name: 'cpu-period', type: 'int', help: 'limit cpu cfs period' },
    { name: 'cpu-quota', type: 'int', help: 'limit cpu cfs quota' },
    { name: 'cpuset-cpus', type: 'string', help: 'cpus in which to allow execution (0-3, 0,1)' },
    { name: 'cpuset-mems', type: 'string', help: 'mems in which to allow execution (0-3, 0,1)' },
    { name: 'pids-limit', type: 'int', help: 'tune container pids limit (-1 for unlimited)' },
    { name: 'blkio-weight', type: 'int', help: 'block io (relative weight), between 10 and 1000, or 0 to disable' },
    { name: 'restart', type: 'string', help: 'restart policy to apply when a container exits' },
  ],
  args: [1, -1],
  run(ctx, p) {
    const f: UpdateFields = {};
    const size = (k: string) => parseSize(str(p, k)!, `--${k}`);
    if (str(p, 'memory') !== undefined) f.Memory = size('memory');
    if (str(p, 'memory-swap') !== undefined) f.MemorySwap = str(p, 'memory-swap') === '-1' ? -1 : size('memory-swap');
    if (str(p, 'memory-reservation') !== undefined) f.MemoryReservation = size('memory-reservation');
    if (str(p, 'cpus') !== undefined) f.NanoCpus = parseCpus(str(p, 'cpus')!);
    if (int(p, 'cpu-shares') !== undefined) f.CpuShares = int(p, 'cpu-shares');
    if (int(p, 'cpu-period') !== undefined) f.CpuPeriod = int(p, 'cpu-period');
    if (int(p, 'cpu-quota') !== undefined) f.CpuQuota = int(p, 'cpu-quota');
    if (str(p, 'cpuset-cpus') !== undefined) f.CpusetCpus = str(p, 'cpuset-cpus');
    if (str(p, 'cpuset-mems') !== undefined) f.CpusetMems = str(p, 'cpuset-mems');
    if (int(p, 'pids-limit') !== undefined) f.PidsLimit = int(p, 'pids-limit');
    if (int(p, 'blkio-weight') !== undefined) f.BlkioWeight = int(p, 'blkio-weight');
    if (str(p, 'restart') !== undefined) f.RestartPolicy = restartPolicy(str(p, 'restart')!);
    if (!Object.keys(f).length) throw new BerthError('EINVALID_ARG', 'you must provide one or more flags when using this command: see berth update --help');
    return eachContainer(ctx, p.positional, async (ref) => {
      await updateEngineContainer(ctx.paths, (await findContainer(ctx.paths, ref)).Id, f, ctx.caller.cgroupOf);
    });
  },
};
