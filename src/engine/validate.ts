/**
 * The Docker daemon's checks and defaults for a container's resources (moby
 * daemon/daemon_unix.go: verifyPlatformContainerResources, adaptContainerSettings), with the same
 * limits and Berth's message style: one lower-case line naming the flag and value and saying what
 * is valid. Pure: the host facts come in as a HostInfo.
 */
import { BerthError } from '../util/errors.js';
import type { HostConfig } from './config.js';
import { isNetworkName, parseUsernsMapping } from './namespaces.js';

/** The forms of each namespace flag that are not fixed words. */
const MODE_EXTRA: Record<string, string[]> = {
  '--pid': ['container:NAME'], '--ipc': ['container:NAME'], '--uts': ['container:NAME'], '--network': ['container:NAME', 'bridge', 'the name of a network'],
  '--userns': ['a mapping CONTAINER-ID:HOST-ID:SIZE[,...] such as 0:100000:65536'],
};

/** Docker's minimum for --memory and --memory-reservation (linuxMinMemory). */
export const MIN_MEMORY = 6 * 1024 * 1024;

/** Docker's default /dev/shm size. */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

/** Facts about the host that the checks need. */
export interface HostInfo {
  /** Number of online CPUs. */
  ncpu: number;
  /** The CPUs and memory nodes containers may use (e.g. "0-1"). */
  cpus: string;
  mems: string;
  /** The kernel accounts swap per cgroup (v1 memory.memsw.*, v2 memory.swap.max). */
  swapAccounting: boolean;
  /** AppArmor / SELinux are enabled (Berth applies neither: see adaptHostConfig). Absent: no. */
  apparmor?: boolean;
  selinux?: boolean;
}

const bad = (msg: string) => new BerthError('EINVALID_ARG', msg);

/** `1073741824` → `1GiB`: sizes in messages read as the user typed them. */
export function humanSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${Number.isInteger(v) ? v : v.toFixed(2).replace(/\.?0+$/, '')}${units[i]}`;
}

/** Parse a cpuset list ("0-2,4") into its numbers; undefined when malformed. */
export function parseCpuList(text: string): number[] | undefined {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] !== undefined ? Number(m[2]) : lo;
    if (hi < lo) return undefined;
    for (let i = lo; i <= hi; i++) out.push(i);
  }
  return out;
}

/**
 * Docker's defaults, applied at create time: --memory-swap defaults to twice --memory (or
 * unlimited when the kernel does not account swap), --shm-size to 64 MiB, and a --pids-limit of 0
 * or less means unlimited.
 */
export function adaptHostConfig(hc: HostConfig, host: HostInfo): string[] {
  const warnings: string[] = [];
  if (hc.ShmSize === 0) hc.ShmSize = DEFAULT_SHM_SIZE;
  if (hc.PidsLimit !== null && hc.PidsLimit <= 0) hc.PidsLimit = null;
  if (!host.swapAccounting && hc.MemorySwap !== 0 && hc.MemorySwap !== -1) {
    warnings.push('the kernel does not account swap per cgroup: --memory-swap is ignored, memory is limited without swap');
    hc.MemorySwap = -1;
  }
  if (hc.Memory > 0 && hc.MemorySwap === 0) hc.MemorySwap = host.swapAccounting ? hc.Memory * 2 : -1;
  // --security-opt apparmor=/label=: Docker ignores them where the LSM is off (a compose file
  // written for an AppArmor or SELinux host still runs); where it is on, Berth cannot apply them,
  // and a container without the confinement asked for must not start silently.
  for (const opt of hc.SecurityOpt) {
    const lsm = opt.startsWith('apparmor=') ? 'apparmor' : opt.startsWith('label=') || opt.startsWith('label:') ? 'selinux' : undefined;
    if (!lsm) continue;
    if (host[lsm]) throw new BerthError('EUNSUPPORTED', `--security-opt ${opt}: ${lsm === 'apparmor' ? 'AppArmor' : 'SELinux'} is enabled on this host, and Berth does not apply ${lsm === 'apparmor' ? 'AppArmor profiles' : 'SELinux labels'} yet: remove the option to run without it`);
    warnings.push(`${lsm} is not enabled on this host: --security-opt ${opt} is ignored`);
  }
  return warnings;
}

/** Throw the first rule of Docker's that `hc` breaks. */
export function validateHostConfig(hc: HostConfig, host: HostInfo): void {
  if (hc.Memory < 0) throw bad(`invalid --memory ${hc.Memory}: the limit must be positive`);
  if (hc.Memory !== 0 && hc.Memory < MIN_MEMORY) {
    throw bad(`invalid --memory ${humanSize(hc.Memory)}: minimum memory limit allowed is 6MB`);
  }
  if (hc.Memory > 0 && hc.MemorySwap > 0 && hc.MemorySwap < hc.Memory) {
    throw bad(`invalid --memory-swap ${humanSize(hc.MemorySwap)}: it is memory plus swap and must be at least --memory ${humanSize(hc.Memory)} (or -1 for unlimited swap)`);
  }
  if (hc.Memory === 0 && hc.MemorySwap > 0) {
    throw bad('--memory-swap needs --memory: you should always set the memory limit when using the memory+swap limit');
  }
  if (hc.MemorySwappiness !== null && (hc.MemorySwappiness < 0 || hc.MemorySwappiness > 100)) {
    throw bad(`invalid --memory-swappiness ${hc.MemorySwappiness}: valid memory swappiness range is 0-100`);
  }
  if (hc.MemoryReservation !== 0 && hc.MemoryReservation < MIN_MEMORY) {
    throw bad(`invalid --memory-reservation ${humanSize(hc.MemoryReservation)}: minimum memory reservation allowed is 6MB`);
  }
  if (hc.Memory > 0 && hc.MemoryReservation > 0 && hc.Memory < hc.MemoryReservation) {
    throw bad(`invalid --memory ${humanSize(hc.Memory)}: the memory limit cannot be less than --memory-reservation ${humanSize(hc.MemoryReservation)}`);
  }
  if (hc.OomKillDisable && hc.Memory === 0) {
    // Docker only warns; a disabled OOM killer without a limit can hang the whole host's memory.
    throw bad('--oom-kill-disable needs --memory: without a memory limit it could leave the host out of memory');
  }
  if (hc.NanoCpus !== 0) {
    if (hc.CpuPeriod > 0) throw bad('conflicting options: --cpus and --cpu-period cannot both be set');
    if (hc.CpuQuota > 0) throw bad('conflicting options: --cpus and --cpu-quota cannot both be set');
    if (hc.NanoCpus < 1e7 || hc.NanoCpus > host.ncpu * 1e9) throw bad(cpusRangeMessage(hc.NanoCpus / 1e9, host.ncpu));
  }
  if (hc.CpuPeriod !== 0 && (hc.CpuPeriod < 1000 || hc.CpuPeriod > 1_000_000)) {
    throw bad(`invalid --cpu-period ${hc.CpuPeriod}: cpu cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)`);
  }
  if (hc.CpuQuota > 0 && hc.CpuQuota < 1000) {
    throw bad(`invalid --cpu-quota ${hc.CpuQuota}: cpu cfs quota can not be less than 1ms (i.e. 1000)`);
  }
  if (hc.CpuShares < 0 || (hc.CpuShares > 0 && (hc.CpuShares < 2 || hc.CpuShares > 262144))) {
    throw bad(`invalid --cpu-shares ${hc.CpuShares}: use a weight from 2 to 262144 (the default is 1024)`);
  }
  checkCpuset('--cpuset-cpus', hc.CpusetCpus, host.cpus, 'cpus');
  checkCpuset('--cpuset-mems', hc.CpusetMems, host.mems, 'memory nodes');
  if (hc.BlkioWeight > 0 && (hc.BlkioWeight < 10 || hc.BlkioWeight > 1000)) {
    throw bad(`invalid --blkio-weight ${hc.BlkioWeight}: range of blkio weight is from 10 to 1000`);
  }
  for (const d of hc.BlkioWeightDevice) {
    if (d.Weight < 10 || d.Weight > 1000) throw bad(`invalid --blkio-weight-device ${d.Path}:${d.Weight}: range of blkio weight is from 10 to 1000`);
  }
  if (hc.OomScoreAdj < -1000 || hc.OomScoreAdj > 1000) {
    throw bad(`invalid --oom-score-adj ${hc.OomScoreAdj}: range for oom score adj is [-1000, 1000]`);
  }
  if (hc.ShmSize < 0) throw bad(`invalid --shm-size ${hc.ShmSize}: shm size can not be less than 0`);
  const modes: [string, string, string[]][] = [
    ['--pid', hc.PidMode, ['', 'host', 'private']],
    ['--ipc', hc.IpcMode, ['', 'host', 'private', 'shareable', 'none']],
    ['--uts', hc.UTSMode, ['', 'host', 'private']],
    ['--network', hc.NetworkMode, ['', 'none', 'host', 'default', 'private']],
    ['--userns', hc.UsernsMode, ['', 'host']],
    ['--cgroupns', hc.CgroupnsMode, ['', 'host', 'private']],
  ];
  for (const [flag, value, allowed] of modes) {
    // container:NAME (the name is looked up at create, namespaces.ts); a --userns mapping.
    if (flag !== '--userns' && flag !== '--cgroupns' && /^container:./.test(value)) continue;
    // A network's name: it must exist, checked at create (networking.ts plannedNetworks).
    if (flag === '--network' && isNetworkName(value)) continue;
    if (flag === '--userns' && parseUsernsMapping(value)) continue;
    if (!allowed.includes(value)) {
      throw new BerthError('EINVALID_ARG', `invalid ${flag} ${JSON.stringify(value)}: use ${[...allowed.filter(Boolean), ...(MODE_EXTRA[flag] ?? [])].join(' or ')}`);
    }
  }
}

/** Docker's "Range of CPUs is from 0.01 to N.00, as there are only N CPUs available". */
export function cpusRangeMessage(cpus: number, ncpu: number): string {
  return `invalid --cpus ${cpus}: range of cpus is from 0.01 to ${ncpu}.00, as there are only ${ncpu} cpus available`;
}

function checkCpuset(flag: string, value: string, available: string, what: string): void {
  if (!value) return;
  const want = parseCpuList(value);
  if (!want) throw bad(`invalid ${flag} ${JSON.stringify(value)}: use a list such as 0-2,4`);
  const have = new Set(parseCpuList(available) ?? []);
  const missing = want.filter((c) => !have.has(c));
  if (missing.length) throw bad(`invalid ${flag} ${value}: requested ${what} are not available - available: ${available}`);
}
