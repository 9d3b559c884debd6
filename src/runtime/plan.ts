/**
 * The launch plan: a validated OCI spec turned into the ordered list of operations the native
 * helper performs (native/PROTOCOL.md). Every decision — which namespaces, which mounts with
 * which flags, which devices, the order of the credential changes, where seccomp is loaded —
 * is made here; the helper only carries the list out.
 */
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Mount, Spec } from '../oci/spec.js';
import { BerthError } from '../util/errors.js';
import { capabilityMask } from '../oci/capabilities.js';
import { rlimitNumber } from '../oci/rlimits.js';
import { parseMountOptions } from '../oci/mountopts.js';
import { compileSeccomp } from '../seccomp/compile.js';
import { DEFAULT_DEVICES } from '../oci/defaults.js';
import { CLONE_NEWCGROUP, CLONE_NEWTIME, JOIN_ORDER, NAMESPACES } from './namespaces.js';
import { timeNamespaceOp } from './timens.js';
import { cgroupMountOps, type CgroupMountContext } from './cgroup-mount.js';
import { keyringOps, personalityOps, priorityOps } from './process-attrs.js';
import { idmapOps, type IdmapMount } from './idmap.js';
import type { Op } from '../native/ops.js';

/** One helper operation (src/native/ops.ts declares them all). */
export type { Op };


const MS_RDONLY = 0x1;
const MS_BIND = 0x1000;
const MS_REC = 0x4000;
const MS_PRIVATE = 1 << 18;
const MS_SLAVE = 1 << 19;
const MS_SHARED = 1 << 20;
const MS_UNBINDABLE = 1 << 17;

const PROPAGATION: Record<string, number> = {
  '': MS_REC | MS_SLAVE,
  private: MS_PRIVATE,
  rprivate: MS_REC | MS_PRIVATE,
  slave: MS_SLAVE,
  rslave: MS_REC | MS_SLAVE,
  shared: MS_SHARED,
  rshared: MS_REC | MS_SHARED,
  unbindable: MS_UNBINDABLE,
  runbindable: MS_REC | MS_UNBINDABLE,
};

export interface PlanOptions {
  /** The container's bundle directory (relative bind sources resolve against it). */
  bundle: string;
  /** The exec fifo's path (create), or undefined (exec, run without a fifo). */
  fifo?: string;
  /** The console socket's path (`--console-socket`) when process.terminal is set. */
  consoleSocket?: string;
  /** Stay as the container's parent and report its exit status (run, exec without -d). */
  monitor: boolean;
  /** `--no-pivot`: move the root instead of pivot_root (for a ramfs root). */
  noPivot?: boolean;
  /** What the cgroup mount needs to know about the host and the container's cgroup. */
  cgroup?: CgroupMountContext;
  /** cgroup v2 device filter: attached to `dir` before the clone (CgroupManager.deviceFilter()). */
  devices?: { dir: string; program: Uint8Array };
  /** The container's cgroup v2 directory (v2, or hybrid's unified twin): the child is cloned into it. */
  cgroupDir?: string;
  /** v1/hybrid: the helper moves itself into these v1 dirs around the clone (cgroups/placement.ts). */
  cgroupMoves?: { enter: string[]; leave: string[]; memory?: string };
  /** Name of the new session keyring (the container id); undefined with --no-new-keyring. */
  keyring?: string;
}

/** Build the helper's operations for a new container (`create`). */
export function buildCreatePlan(spec: Spec, opts: PlanOptions): Op[] {
  const linux = spec.linux ?? {};
  const nss = linux.namespaces ?? [];
  const userns = nss.some((n) => n.type === 'user');
  const newUserns = nss.some((n) => n.type === 'user' && !n.path);
  const ops: Op[] = [];

  // Parent side: join the namespaces given by path, then clone into the new ones. A new cgroup
  // namespace is made by the child after the runtime has put it in its cgroup (so its root is
  // the container's cgroup, not the runtime's).
  // The cgroup ops come first, while paths are the host's and the helper has all its privileges:
  // the device filter is attached and the cgroup fd (for CLONE_INTO_CGROUP) open before the
  // child exists. A new time namespace is made before the mount namespace is joined (the op
  // writes the host /proc's timens_offsets); see timens.ts.
  if (opts.devices) ops.push({ op: 'bpf-devices', dir: opts.devices.dir, program: opts.devices.program });
  if (opts.cgroupDir) ops.push({ op: 'cgroup-fd', dir: opts.cgroupDir });
  // Id-mapped mounts are made here, with host paths and host privileges (idmap.ts), and before
  // `cgroup-enter`: each may clone a short-lived process, which must not count in the
  // container's pids limit.
  const idmaps = idmapOps(spec, (m) => resolve(opts.bundle, m.source ?? ''));
  ops.push(...idmaps.ops);
  // Before `affinity`: entering a v1 cpuset resets the helper's CPU mask to the cpuset's.
  if (opts.cgroupMoves?.enter.length) ops.push({ op: 'cgroup-enter', dirs: opts.cgroupMoves.enter }, { op: 'cgroup-leave', dirs: opts.cgroupMoves.leave });
  // The exec fifo and the console socket are paths of the runtime's mount namespace: make and
  // connect them before a `setns` into a mount namespace given by path changes what paths mean.
  if (opts.fifo) ops.push({ op: 'exec-fifo', path: opts.fifo });
  if (spec.process?.terminal) {
    // Without a console socket, a monitored (foreground) container gets its pty master sent
    // to the monitor, which proxies it to the runtime's own terminal (native/tty.c).
    if (opts.consoleSocket) ops.push({ op: 'console-socket', path: opts.consoleSocket });
    else if (opts.monitor) ops.push({ op: 'console-local' });
    else throw new BerthError('EINVALID_ARG', 'process.terminal is true: --console-socket is required when the container is detached');
  }
  const timens = timeNamespaceOp(linux);
  for (const type of JOIN_ORDER) {
    if (type === 'mount' && timens) ops.push(timens);
    const ns = nss.find((n) => n.type === type && n.path);
    if (ns?.path) ops.push({ op: 'setns', type: NAMESPACES[type].setns, path: ns.path });
  }
  let flags = 0;
  for (const ns of nss) if (!ns.path) flags |= NAMESPACES[ns.type].flag;
  const newCgroupns = (flags & CLONE_NEWCGROUP) !== 0;
  flags &= ~(CLONE_NEWCGROUP | CLONE_NEWTIME);
  if (opts.monitor) ops.push({ op: 'monitor' });
  ops.push({ op: 'clone', flags });

  // Child side. In a new user namespace the child still has host uid 0, which is not mapped
  // there; becoming the namespace's root first lets it create files and mount (runc does this).
  // The v1 memory cgroup is joined by the child itself (see cgroups/placement.ts), before
  // anything else and before a new cgroup namespace is made. A child in a new user namespace
  // has no right to write the host's cgroup files: the runtime places it instead (create.ts).
  if (opts.cgroupMoves?.memory && !newUserns) ops.push({ op: 'cgroup-self', dir: opts.cgroupMoves.memory });
  if (userns) ops.push({ op: 'user', uid: 0, gid: 0, additionalGids: [] });
  if (newCgroupns) ops.push({ op: 'unshare', flags: CLONE_NEWCGROUP });
  ops.push({ op: 'setsid' });
  // Like runc, Berth needs a mount namespace: without one, the rootfs would be set up in the
  // host's mount table.
  if (!nss.some((n) => n.type === 'mount')) {
    throw new BerthError('EINVALID_CONFIG', 'config.json: linux.namespaces must include a mount namespace');
  }
  ops.push(...rootfsOps(spec, opts, userns, idmaps.mounts));
  if (spec.process?.terminal) {
    const size = spec.process.consoleSize;
    ops.push({ op: 'console', rows: size?.height ?? 0, cols: size?.width ?? 0 });
  }
  for (const hook of spec.hooks?.createContainer ?? []) ops.push(hookOp(hook));
  ops.push({ op: opts.noPivot ? 'chroot' : 'pivot' });
  const prop = linux.rootfsPropagation;
  if (prop && PROPAGATION[prop] !== undefined && /shared|unbindable/.test(prop)) {
    ops.push({ op: 'propagation', target: '/', flags: PROPAGATION[prop]! });
  }
  // Sysctls are written before readonlyPaths make /proc/sys read-only (runc's order: hostname,
  // sysctls, readonly paths, masked paths, read-only root); podman always sets one
  // (net.ipv4.ping_group_range).
  if (spec.hostname !== undefined && spec.hostname !== '') ops.push({ op: 'hostname', name: spec.hostname });
  if (spec.domainname !== undefined && spec.domainname !== '') ops.push({ op: 'domainname', name: spec.domainname });
  for (const [key, value] of Object.entries(linux.sysctl ?? {})) ops.push({ op: 'sysctl', key, value });
  for (const p of linux.maskedPaths ?? []) ops.push({ op: 'mask', path: p });
  for (const p of linux.readonlyPaths ?? []) ops.push({ op: 'readonly', path: p });
  if (spec.root?.readonly) ops.push({ op: 'remount', path: '/', flags: MS_RDONLY });
  ops.push(...processOps(spec, opts));
  return ops;
}

/** The rootfs part: propagation, the bind of the root, mounts in order, devices, links. */
function rootfsOps(spec: Spec, opts: PlanOptions, userns: boolean, idmaps: Map<Mount, IdmapMount>): Op[] {
  const linux = spec.linux ?? {};
  const root = spec.root?.path;
  if (!root) throw new BerthError('EINVALID_CONFIG', 'config.json: root.path is required');
  const prop = linux.rootfsPropagation ?? '';
  const rootProp = PROPAGATION[prop];
  if (rootProp === undefined) {
    throw new BerthError('EINVALID_CONFIG', `config.json: linux.rootfsPropagation ${JSON.stringify(prop)} is not one of ${Object.keys(PROPAGATION).filter(Boolean).join(', ')}`);
  }
  // The initial propagation of the whole tree may not be shared (that would leak the
  // container's mounts to the host); shared is applied to the new root after the pivot. It is
  // always recursive: "private" or "slave" on / alone would leave a shared host mount below /
  // (the one holding the rootfs, say) shared, and the container's mounts would appear on the host.
  const initial = /shared|unbindable/.test(prop) ? MS_REC | MS_PRIVATE : rootProp | MS_REC;
  const ops: Op[] = [{ op: 'rootfs', path: root, propagation: initial }];
  let devIsBound = false;
  let ptsMounted = false;
  for (const m of spec.mounts ?? []) {
    if (m.destination === '/dev' && (m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind'))) devIsBound = true;
    if (m.destination === '/dev/pts') ptsMounted = true;
    if (m.type === 'cgroup' || m.type === 'cgroup2') {
      ops.push(...cgroupMountOps(m, opts.cgroup));
      continue;
    }
    ops.push(...mountOps(m, opts.bundle, idmaps.get(m)));
  }
  // Devices: the defaults every container gets, then linux.devices. In a user namespace
  // mknod is not allowed, so the host's node is bound instead (as runc does). A /dev bound
  // from the host already has its nodes.
  const devices = devIsBound ? (linux.devices ?? []) : [...DEFAULT_DEVICES, ...(linux.devices ?? [])];
  const seen = new Set<string>();
  for (const d of devices) {
    if (seen.has(d.path)) continue;
    seen.add(d.path);
    if (userns) {
      ops.push({ op: 'bind-dev', path: d.path, hostPath: d.path });
    } else {
      ops.push({ op: 'mknod', path: d.path, type: d.type, major: d.major ?? 0, minor: d.minor ?? 0,
        mode: d.fileMode ?? 0o666, uid: d.uid ?? 0, gid: d.gid ?? 0 });
    }
  }
  if (!devIsBound) {
    for (const [target, linkpath] of [['/proc/self/fd', '/dev/fd'], ['/proc/self/fd/0', '/dev/stdin'], ['/proc/self/fd/1', '/dev/stdout'],
      ['/proc/self/fd/2', '/dev/stderr'], ['/proc/kcore', '/dev/core']] as const) {
      ops.push({ op: 'symlink', target, linkpath });
    }
  }
  if (ptsMounted) ops.push({ op: 'symlink', target: 'pts/ptmx', linkpath: '/dev/ptmx' });
  return ops;
}

/**
 * The operations of one (non-cgroup) mount: create the target, mount, then propagation. An
 * id-mapped mount (`idmap`) attaches the tree the parent made in its slot instead of mounting.
 */
export function mountOps(m: Mount, bundle: string, idmap?: IdmapMount): Op[] {
  if (!isAbsolute(m.destination)) {
    throw new BerthError('EINVALID_CONFIG', `config.json: mount destination ${JSON.stringify(m.destination)} must be an absolute path`);
  }
  const parsed = parseMountOptions(m.options ?? []);
  if (parsed.unsupported.length) {
    throw new BerthError('EUNSUPPORTED', `config.json: mount ${m.destination}: option ${parsed.unsupported.join(', ')} is not supported yet`);
  }
  let source = m.source ?? '';
  let type = m.type ?? '';
  let mkdir = 'dir';
  let flags = parsed.flags;
  if (parsed.isBind || type === 'bind') {
    source = resolve(bundle, source);
    type = 'bind';
    flags |= MS_BIND;
    if (parsed.isRecursiveBind) flags |= MS_REC;
    try {
      if (!statSync(source).isDirectory()) mkdir = 'file';
    } catch {
      throw new BerthError('EINVALID_CONFIG', `config.json: bind mount source ${source} for ${m.destination} does not exist`);
    }
  }
  // tmpcopyup (crun's extension, sent by podman): the tmpfs starts with the image's contents.
  const copyup = type === 'tmpfs' && parsed.extensions.lastIndexOf('tmpcopyup') > parsed.extensions.lastIndexOf('notmpcopyup');
  if (idmap && type !== 'bind') {
    throw new BerthError('EINVALID_CONFIG', `config.json: mount ${m.destination}: id-mapped mounts are only supported for bind mounts (add "bind" or "rbind" to options)`);
  }
  const srcflags = idmap ? `idmap:${idmap.slot}` : copyup ? 'tmpcopyup' : '0';
  const ops: Op[] = [{ op: 'mount', source, target: m.destination, fstype: type === 'bind' ? '' : type, flags, data: parsed.data, mkdir, srcflags }];
  for (const p of parsed.propagation) ops.push({ op: 'propagation', target: m.destination, flags: p });
  // rro, rnosuid …: on the tree, after the mount (and its remount) made it.
  if (parsed.recursiveAttr) ops.push({ op: 'mountattr', target: m.destination, set: parsed.recursiveAttr.set, clear: parsed.recursiveAttr.clear });
  return ops;
}

/** Credentials, limits, security and the exec: shared by create and exec. */
export function processOps(spec: Spec, opts: { fifo?: string; keyring?: string }): Op[] {
  const proc = spec.process;
  if (!proc) throw new BerthError('EINVALID_CONFIG', 'config.json: process is required');
  const ops: Op[] = [];
  // Keyring, personality, I/O and CPU scheduling: before seccomp (the default profile limits
  // personality(2)) and before the user switch (an RT class or policy needs privileges).
  ops.push(...keyringOps(opts.keyring), ...personalityOps(spec), ...priorityOps(proc));
  for (const rl of proc.rlimits ?? []) {
    const num = rlimitNumber(rl.type);
    if (num === undefined) throw new BerthError('EINVALID_CONFIG', `config.json: process.rlimits type ${JSON.stringify(rl.type)} is not a known rlimit`);
    ops.push({ op: 'rlimit', resource: num, soft: limitValue(rl.soft), hard: limitValue(rl.hard) });
  }
  const caps = proc.capabilities ?? {};
  const nnp = proc.noNewPrivileges === true;
  const seccomp = spec.linux?.seccomp;
  const compiled = seccomp ? compileSeccomp(seccomp) : undefined;
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which the user switch below may
  // drop: load it first (runc does the same). With no_new_privs, load it as late as possible.
  if (compiled && !nnp) ops.push({ op: 'seccomp', flags: compiled.flags, program: compiled.program });
  ops.push({ op: 'keepcaps' });
  ops.push({ op: 'bounding', caps: capabilityMask(caps.bounding ?? []).mask });
  const u = proc.user;
  ops.push({ op: 'user', uid: u.uid, gid: u.gid, additionalGids: u.additionalGids ?? [] });
  ops.push({ op: 'umask', mode: u.umask ?? 0o022 });
  ops.push({ op: 'caps', effective: capabilityMask(caps.effective ?? []).mask, permitted: capabilityMask(caps.permitted ?? []).mask,
    inheritable: capabilityMask(caps.inheritable ?? []).mask });
  // The kernel raises an ambient capability only when it is permitted and inheritable; runc
  // ignores the failure for the others (and `runc spec` lists ambient caps without inheritable
  // ones), so only the raisable ones are asked for.
  const ambient = capabilityMask(caps.ambient ?? []).mask & capabilityMask(caps.permitted ?? []).mask
    & capabilityMask(caps.inheritable ?? []).mask;
  if (ambient) ops.push({ op: 'ambient', caps: ambient });
  ops.push({ op: 'chdir', path: proc.cwd });
  if (nnp) ops.push({ op: 'no-new-privs' });
  if (compiled && nnp) ops.push({ op: 'seccomp', flags: compiled.flags, program: compiled.program });
  if (!proc.args?.length) throw new BerthError('EINVALID_CONFIG', 'config.json: process.args must not be empty');
  ops.push({ op: 'env', vars: proc.env ?? [] });
  ops.push({ op: 'lookup', name: proc.args[0]! });
  ops.push({ op: 'ready' });
  if (opts.fifo) ops.push({ op: 'wait-fifo' });
  for (const hook of spec.hooks?.startContainer ?? []) ops.push(hookOp(hook));
  ops.push({ op: 'exec', args: proc.args });
  return ops;
}

function hookOp(h: { path: string; args?: string[]; env?: string[]; timeout?: number }): Op {
  return { op: 'hook', path: h.path, timeout: h.timeout ?? 0, args: h.args ?? [h.path], env: h.env ?? [] };
}

/** An rlimit value for the helper: -1 is RLIM_INFINITY (a negative or unrepresentable value too). */
function limitValue(v: number): number {
  return v < 0 || v >= 2 ** 64 - 1 || !Number.isSafeInteger(v) ? -1 : v;
}
