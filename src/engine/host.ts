/**
 * The host facts the engine's checks and specs need: CPUs, memory nodes, swap accounting, the
 * cgroup mode, device numbers. Read once per command.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { join } from 'node:path';
import { detectCgroupHost } from '../cgroups/index.js';
import { dirInMount } from '../cgroups/host.js';
import { cgroupHostOf } from '../runtime/create.js';
import { capabilityNames } from '../oci/capabilities.js';
import type { HostInfo } from './validate.js';
import type { DeviceInfo } from './spec.js';

/** Everything read from the host for one command. */
export interface EngineHost extends HostInfo {
  cgroupMode: 'v1' | 'v2' | 'hybrid';
  hostname: string;
}

function readTrim(path: string): string | undefined {
  try { return readFileSync(path, 'utf8').trim(); } catch { return undefined; }
}

/** Detect the host, as the caller `cgroupOf` (a pid; absent: this process) sees its cgroups. */
export async function engineHost(cgroupOf?: number): Promise<EngineHost> {
  const cg = cgroupHostOf(await detectCgroupHost(), cgroupOf);
  let swapAccounting: boolean;
  let cpus: string | undefined;
  let mems: string | undefined;
  if (cg.mode === 'v2') {
    const self = cg.unified ? dirInMount(cg.unified, cg.selfUnified ?? '/') : undefined;
    swapAccounting = self ? existsSync(join(self, 'memory.swap.max')) || self === cg.unified!.mountPoint : false;
    cpus = cg.unified ? readTrim(join(cg.unified.mountPoint, 'cpuset.cpus.effective')) : undefined;
    mems = cg.unified ? readTrim(join(cg.unified.mountPoint, 'cpuset.mems.effective')) : undefined;
  } else {
    const mem = cg.v1.memory;
    swapAccounting = mem ? existsSync(join(mem.mountPoint, 'memory.memsw.limit_in_bytes')) : false;
    const cs = cg.v1.cpuset;
    cpus = cs ? readTrim(join(cs.mountPoint, 'cpuset.effective_cpus')) ?? readTrim(join(cs.mountPoint, 'cpuset.cpus')) : undefined;
    mems = cs ? readTrim(join(cs.mountPoint, 'cpuset.effective_mems')) ?? readTrim(join(cs.mountPoint, 'cpuset.mems')) : undefined;
  }
  return {
    ncpu: availableParallelism(),
    cpus: cpus || readTrim('/sys/devices/system/cpu/online') || `0-${availableParallelism() - 1}`,
    mems: mems || readTrim('/sys/devices/system/node/online') || '0',
    swapAccounting,
    apparmor: readTrim('/sys/module/apparmor/parameters/enabled') === 'Y',
    selinux: existsSync('/sys/fs/selinux/enforce'),
    cgroupMode: cg.mode,
    hostname: hostname(),
  };
}

/** stat(2) a device node: its type and numbers (undefined when missing or not a device). */
export function statDevice(path: string): DeviceInfo | undefined {
  let st;
  try { st = statSync(path, { bigint: false }); } catch { return undefined; }
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
  if (!type) return undefined;
  // Linux's dev_t encoding (major: bits 8-19 and 32-43, minor: bits 0-7 and 20-31).
  const rdev = BigInt(st.rdev);
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { type, major, minor, mode: st.mode };
}

/** The capabilities in this process's bounding set (CapBnd of /proc/self/status). */
export function ownBoundingCaps(): string[] | undefined {
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readTrim('/proc/self/status') ?? '');
  return m ? capabilityNames(BigInt(`0x${m[1]}`)) : undefined;
}
