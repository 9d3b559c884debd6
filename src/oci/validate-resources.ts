/**
 * Validation of `linux.resources` (the cgroup settings). Private to src/oci/.
 *
 * Only what is wrong on every host is checked here: types, signs, ranges the kernel enforces on
 * both cgroup versions, and cross-field rules (memory.swap is memory plus swap, so it cannot be
 * below memory.limit). Whether a knob exists on the host (swappiness on v2 …) is for cgroups/.
 */
import { invalidConfig } from '../util/errors.js';
import {
  asObj, asStr, bad, cpuList, join, missing, oneOf, optBool, optInt, optObj, optObjArr,
  optStr, reqInt, reqStr, I64_MAX, I64_MIN, U32_MAX, U64_MAX, type Obj,
} from './validate-util.js';

const R = 'linux.resources';

/** Check `linux.resources`. */
export function checkResources(r: Obj): void {
  checkDeviceRules(r);
  checkMemory(optObj(r, 'memory', R));
  checkCpu(optObj(r, 'cpu', R));
  const pids = optObj(r, 'pids', R);
  // pids.limit: 0 or negative means "max" (runc), so any 64-bit integer goes.
  if (pids) reqInt(pids, 'limit', join(R, 'pids'), I64_MIN, I64_MAX);
  checkBlockIO(optObj(r, 'blockIO', R));
  (optObjArr(r, 'hugepageLimits', R) ?? []).forEach((h, i) => {
    const p = join(join(R, 'hugepageLimits'), i);
    const size = reqStr(h, 'pageSize', p);
    if (!/^\d+(KB|MB|GB|TB|PB)$/.test(size)) throw bad(join(p, 'pageSize'), size, 'must be a size like "2MB" or "1GB"');
    reqInt(h, 'limit', p, 0, U64_MAX);
  });
  const net = optObj(r, 'network', R);
  if (net) {
    optInt(net, 'classID', join(R, 'network'), 0, U32_MAX);
    (optObjArr(net, 'priorities', join(R, 'network')) ?? []).forEach((pr, i) => {
      const p = join(join(R, 'network.priorities'), i);
      reqStr(pr, 'name', p);
      reqInt(pr, 'priority', p, 0, U32_MAX);
    });
  }
  const rdma = optObj(r, 'rdma', R);
  for (const [dev, v] of Object.entries(rdma ?? {})) {
    const p = join(join(R, 'rdma'), dev);
    const o = asObj(v, p);
    optInt(o, 'hcaHandles', p, 0, U32_MAX);
    optInt(o, 'hcaObjects', p, 0, U32_MAX);
  }
  const unified = optObj(r, 'unified', R);
  for (const [file, v] of Object.entries(unified ?? {})) {
    const p = join(join(R, 'unified'), file);
    asStr(v, p);
    // A key names a file in the container's own cgroup directory ("memory.high").
    if (file.includes('/') || !/^[a-z0-9_]+\.[A-Za-z0-9_.]+$/.test(file)) {
      throw invalidConfig(p, 'must name a cgroup file like "memory.high" (no "/")');
    }
  }
}

/** Device cgroup rules: allow is required, type a/b/c, access a non-empty subset of "rwm". */
function checkDeviceRules(r: Obj): void {
  (optObjArr(r, 'devices', R) ?? []).forEach((d, i) => {
    const p = join(join(R, 'devices'), i);
    if (optBool(d, 'allow', p) === undefined) throw missing(join(p, 'allow'));
    const type = optStr(d, 'type', p);
    if (type !== undefined && type !== '') oneOf(type, join(p, 'type'), ['a', 'b', 'c']);
    // -1 is libcontainer's wildcard; null or absent means the same.
    optInt(d, 'major', p, -1, I64_MAX);
    optInt(d, 'minor', p, -1, I64_MAX);
    const access = optStr(d, 'access', p);
    // runc refuses an empty access string ("device access at N field cannot be empty").
    if (access === undefined || access === '') throw missing(join(p, 'access'), '(a combination of r, w and m)');
    if (!/^[rwm]{1,3}$/.test(access) || new Set(access).size !== access.length) {
      throw bad(join(p, 'access'), access, 'must be a combination of r, w and m');
    }
  });
}

/** Memory: limits are bytes or -1 (unlimited); swap (memory+swap) must not be below the limit. */
function checkMemory(m: Obj | undefined): void {
  if (!m) return;
  const p = join(R, 'memory');
  const limit = optInt(m, 'limit', p, -1, I64_MAX);
  optInt(m, 'reservation', p, -1, I64_MAX);
  const swap = optInt(m, 'swap', p, -1, I64_MAX);
  optInt(m, 'kernel', p, -1, I64_MAX);
  optInt(m, 'kernelTCP', p, -1, I64_MAX);
  optInt(m, 'swappiness', p, 0, 100);
  optBool(m, 'disableOOMKiller', p);
  optBool(m, 'useHierarchy', p);
  optBool(m, 'checkBeforeUpdate', p);
  if (limit !== undefined && swap !== undefined && limit > 0 && swap > 0 && swap < limit) {
    throw bad(join(p, 'swap'), swap,
      `must be at least memory.limit ${limit} (swap counts memory plus swap), or -1 for unlimited`);
  }
}

/** CPU: shares/period/quota ranges the kernel enforces; cpus and mems in cpuset list syntax. */
function checkCpu(c: Obj | undefined): void {
  if (!c) return;
  const p = join(R, 'cpu');
  optInt(c, 'shares', p, 0, U64_MAX);
  // quota: -1 is unlimited, 0 means "not set" in runc; the kernel's minimum is 1000 µs.
  const quota = optInt(c, 'quota', p, -1, I64_MAX);
  if (quota !== undefined && quota > 0 && quota < 1000) {
    throw bad(join(p, 'quota'), quota, 'must be -1 (unlimited) or at least 1000 (microseconds)');
  }
  optInt(c, 'burst', p, 0, U64_MAX);
  const period = optInt(c, 'period', p, 0, U64_MAX);
  if (period !== undefined && period !== 0 && (period < 1000 || period > 1_000_000)) {
    throw bad(join(p, 'period'), period, 'must be from 1000 to 1000000 (microseconds)');
  }
  optInt(c, 'realtimeRuntime', p, -1, I64_MAX);
  optInt(c, 'realtimePeriod', p, 0, U64_MAX);
  const cpus = optStr(c, 'cpus', p);
  if (cpus !== undefined) cpuList(cpus, join(p, 'cpus'));
  const mems = optStr(c, 'mems', p);
  if (mems !== undefined) cpuList(mems, join(p, 'mems'));
  // cpu.idle (v2, Linux 5.15) takes 0 or 1.
  optInt(c, 'idle', p, 0, 1);
}

/** Block IO: weights 10-1000 (0 means unset), device entries with major, minor and a rate. */
function checkBlockIO(b: Obj | undefined): void {
  if (!b) return;
  const p = join(R, 'blockIO');
  weight(b, 'weight', p);
  weight(b, 'leafWeight', p);
  (optObjArr(b, 'weightDevice', p) ?? []).forEach((d, i) => {
    const dp = join(join(p, 'weightDevice'), i);
    reqInt(d, 'major', dp, 0, I64_MAX);
    reqInt(d, 'minor', dp, 0, I64_MAX);
    weight(d, 'weight', dp);
    weight(d, 'leafWeight', dp);
  });
  for (const key of ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice']) {
    (optObjArr(b, key, p) ?? []).forEach((d, i) => {
      const dp = join(join(p, key), i);
      reqInt(d, 'major', dp, 0, I64_MAX);
      reqInt(d, 'minor', dp, 0, I64_MAX);
      reqInt(d, 'rate', dp, 0, U64_MAX);
    });
  }
}

/** A blkio weight: the kernel accepts 10-1000 (CFQ/BFQ); 0 leaves the weight unchanged (runc). */
function weight(o: Obj, key: string, parent: string): void {
  const v = optInt(o, key, parent, 0, 1000);
  if (v !== undefined && v !== 0 && v < 10) throw bad(join(parent, key), v, 'must be from 10 to 1000');
}
