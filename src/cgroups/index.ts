/**
 * Berth's cgroup library: detect the host, resolve a container's cgroup path, and drive a
 * CgroupManager (v1, v2 or hybrid). See types.ts for the interface and convert.ts for the v1→v2 table.
 */
export type { CgroupHost, CgroupMode, CgroupManager, CgroupStats, SavedCgroup, FreezerState, BlkioDeviceStats } from './types.js';
export { detectCgroupHost, parseCgroupHost } from './host.js';
export { resolveCgroupPath } from './path.js';
export { cgroupManager, cgroupManagerFromState } from './manager.js';
export { deviceFilterProgram } from './devices-bpf.js';
export { sharesToWeight, blkioWeightToIoWeight, memSwapToV2 } from './convert.js';
export { oomDuringCreate } from './diagnose.js';
export { helperCgroupMoves, type HelperCgroupMoves } from './placement.js';
