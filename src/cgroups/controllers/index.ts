/**
 * The static lists of controllers the managers walk, in the order they apply (runc's order:
 * cpuset before anything that allocates, devices early, memory before cpu). Adding a controller
 * is one file plus one entry here.
 */
import type { Controller } from './controller.js';
import { memoryV1, memoryV2 } from './memory.js';
import { cpuV1, cpuV2 } from './cpu.js';
import { cpuacctV1 } from './cpuacct.js';
import { cpusetV1, cpusetV2 } from './cpuset.js';
import { pidsController } from './pids.js';
import { blkioV1 } from './blkio.js';
import { ioV2 } from './io.js';
import { hugetlbV1, hugetlbV2 } from './hugetlb.js';
import { devicesV1, devicesV2 } from './devices.js';
import { netClsV1, netPrioV1, networkV2 } from './net.js';
import { rdmaController } from './rdma.js';
import { unifiedV2 } from './unified.js';

/** cgroup v1 controllers (freezer has no knobs; see freezer.ts). */
export const V1_CONTROLLERS: readonly Controller[] = [
  cpusetV1, devicesV1, memoryV1, cpuV1, cpuacctV1, pidsController, blkioV1, hugetlbV1, netClsV1, netPrioV1, rdmaController,
];

/** cgroup v2 controllers; `unified` last so raw keys override converted values. */
export const V2_CONTROLLERS: readonly Controller[] = [
  cpusetV2, devicesV2, memoryV2, cpuV2, pidsController, ioV2, hugetlbV2, rdmaController, networkV2, unifiedV2,
];

/** v1 hierarchies a container gets a directory in (the knob controllers plus freezer). */
export const V1_HIERARCHIES = [
  'cpuset', 'devices', 'memory', 'cpu', 'cpuacct', 'pids', 'blkio', 'hugetlb', 'net_cls', 'net_prio', 'rdma', 'freezer',
] as const;
