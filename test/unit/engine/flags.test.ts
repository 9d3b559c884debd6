/**
 * `docker run` flags → Docker's Config/HostConfig, and Docker's validation messages.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { requestFromFlags, parseUlimit } from '../../../src/engine/flags.js';
import { adaptHostConfig, validateHostConfig, type HostInfo } from '../../../src/engine/validate.js';
import { defaultHostConfig } from '../../../src/engine/config.js';
import { parseVolumeFlag, parseMountFlag, userMounts } from '../../../src/engine/mounts.js';

const host: HostInfo = { ncpu: 2, cpus: '0-1', mems: '0', swapAccounting: true };

test('sizes and cpus are read as Docker reads them', () => {
  const r = requestFromFlags({ memory: '64m', 'memory-reservation': '32MiB', 'shm-size': '1g', cpus: '1.5', 'memory-swap': '-1' }, undefined, ['true']);
  assert.equal(r.hostConfig.Memory, 64 * 1024 * 1024);
  assert.equal(r.hostConfig.MemoryReservation, 32 * 1024 * 1024);
  assert.equal(r.hostConfig.ShmSize, 1024 ** 3);
  assert.equal(r.hostConfig.NanoCpus, 1.5e9);
  assert.equal(r.hostConfig.MemorySwap, -1);
  assert.equal(r.config.Image, 'host');
  assert.deepEqual(r.config.Cmd, ['true']);
});

test('bad sizes and cpus name the flag and value', () => {
  assert.throws(() => requestFromFlags({ memory: 'banana' }, undefined, ['true']), /invalid size "banana" for --memory/);
  assert.throws(() => requestFromFlags({ cpus: '0' }, undefined, ['true']), /invalid --cpus 0: range of cpus is from 0.01/);
  assert.throws(() => requestFromFlags({ cpus: 'x' }, undefined, ['true']), /invalid argument "x" for --cpus/);
});

test('-e KEY takes the value from the environment and drops unset keys', () => {
  const r = requestFromFlags({ env: ['A=1', 'B', 'C'] }, undefined, ['true'], { env: { B: 'two' }, cwd: '/' });
  assert.deepEqual(r.config.Env, ['A=1', 'B=two']);
});

test('per-device limits, ulimits, devices and cgroup-conf', () => {
  const r = requestFromFlags({
    'device-read-bps': ['/dev/sda:1mb'], 'device-write-iops': ['/dev/sda:100'], 'blkio-weight-device': ['/dev/sda:200'],
    ulimit: ['nofile=1024:2048'], device: ['/dev/fuse:/dev/f:rw'], 'cgroup-conf': ['memory.high=64m'],
  }, undefined, ['true']);
  const hc = r.hostConfig;
  assert.deepEqual(hc.BlkioDeviceReadBps, [{ Path: '/dev/sda', Rate: 1024 * 1024 }]);
  assert.deepEqual(hc.BlkioDeviceWriteIOps, [{ Path: '/dev/sda', Rate: 100 }]);
  assert.deepEqual(hc.BlkioWeightDevice, [{ Path: '/dev/sda', Weight: 200 }]);
  assert.deepEqual(hc.Ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 2048 }]);
  assert.deepEqual(hc.Devices, [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/f', CgroupPermissions: 'rw' }]);
  assert.deepEqual(hc.CgroupConf, { 'memory.high': '64m' });
  assert.throws(() => parseUlimit('nofile=10:5'), /soft limit 10 is above hard limit 5/);
});

test('volumes, mounts and tmpfs become OCI mounts', () => {
  assert.equal(parseVolumeFlag('data:/d:ro,nocopy'), 'data:/d:ro,nocopy');
  assert.throws(() => parseVolumeFlag('d:/d'), /"d" includes invalid characters for a local volume name/);
  assert.throws(() => parseVolumeFlag('/h:/d:nocopy'), /unknown option "nocopy"/);
  assert.throws(() => parseVolumeFlag('data:/'), /the container path cannot be \//);
  assert.deepEqual(parseMountFlag('type=volume,src=v1,dst=/v,readonly,volume-nocopy,volume-label=a=b'),
    { Type: 'volume', Source: 'v1', Target: '/v', ReadOnly: true, VolumeOptions: { NoCopy: true, Labels: { a: 'b' } } });
  assert.deepEqual(parseMountFlag('target=/anon'), { Type: 'volume', Source: '', Target: '/anon', ReadOnly: false });
  assert.throws(() => parseMountFlag('type=volume,source=../x,target=/v'), /is not a volume name/);
  // volumes are engine/volumes.ts's: userMounts has host binds and tmpfs only
  assert.deepEqual(userMounts({ Binds: ['data:/d'], Mounts: [{ Type: 'volume', Source: 'v', Target: '/v', ReadOnly: false }], Tmpfs: {} }), []);
  const m = parseMountFlag('type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1777');
  assert.deepEqual(m.TmpfsOptions, { SizeBytes: 1024 * 1024, Mode: 0o1777 });
  const mounts = userMounts({ Binds: ['/a:/b:ro'], Mounts: [m], Tmpfs: { '/run': 'size=2m,exec' } });
  assert.deepEqual(mounts[0], { destination: '/b', type: 'bind', source: '/a', options: ['rbind', 'ro', 'rprivate'] });
  assert.deepEqual(mounts[1]!.options, ['nosuid', 'nodev', 'noexec', 'size=1048576', 'mode=1777']);
  assert.deepEqual(mounts[2]!.options, ['nosuid', 'nodev', `size=${2 * 1024 * 1024}`]);
});

test('Docker defaults: swap twice memory, 64m shm, pids-limit 0 is unlimited', () => {
  const hc = { ...defaultHostConfig(), Memory: 64 << 20, PidsLimit: 0 };
  adaptHostConfig(hc, host);
  assert.equal(hc.MemorySwap, 128 << 20);
  assert.equal(hc.ShmSize, 64 << 20);
  assert.equal(hc.PidsLimit, null);
  const noSwap = { ...defaultHostConfig(), Memory: 64 << 20 };
  adaptHostConfig(noSwap, { ...host, swapAccounting: false });
  assert.equal(noSwap.MemorySwap, -1);
});

test('the daemon rules, with messages naming the flag', () => {
  const v = (over: Partial<ReturnType<typeof defaultHostConfig>>) => () => validateHostConfig({ ...defaultHostConfig(), ...over }, host);
  assert.throws(v({ Memory: 4 << 20 }), /invalid --memory 4MiB: minimum memory limit allowed is 6MB/);
  assert.throws(v({ Memory: 64 << 20, MemorySwap: 32 << 20 }), /invalid --memory-swap 32MiB/);
  assert.throws(v({ MemorySwap: 32 << 20 }), /--memory-swap needs --memory/);
  assert.throws(v({ MemorySwappiness: 101 }), /valid memory swappiness range is 0-100/);
  assert.throws(v({ Memory: 16 << 20, MemoryReservation: 32 << 20 }), /cannot be less than --memory-reservation/);
  assert.throws(v({ NanoCpus: 3e9 }), /range of cpus is from 0.01 to 2.00, as there are only 2 cpus available/);
  assert.throws(v({ NanoCpus: 1e9, CpuPeriod: 50000 }), /--cpus and --cpu-period cannot both be set/);
  assert.throws(v({ CpuPeriod: 500 }), /cpu cfs period can not be less than 1ms/);
  assert.throws(v({ CpuQuota: 500 }), /cpu cfs quota can not be less than 1ms/);
  assert.throws(v({ CpusetCpus: '5' }), /invalid --cpuset-cpus 5: requested cpus are not available/);
  assert.throws(v({ BlkioWeight: 5 }), /range of blkio weight is from 10 to 1000/);
  assert.throws(v({ OomScoreAdj: 1001 }), /range for oom score adj is \[-1000, 1000\]/);
  assert.doesNotThrow(v({ NetworkMode: 'bridge' }));
  assert.doesNotThrow(v({ NetworkMode: 'my-net' }));
  assert.doesNotThrow(v({ Memory: 6 << 20, NanoCpus: 1e7, CpusetCpus: '0-1' }));
});
