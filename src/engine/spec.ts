/**
 * From a container's Config and HostConfig to the OCI spec the runtime runs, the way Docker's
 * daemon builds it (moby daemon/oci_linux.go): Docker's default mounts, namespaces, capabilities,
 * seccomp profile and masked paths, then every flag on top. Pure: whatever needs the host (the
 * user database, device numbers, the host rootfs mounts) comes in through SpecContext, so the
 * unit tests check flag → spec exactly.
 */
import type { LinuxDevice, LinuxDeviceCgroup, LinuxNamespace, LinuxResources, LinuxThrottleDevice, Mount, Spec } from '../oci/spec.js';
import { rlimitNumber } from '../oci/rlimits.js';
import { BerthError } from '../util/errors.js';
import type { ContainerConfig, HostConfig, ThrottleDevice } from './config.js';
import { userMounts } from './mounts.js';
import { containerCaps, DOCKER_MASKED_PATHS, DOCKER_READONLY_PATHS, securityChoices } from './security.js';
import type { ResolvedUser } from './user.js';
import { joinedContainer, mapToHost, namespaceModes, parseUsernsMapping, type JoinableNs } from './namespaces.js';

/** A host device node as stat(2) shows it. */
export interface DeviceInfo {
  type: 'c' | 'b';
  major: number;
  minor: number;
  mode: number;
}

/** What building a spec needs to know beyond the configuration. */
export interface SpecContext {
  /** The engine's full container id (the short form is the default hostname). */
  id: string;
  /** Absolute path of the container's root directory. */
  rootPath: string;
  /** Read-only binds of the host's system directories (a `host` container), placed first. */
  hostMounts: Mount[];
  /** The user named by Config.User, resolved in the container's /etc. */
  user: ResolvedUser;
  /** stat a host device (for --device and per-device blkio limits); undefined when missing. */
  device(path: string): DeviceInfo | undefined;
  /** The host's cgroup mode: the default cgroup namespace is private on v2, host on v1. */
  cgroupMode: 'v1' | 'v2' | 'hybrid';
  /** The host's hostname, for --network host / --uts host. */
  hostHostname: string;
  /**
   * The capabilities this process may hand on (its bounding set): --privileged and --cap-add ALL
   * mean "all of them", which on a restricted host is fewer than the kernel knows.
   */
  boundingCaps?: readonly string[];
  /** The architecture for the default seccomp profile (process.arch by default). */
  arch?: NodeJS.Architecture;
  /** `--init`: the host path of berth-init, bind-mounted read-only at INIT_PATH and run as pid 1. */
  initPath?: string;
  /** Bind mounts of the container's volumes and --volumes-from binds (engine/volumes.ts). */
  volumeMounts?: Mount[];
  /** For each `container:NAME` mode, the other container's init pid (create resolves NAME). */
  joinPids?: Partial<Record<JoinableNs, number>>;
  /**
   * On a bridge network: the namespace file the engine prepares at start (networking.ts), and the
   * binds of the container's /etc/hostname, /etc/hosts and /etc/resolv.conf.
   */
  network?: { netns: string; etcMounts: Mount[] };
}

/** Where `--init` puts the init in the container: /dev is the container's own tmpfs, so the
 * mount point is created there and never in a host directory (Docker uses /sbin/docker-init). */
export const INIT_PATH = '/dev/init';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const NOSUID = ['nosuid', 'noexec', 'nodev'];

/** The process's argv: entrypoint then command, as Docker joins them. */
export function containerArgs(config: Pick<ContainerConfig, 'Entrypoint' | 'Cmd'>): string[] {
  const args = [...(config.Entrypoint ?? []), ...config.Cmd];
  if (!args.length) throw new BerthError('EINVALID_ARG', 'no command specified: give a command after the image (or after --)');
  return args;
}

/** The hostname Docker gives a container: -h, the host's with --network/--uts host, else the short id. */
export function containerHostname(config: ContainerConfig, hc: HostConfig, ctx: Pick<SpecContext, 'id' | 'hostHostname'>): string {
  if (config.Hostname) return config.Hostname;
  if (hc.NetworkMode === 'host' || hc.UTSMode === 'host') return ctx.hostHostname;
  return ctx.id.slice(0, 12);
}

/** Merge env lists: a later KEY= replaces an earlier one in place (Docker's ReplaceOrAppendEnvValues). */
export function mergeEnv(...lists: string[][]): string[] {
  const out: string[] = [];
  const at = new Map<string, number>();
  for (const e of lists.flat()) {
    const key = e.split('=')[0]!;
    const i = at.get(key);
    if (i === undefined) { at.set(key, out.length); out.push(e); } else out[i] = e;
  }
  return out;
}

/** Build the OCI spec. */
export function buildSpec(config: ContainerConfig, hc: HostConfig, ctx: SpecContext): Spec {
  const caps = containerCaps(hc).filter((c) => !ctx.boundingCaps || ctx.boundingCaps.includes(c));
  const sec = securityChoices(hc, caps, ctx.arch);
  const hostname = containerHostname(config, hc, ctx);
  const env = mergeEnv([DEFAULT_PATH, `HOSTNAME=${hostname}`], config.Tty ? ['TERM=xterm'] : [], [`HOME=${ctx.user.home}`], config.Env);
  const spec: Spec = {
    ociVersion: '1.2.0',
    process: {
      terminal: config.Tty,
      user: { uid: ctx.user.uid, gid: ctx.user.gid, ...(ctx.user.additionalGids.length ? { additionalGids: ctx.user.additionalGids } : {}) },
      args: containerArgs(config),
      env,
      cwd: config.WorkingDir || '/',
      capabilities: { bounding: [...caps], effective: [...caps], permitted: [...caps] },
      noNewPrivileges: sec.noNewPrivileges,
    },
    root: { path: ctx.rootPath, readonly: hc.ReadonlyRootfs },
    mounts: mounts(hc, ctx),
    linux: {
      namespaces: namespaces(hc, ctx),
      resources: resources(hc, ctx),
    },
  };
  // A pty starts at 24x80 (a foreground run then takes the user's terminal size).
  if (config.Tty) spec.process!.consoleSize = { height: 24, width: 80 };
  if (hc.Init) {
    if (!ctx.initPath) throw new BerthError('EUNSUPPORTED', '--init: the init binary (native/build/berth-init) is missing: run npm run build');
    spec.mounts!.push({ destination: INIT_PATH, type: 'bind', source: ctx.initPath, options: ['bind', 'ro', 'nosuid', 'nodev'] });
    spec.process!.args = [INIT_PATH, '--', ...spec.process!.args!];
  }
  // Only a private UTS namespace takes a hostname (a joined one keeps the other container's).
  if (hc.UTSMode !== 'host' && joinedContainer(hc.UTSMode) === undefined) spec.hostname = hostname;
  const idMaps = parseUsernsMapping(hc.UsernsMode);
  if (idMaps) {
    spec.linux!.uidMappings = idMaps.map((m) => ({ ...m }));
    spec.linux!.gidMappings = idMaps.map((m) => ({ ...m }));
  }
  if (config.Domainname) spec.domainname = config.Domainname;
  if (hc.OomScoreAdj) spec.process!.oomScoreAdj = hc.OomScoreAdj;
  if (hc.Ulimits.length) {
    spec.process!.rlimits = hc.Ulimits.map((u) => {
      const type = `RLIMIT_${u.Name.toUpperCase()}`;
      if (rlimitNumber(type) === undefined) throw new BerthError('EINVALID_ARG', `invalid --ulimit ${u.Name}: unknown limit (e.g. nofile, nproc, core, memlock, stack)`);
      return { type, soft: u.Soft, hard: u.Hard };
    });
  }
  const linux = spec.linux!;
  if (hc.CgroupParent) linux.cgroupsPath = `${hc.CgroupParent.replace(/\/+$/, '')}/${ctx.id}`;
  if (sec.seccomp) linux.seccomp = sec.seccomp;
  if (!sec.unmaskSystemPaths) {
    linux.maskedPaths = [...DOCKER_MASKED_PATHS];
    linux.readonlyPaths = [...DOCKER_READONLY_PATHS];
  }
  const devices = hc.Devices.map((d): LinuxDevice => {
    const info = ctx.device(d.PathOnHost);
    if (!info) throw new BerthError('EINVALID_ARG', `error gathering device information while adding custom device ${JSON.stringify(d.PathOnHost)}: no such device`);
    return { path: d.PathInContainer, type: info.type, major: info.major, minor: info.minor, fileMode: info.mode & 0o777, uid: 0, gid: 0 };
  });
  if (devices.length) linux.devices = devices;
  return spec;
}

function namespaces(hc: HostConfig, ctx: SpecContext): LinuxNamespace[] {
  const ns: LinuxNamespace[] = [{ type: 'mount' }];
  if (parseUsernsMapping(hc.UsernsMode)) ns.push({ type: 'user' });
  const modes = namespaceModes(hc);
  for (const type of ['network', 'uts', 'pid', 'ipc'] as const) {
    if (modes[type] === 'host') continue;
    if (type === 'network' && ctx.network) { ns.push({ type, path: ctx.network.netns }); continue; }
    const other = joinedContainer(modes[type]);
    if (other === undefined) { ns.push({ type }); continue; }
    const pid = ctx.joinPids?.[type];
    if (!pid) throw new BerthError('EINVALID_ARG', `cannot join the ${type} namespace of container ${other}: its process is unknown`);
    ns.push({ type, path: `/proc/${pid}/ns/${type === 'network' ? 'net' : type}` });
  }
  // dockerd's default-cgroupns-mode: private on a cgroup v2 host, host on v1.
  const cgroupns = hc.CgroupnsMode || (ctx.cgroupMode === 'v2' ? 'private' : 'host');
  if (cgroupns === 'private') ns.push({ type: 'cgroup' });
  return ns;
}

function ttyGidMapped(hc: HostConfig): boolean {
  const maps = parseUsernsMapping(hc.UsernsMode);
  return !maps || mapToHost(maps, 5) !== undefined;
}

/**
 * /sys: a fresh sysfs, whose /sys/class/net shows the container's own interfaces. Only the owner
 * of the network namespace may mount it, and a bridge network's namespace is made by the engine
 * before the container's user namespace exists: with --userns MAPPING there, /sys is the host's,
 * bound read-only (crun's fallback; submounts stay as the host has them, but their files belong to
 * ids the container does not map; /sys/class/net lists the host's interfaces,
 * the container's own are in `ip link` and /proc/net/dev).
 */
function sysMount(hc: HostConfig, ctx: SpecContext): Mount {
  if (ctx.network && parseUsernsMapping(hc.UsernsMode)) return { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'ro', ...NOSUID, 'rprivate'] };
  return { destination: '/sys', type: 'sysfs', source: 'sysfs', options: [...NOSUID, hc.Privileged ? 'rw' : 'ro'] };
}

/**
 * Docker's default mounts, the host system directories, then the user's (which win), the user's
 * sorted by depth as Docker does, so a mount inside another is made after it.
 */
function mounts(hc: HostConfig, ctx: SpecContext): Mount[] {
  const depth = (m: Mount): number => m.destination.split('/').filter(Boolean).length;
  const user = [...userMounts(hc), ...(ctx.volumeMounts ?? [])].map((m, i) => ({ m, i }))
    .sort((a, b) => depth(a.m) - depth(b.m) || a.i - b.i).map(({ m }) => m);
  const taken = new Set(user.map((m) => m.destination));
  const defaults: Mount[] = [
    ...ctx.hostMounts,
    { destination: '/proc', type: 'proc', source: 'proc', options: NOSUID },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    // gid=5 (tty) must exist in the container's user namespace, or the kernel refuses the mount.
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', ...(ttyGidMapped(hc) ? ['gid=5'] : [])] },
    sysMount(hc, ctx),
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [...NOSUID, 'relatime', hc.Privileged ? 'rw' : 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: NOSUID },
    hc.IpcMode === 'host'
      ? { destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rw', 'rprivate'] }
      : { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: [...NOSUID, 'mode=1777', `size=${hc.ShmSize || 64 * 1024 * 1024}`] },
  ];
  const etc = (ctx.network?.etcMounts ?? []).filter((m) => !taken.has(m.destination));
  return [...defaults.filter((m) => !taken.has(m.destination)), ...etc, ...user];
}

/** The OCI resources of a HostConfig (Docker's mapping; also used by `update`). */
export function resources(hc: HostConfig, ctx: Pick<SpecContext, 'device'>): LinuxResources {
  const r: LinuxResources = {};
  const mem: NonNullable<LinuxResources['memory']> = {};
  if (hc.Memory) mem.limit = hc.Memory;
  if (hc.MemorySwap) mem.swap = hc.MemorySwap;
  if (hc.MemoryReservation) mem.reservation = hc.MemoryReservation;
  if (hc.MemorySwappiness !== null) mem.swappiness = hc.MemorySwappiness;
  if (hc.OomKillDisable) mem.disableOOMKiller = true;
  if (Object.keys(mem).length) r.memory = mem;
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (hc.CpuShares) cpu.shares = hc.CpuShares;
  if (hc.NanoCpus) {
    // Docker: the period is fixed at 100 ms and the quota is the share of it (moby getCPUResources).
    cpu.period = 100_000;
    cpu.quota = Math.round((hc.NanoCpus * 100_000) / 1e9);
  }
  if (hc.CpuPeriod) cpu.period = hc.CpuPeriod;
  if (hc.CpuQuota) cpu.quota = hc.CpuQuota;
  if (hc.CpusetCpus) cpu.cpus = hc.CpusetCpus;
  if (hc.CpusetMems) cpu.mems = hc.CpusetMems;
  if (Object.keys(cpu).length) r.cpu = cpu;
  if (hc.PidsLimit !== null && hc.PidsLimit > 0) r.pids = { limit: hc.PidsLimit };
  const dev = (path: string, flag: string) => {
    const info = ctx.device(path);
    if (!info || info.type !== 'b') throw new BerthError('EINVALID_ARG', `invalid ${flag} ${path}: not a block device`);
    return info;
  };
  const throttle = (list: ThrottleDevice[], flag: string): LinuxThrottleDevice[] | undefined =>
    list.length ? list.map((t) => { const d = dev(t.Path, flag); return { major: d.major, minor: d.minor, rate: t.Rate }; }) : undefined;
  const bio: NonNullable<LinuxResources['blockIO']> = {};
  if (hc.BlkioWeight) bio.weight = hc.BlkioWeight;
  if (hc.BlkioWeightDevice.length) {
    bio.weightDevice = hc.BlkioWeightDevice.map((w) => { const d = dev(w.Path, '--blkio-weight-device'); return { major: d.major, minor: d.minor, weight: w.Weight }; });
  }
  const rb = throttle(hc.BlkioDeviceReadBps, '--device-read-bps');
  const wb = throttle(hc.BlkioDeviceWriteBps, '--device-write-bps');
  const ri = throttle(hc.BlkioDeviceReadIOps, '--device-read-iops');
  const wi = throttle(hc.BlkioDeviceWriteIOps, '--device-write-iops');
  if (rb) bio.throttleReadBpsDevice = rb;
  if (wb) bio.throttleWriteBpsDevice = wb;
  if (ri) bio.throttleReadIOPSDevice = ri;
  if (wi) bio.throttleWriteIOPSDevice = wi;
  if (Object.keys(bio).length) r.blockIO = bio;
  r.devices = deviceRules(hc, ctx);
  if (Object.keys(hc.CgroupConf).length) r.unified = { ...hc.CgroupConf };
  return r;
}

/** Deny everything, then allow each --device and each --device-cgroup-rule (privileged: allow all). */
function deviceRules(hc: HostConfig, ctx: Pick<SpecContext, 'device'>): LinuxDeviceCgroup[] {
  if (hc.Privileged) return [{ allow: true, access: 'rwm' }];
  const rules: LinuxDeviceCgroup[] = [{ allow: false, access: 'rwm' }];
  for (const d of hc.Devices) {
    const info = ctx.device(d.PathOnHost);
    if (info) rules.push({ allow: true, type: info.type, major: info.major, minor: info.minor, access: d.CgroupPermissions });
  }
  for (const rule of hc.DeviceCgroupRules) rules.push(parseDeviceCgroupRule(rule));
  return rules;
}

/** `c 1:3 rwm`, `b *:* m`, `a` → a device cgroup allow rule (Docker's --device-cgroup-rule). */
export function parseDeviceCgroupRule(rule: string): LinuxDeviceCgroup {
  const m = /^([acb])(?: (\d+|\*):(\d+|\*) ([rwm]{1,3}))?$/.exec(rule.trim());
  if (!m) throw new BerthError('EINVALID_ARG', `invalid --device-cgroup-rule ${JSON.stringify(rule)}: use TYPE MAJOR:MINOR ACCESS, e.g. 'c 1:3 rwm' (* for any number)`);
  const num = (s: string | undefined) => (s === undefined || s === '*' ? null : Number(s));
  return { allow: true, type: m[1], major: num(m[2]), minor: num(m[3]), access: m[4] ?? 'rwm' };
}
