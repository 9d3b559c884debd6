/**
 * Validation of config.json's `linux` object except `resources` (validate-resources.ts) and
 * `seccomp` (validate-seccomp.ts): namespaces, id mappings, time offsets, sysctls, devices,
 * propagation, masked and read-only paths, Intel RDT and personality. Private to src/oci/.
 *
 * The cross-field rules are runc's (libcontainer/configs/validate and specconv): a sysctl is only
 * allowed when the kernel namespace that scopes it is the container's own, mappings need a user
 * namespace, and a new user namespace needs mappings.
 */
import { statSync } from 'node:fs';
import { PROPAGATION_FLAGS } from './mountopts.js';
import {
  absolute, asObj, asStr, bad, join, missing, oneOf, optBool, optInt, optObj,
  optObjArr, optStr, optStrArr, reqInt, reqStr, U32_MAX, I64_MAX, type Obj,
} from './validate-util.js';
import { invalidConfig } from '../util/errors.js';

/** The namespace types of the OCI spec, in the spec's order. `features` prints them sorted. */
export const NAMESPACE_TYPES = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'] as const;

/** Namespaces in the config: type → the path to join, or '' for a new namespace. */
export type NamespaceSet = Map<string, string>;

/**
 * Check `linux.namespaces`: known types, no duplicates, absolute paths.
 * Returns the set used by the cross-field checks.
 */
export function checkNamespaces(linux: Obj): NamespaceSet {
  const set: NamespaceSet = new Map();
  const first = new Map<string, number>();
  (optObjArr(linux, 'namespaces', 'linux') ?? []).forEach((ns, i) => {
    const p = join('linux.namespaces', i);
    const type = oneOf(reqStr(ns, 'type', p), join(p, 'type'), NAMESPACE_TYPES);
    const path = optStr(ns, 'path', p);
    if (path !== undefined && path !== '') absolute(path, join(p, 'path'));
    const prev = first.get(type);
    if (prev !== undefined) throw bad(join(p, 'type'), type, `is a duplicate of linux.namespaces[${prev}]`);
    first.set(type, i);
    set.set(type, path ?? '');
  });
  return set;
}

/** The largest number of lines /proc/PID/uid_map accepts (Linux 4.15+). */
const MAX_ID_MAP_LINES = 340;

/**
 * Check an id mapping list (`linux.uidMappings`, `mounts[i].gidMappings` …): 32-bit ids, size at
 * least 1, ranges inside the 32-bit id space, and no two container ranges overlapping (the
 * kernel rejects an overlapping uid_map with EINVAL, which would otherwise surface as an
 * unexplained helper failure).
 */
export function checkIdMappings(list: Obj[], path: string): void {
  if (list.length > MAX_ID_MAP_LINES) {
    throw invalidConfig(path, `has ${list.length} entries; the kernel accepts at most ${MAX_ID_MAP_LINES}`);
  }
  const ranges: Array<[number, number, number]> = [];
  list.forEach((m, i) => {
    const p = join(path, i);
    const c = reqInt(m, 'containerID', p, 0, U32_MAX);
    const h = reqInt(m, 'hostID', p, 0, U32_MAX);
    const size = reqInt(m, 'size', p, 1, U32_MAX);
    if (c + size - 1 > U32_MAX || h + size - 1 > U32_MAX) {
      throw bad(join(p, 'size'), size, 'makes the range run past id 4294967295');
    }
    for (const [oc, os, oi] of ranges) {
      if (c < oc + os && oc < c + size) {
        throw invalidConfig(p, `container ids ${c}-${c + size - 1} overlap ${path}[${oi}]`);
      }
    }
    ranges.push([c, size, i]);
  });
}

/**
 * Check `linux.uidMappings`/`gidMappings` against the user namespace: a new user namespace needs
 * both (the helper must write uid_map and gid_map), and mappings without a user namespace are an
 * error, as in runc.
 */
export function checkUserNamespace(linux: Obj, ns: NamespaceSet): void {
  const uid = optObjArr(linux, 'uidMappings', 'linux');
  const gid = optObjArr(linux, 'gidMappings', 'linux');
  if (uid) checkIdMappings(uid, 'linux.uidMappings');
  if (gid) checkIdMappings(gid, 'linux.gidMappings');
  const user = ns.get('user');
  if (user === undefined) {
    if (uid?.length || gid?.length) {
      throw invalidConfig(uid?.length ? 'linux.uidMappings' : 'linux.gidMappings',
        'needs a user namespace; add {"type": "user"} to linux.namespaces');
    }
    return;
  }
  if (user === '') {
    if (!uid?.length) throw missing('linux.uidMappings', 'when linux.namespaces creates a user namespace');
    if (!gid?.length) throw missing('linux.gidMappings', 'when linux.namespaces creates a user namespace');
  }
}

/** Check `linux.timeOffsets`: only with a time namespace, clocks monotonic and boottime. */
export function checkTimeOffsets(linux: Obj, ns: NamespaceSet): void {
  const offsets = optObj(linux, 'timeOffsets', 'linux');
  if (!offsets) return;
  if (!ns.has('time') && Object.keys(offsets).length > 0) {
    throw invalidConfig('linux.timeOffsets', 'needs a time namespace; add {"type": "time"} to linux.namespaces');
  }
  for (const [clock, v] of Object.entries(offsets)) {
    const p = join('linux.timeOffsets', clock);
    oneOf(clock, p, ['monotonic', 'boottime']);
    const o = asObj(v, p);
    optInt(o, 'secs', p, -I64_MAX, I64_MAX);
    optInt(o, 'nanosecs', p, 0, 999_999_999);
  }
}

/** IPC sysctls that the ipc namespace scopes (ipc/ipc_sysctl.c), besides fs.mqueue.*. */
const IPC_SYSCTLS = new Set([
  'kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem',
  'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced',
]);

/**
 * sysctl(8) allows '/' as the separator ("net/ipv4/ip_forward"); then a '.' inside a component
 * (an interface name like eno2.100) is written as '/'. Normalise to dots as runc does.
 */
export function sysctlDots(key: string): string {
  const first = key.search(/[./]/);
  if (first === -1 || key[first] === '.') return key;
  return key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

/**
 * Check `linux.sysctl`. /proc/sys is only partly namespaced, so each key is allowed only when the
 * container has its own namespace of the kind that scopes it: ipc sysctls need an ipc namespace,
 * net.* a network namespace that is not the host's, kernel.domainname a uts namespace;
 * kernel.hostname conflicts with the `hostname` field. Everything else would change the host.
 */
export function checkSysctl(linux: Obj, ns: NamespaceSet): void {
  const sysctl = optObj(linux, 'sysctl', 'linux');
  if (!sysctl) return;
  for (const [rawKey, value] of Object.entries(sysctl)) {
    const p = join('linux.sysctl', rawKey);
    asStr(value, p);
    const key = sysctlDots(rawKey);
    if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) {
      if (!ns.has('ipc')) throw invalidConfig(p, 'is not allowed without a private ipc namespace');
      continue;
    }
    if (key.startsWith('net.')) {
      if (!ns.has('network') || isHostNetns(ns.get('network') ?? '')) {
        throw invalidConfig(p, 'is not allowed in the host network namespace');
      }
      continue;
    }
    if (ns.has('uts') && key === 'kernel.domainname') continue;
    if (ns.has('uts') && key === 'kernel.hostname') {
      throw invalidConfig(p, 'is not allowed as it conflicts with the hostname field; set hostname instead');
    }
    throw invalidConfig(p, 'is not in a separate kernel namespace and would change the host');
  }
}

/** True when `path` names this process's own network namespace (runc's isHostNetNS). */
function isHostNetns(path: string): boolean {
  if (path === '') return false;
  let a, b;
  try {
    a = statSync('/proc/self/ns/net');
    b = statSync(path);
  } catch (e) {
    throw invalidConfig('linux.namespaces', `network path ${JSON.stringify(path)} cannot be read: ${(e as Error).message}`);
  }
  return a.dev === b.dev && a.ino === b.ino;
}

/** Device node types: c and u are character devices, b block, p a fifo. */
const DEVICE_TYPES = ['c', 'b', 'u', 'p'];

/** Check `linux.devices`: absolute unique paths, a known type, numbers for c/b/u devices. */
export function checkDevices(linux: Obj): void {
  const seen = new Map<string, number>();
  (optObjArr(linux, 'devices', 'linux') ?? []).forEach((d, i) => {
    const p = join('linux.devices', i);
    const path = absolute(reqStr(d, 'path', p), join(p, 'path'));
    const prev = seen.get(path);
    if (prev !== undefined) throw bad(join(p, 'path'), path, `is a duplicate of linux.devices[${prev}]`);
    seen.set(path, i);
    const type = oneOf(reqStr(d, 'type', p), join(p, 'type'), DEVICE_TYPES);
    for (const k of ['major', 'minor']) {
      const v = optInt(d, k, p, 0, I64_MAX);
      if (v === undefined && type !== 'p') throw missing(join(p, k), `for a ${type} device`);
    }
    optInt(d, 'fileMode', p, 0, U32_MAX);
    optInt(d, 'uid', p, 0, U32_MAX);
    optInt(d, 'gid', p, 0, U32_MAX);
  });
}

/**
 * Check the remaining simple `linux` fields: cgroupsPath, rootfsPropagation, maskedPaths and
 * readonlyPaths (which need a mount namespace, as in runc), mountLabel, intelRdt, personality.
 */
export function checkLinuxMisc(linux: Obj, ns: NamespaceSet): void {
  optStr(linux, 'cgroupsPath', 'linux');
  const prop = optStr(linux, 'rootfsPropagation', 'linux');
  if (prop) oneOf(prop, 'linux.rootfsPropagation', Object.keys(PROPAGATION_FLAGS));
  for (const key of ['maskedPaths', 'readonlyPaths']) {
    const list = optStrArr(linux, key, 'linux') ?? [];
    list.forEach((s, i) => absolute(s, join(join('linux', key), i)));
    if (list.length > 0 && !ns.has('mount')) {
      throw invalidConfig(join('linux', key), 'needs a mount namespace; add {"type": "mount"} to linux.namespaces');
    }
  }
  optStr(linux, 'mountLabel', 'linux');
  const rdt = optObj(linux, 'intelRdt', 'linux');
  if (rdt) {
    const clos = optStr(rdt, 'closID', 'linux.intelRdt');
    if (clos !== undefined && (clos === '.' || clos === '..' || clos.includes('/'))) {
      throw bad('linux.intelRdt.closID', clos, 'must be a plain directory name (no "/", not "." or "..")');
    }
    optStr(rdt, 'l3CacheSchema', 'linux.intelRdt');
    optStr(rdt, 'memBwSchema', 'linux.intelRdt');
    optBool(rdt, 'enableCMT', 'linux.intelRdt');
    optBool(rdt, 'enableMBM', 'linux.intelRdt');
  }
  const pers = optObj(linux, 'personality', 'linux');
  if (pers) {
    oneOf(reqStr(pers, 'domain', 'linux.personality'), 'linux.personality.domain', ['LINUX', 'LINUX32']);
    optStrArr(pers, 'flags', 'linux.personality');
  }
}
