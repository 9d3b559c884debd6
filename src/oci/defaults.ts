/**
 * Defaults: the config.json that `berth-runtime spec` writes, the device nodes every container
 * gets, and the device cgroup rules every container is given.
 *
 * `defaultSpec` reproduces `runc spec` (runc 1.1.5, libcontainer/specconv/example.go) field for
 * field, so that tools and tutorials written for runc's template work unchanged;
 * test/fixtures/oci/runc-spec*.json hold runc's real output and the unit tests compare with them.
 */
import { statfsSync } from 'node:fs';
import { OCI_VERSION, type LinuxDeviceCgroup, type Mount, type Spec } from './spec.js';

/** Options of `defaultSpec`. */
export interface DefaultSpecOptions {
  /** Produce the `runc spec --rootless` variant (user namespace, no network namespace …). */
  rootless: boolean;
  /** process.args; runc's template runs `sh`. */
  args?: string[];
  /**
   * Add a cgroup namespace, as runc does on a cgroup v2 (unified) host. Default: detect the host
   * (/sys/fs/cgroup is a cgroup2 filesystem).
   */
  cgroupNamespace?: boolean;
  /** Host uid and gid mapped to root in the rootless variant; default the effective ids. */
  hostUid?: number;
  hostGid?: number;
}

const CGROUP2_SUPER_MAGIC = 0x63677270;

/** True when /sys/fs/cgroup is cgroup v2 only (runc's IsCgroup2UnifiedMode). */
function unifiedCgroupHost(): boolean {
  try {
    return statfsSync('/sys/fs/cgroup').type === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}

const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/**
 * The spec `runc spec` writes (with `rootless`, what `runc spec --rootless` writes), except that
 * ociVersion is Berth's OCI_VERSION.
 */
export function defaultSpec(opts: DefaultSpecOptions): Spec {
  const mounts: Mount[] = [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts', type: 'devpts', source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  ];
  const spec: Spec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: opts.args ? [...opts.args] : ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: [...DEFAULT_CAPS],
        effective: [...DEFAULT_CAPS],
        permitted: [...DEFAULT_CAPS],
        ambient: [...DEFAULT_CAPS],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts,
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: [
        '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
  if (opts.cgroupNamespace ?? unifiedCgroupHost()) spec.linux!.namespaces!.push({ type: 'cgroup' });
  if (opts.rootless) toRootless(spec, opts.hostUid ?? process.geteuid?.() ?? 0, opts.hostGid ?? process.getegid?.() ?? 0);
  return spec;
}

/**
 * runc's ToRootless: drop the network namespace and add a user namespace mapping the caller to
 * root, rbind the host's /sys (a fresh sysfs needs a network namespace owned by the user
 * namespace), drop uid=/gid= mount options (the ids may be unmapped), and drop cgroup resources
 * (an unprivileged user usually cannot write them).
 */
function toRootless(spec: Spec, uid: number, gid: number): void {
  const linux = spec.linux!;
  const namespaces = (linux.namespaces ?? []).filter((n) => n.type !== 'network' && n.type !== 'user');
  namespaces.push({ type: 'user' });
  // Rebuild `linux` so the keys print in runc's order.
  spec.linux = {
    uidMappings: [{ containerID: 0, hostID: uid, size: 1 }],
    gidMappings: [{ containerID: 0, hostID: gid, size: 1 }],
    namespaces,
    maskedPaths: linux.maskedPaths,
    readonlyPaths: linux.readonlyPaths,
  };
  spec.mounts = (spec.mounts ?? []).map((m) => {
    if (m.destination.replace(/\/+$/, '') === '/sys') {
      return { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] };
    }
    if (!m.options) return m;
    return { ...m, options: m.options.filter((o) => !o.startsWith('gid=') && !o.startsWith('uid=')) };
  });
}

/** A device node the runtime creates in every container's /dev (unless the spec lists its path). */
export interface DefaultDevice {
  path: string;
  type: 'c';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

/**
 * The devices the OCI spec requires in every container ("Default Devices"), with runc's
 * numbers and modes. /dev/console and /dev/ptmx are also required but are not nodes: console is
 * a bind mount of the terminal's pty and ptmx a symlink into devpts (runtime/plan.ts makes both,
 * with runc's other /dev symlinks).
 */
export const DEFAULT_DEVICES: readonly DefaultDevice[] = Object.freeze([
  { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
]);

/**
 * runc's AllowedDevices rules, in runc's order: appended after the spec's own
 * linux.resources.devices, so they always apply (runc keeps this for compatibility even though
 * the spec does not ask for it — mknod of any device, the default devices, ptys and /dev/ptmx).
 * A rule for a DEFAULT_DEVICES path that the spec also lists in linux.devices is dropped, as runc
 * drops it. Absent major/minor mean "any" (`*`).
 */
export const ALLOWED_DEVICE_RULES: readonly (LinuxDeviceCgroup & { path?: string })[] = Object.freeze([
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { path: '/dev/null', allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { path: '/dev/random', allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { path: '/dev/full', allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
  { path: '/dev/tty', allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { path: '/dev/zero', allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { path: '/dev/urandom', allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 136, access: 'rwm' }, // /dev/pts/*
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/ptmx
]);
