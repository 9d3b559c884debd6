/**
 * Docker's spec defaults and every flag's place in the OCI spec (src/engine/spec.ts).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { buildSpec, parseDeviceCgroupRule, type SpecContext } from '../../../src/engine/spec.js';
import { requestFromFlags } from '../../../src/engine/flags.js';
import { adaptHostConfig } from '../../../src/engine/validate.js';
import { DOCKER_DEFAULT_CAPS, containerCaps } from '../../../src/engine/security.js';
import { hostfsLayout } from '../../../src/engine/hostfs.js';
import { resolveUserIn } from '../../../src/engine/user.js';

const ID = 'a'.repeat(64);
const ctx: SpecContext = {
  id: ID, rootPath: '/var/lib/berth/containers/x/rootfs', hostMounts: [],
  user: { uid: 0, gid: 0, additionalGids: [], home: '/root' },
  device: (p) => (p === '/dev/sda' ? { type: 'b', major: 8, minor: 0, mode: 0o60660 } : p === '/dev/fuse' ? { type: 'c', major: 10, minor: 229, mode: 0o20666 } : undefined),
  cgroupMode: 'hybrid', hostHostname: 'thehost', arch: 'x64',
};

function spec(flags: Record<string, string | boolean | number | string[]>, cmd = ['sh']) {
  const r = requestFromFlags(flags, undefined, cmd, { env: {}, cwd: '/' });
  adaptHostConfig(r.hostConfig, { ncpu: 2, cpus: '0-1', mems: '0', swapAccounting: true });
  return buildSpec(r.config, r.hostConfig, ctx);
}

test('defaults: Docker caps, seccomp, masks, namespaces, hostname, env', () => {
  const s = spec({});
  assert.deepEqual([...s.process!.capabilities!.bounding!].sort(), [...DOCKER_DEFAULT_CAPS].sort());
  assert.equal(s.linux!.seccomp!.defaultAction, 'SCMP_ACT_ERRNO');
  assert.ok(s.linux!.maskedPaths!.includes('/proc/kcore'));
  assert.deepEqual(s.linux!.namespaces!.map((n) => n.type), ['mount', 'network', 'uts', 'pid', 'ipc']);
  assert.equal(s.hostname, ID.slice(0, 12));
  assert.ok(s.process!.env!.includes(`HOSTNAME=${ID.slice(0, 12)}`));
  assert.equal(s.process!.noNewPrivileges, false);
  assert.equal(s.root!.readonly, false);
  assert.deepEqual(s.linux!.resources!.devices, [{ allow: false, access: 'rwm' }]);
  assert.equal(s.linux!.cgroupsPath, undefined);
  assert.ok(s.mounts!.some((m) => m.destination === '/dev/shm' && m.options!.includes(`size=${64 << 20}`)));
});

test('resources map to linux.resources as runc expects', () => {
  const s = spec({
    memory: '64m', 'memory-reservation': '32m', 'memory-swappiness': 10, 'oom-kill-disable': true, cpus: '0.5',
    'cpu-shares': 512, 'cpuset-cpus': '0', 'cpuset-mems': '0', 'pids-limit': 50, 'blkio-weight': 300,
    'blkio-weight-device': ['/dev/sda:200'], 'device-read-bps': ['/dev/sda:1m'], 'device-write-iops': ['/dev/sda:10'],
    'cgroup-conf': ['memory.high=50000000'], 'cgroup-parent': 'berth-test-x', 'oom-score-adj': 100,
  });
  const r = s.linux!.resources!;
  assert.deepEqual(r.memory, { limit: 64 << 20, swap: 128 << 20, reservation: 32 << 20, swappiness: 10, disableOOMKiller: true });
  assert.deepEqual(r.cpu, { shares: 512, period: 100000, quota: 50000, cpus: '0', mems: '0' });
  assert.deepEqual(r.pids, { limit: 50 });
  assert.deepEqual(r.blockIO, {
    weight: 300, weightDevice: [{ major: 8, minor: 0, weight: 200 }],
    throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 << 20 }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 10 }],
  });
  assert.deepEqual(r.unified, { 'memory.high': '50000000' });
  assert.equal(s.linux!.cgroupsPath, `berth-test-x/${ID}`);
  assert.equal(s.process!.oomScoreAdj, 100);
});

test('security flags', () => {
  assert.deepEqual(containerCaps({ Privileged: false, CapAdd: ['net_admin'], CapDrop: ['CAP_CHOWN', 'mknod'] }).includes('CAP_NET_ADMIN'), true);
  assert.deepEqual(containerCaps({ Privileged: false, CapAdd: ['SYS_PTRACE'], CapDrop: ['ALL'] }), ['CAP_SYS_PTRACE']);
  const p = spec({ privileged: true });
  assert.equal(p.linux!.seccomp, undefined);
  assert.equal(p.linux!.maskedPaths, undefined);
  assert.deepEqual(p.linux!.resources!.devices, [{ allow: true, access: 'rwm' }]);
  const u = spec({ 'security-opt': ['seccomp=unconfined', 'no-new-privileges', 'systempaths=unconfined'] });
  assert.equal(u.linux!.seccomp, undefined);
  assert.equal(u.process!.noNewPrivileges, true);
  assert.equal(u.linux!.readonlyPaths, undefined);
  // AppArmor / SELinux options: ignored with a warning where the LSM is off (Docker's rule), refused where it is on
  const withLsm = (opts: string[], host: { apparmor?: boolean; selinux?: boolean }) => {
    const r = requestFromFlags({ 'security-opt': opts }, undefined, ['sh'], { env: {}, cwd: '/' });
    return adaptHostConfig(r.hostConfig, { ncpu: 2, cpus: '0-1', mems: '0', swapAccounting: true, ...host });
  };
  assert.deepEqual(withLsm(['apparmor=docker-default', 'label=disable'], {}), ['apparmor is not enabled on this host: --security-opt apparmor=docker-default is ignored',
    'selinux is not enabled on this host: --security-opt label=disable is ignored']);
  assert.throws(() => withLsm(['apparmor=x'], { apparmor: true }), /AppArmor is enabled on this host, and Berth does not apply AppArmor profiles yet/);
  assert.throws(() => withLsm(['label=bogus'], {}), /use apparmor=PROFILE, label=user:USER/);
  assert.equal(spec({ 'security-opt': ['apparmor=x'] }).linux!.seccomp !== undefined, true); // the default profile still applies
});

test('namespaces, hostname with --network host, devices, ulimits, read-only', () => {
  const s = spec({ network: 'host', pid: 'host', ipc: 'host', cgroupns: 'private', device: ['/dev/fuse'], ulimit: ['nproc=10'], 'read-only': true, 'device-cgroup-rule': ['c 1:3 rwm'] });
  assert.deepEqual(s.linux!.namespaces!.map((n) => n.type), ['mount', 'uts', 'cgroup']);
  assert.equal(s.hostname, 'thehost');
  assert.deepEqual(s.linux!.devices, [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }]);
  assert.deepEqual(s.linux!.resources!.devices!.slice(1), [
    { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  ]);
  assert.deepEqual(s.process!.rlimits, [{ type: 'RLIMIT_NPROC', soft: 10, hard: 10 }]);
  assert.equal(s.root!.readonly, true);
  assert.ok(s.mounts!.some((m) => m.destination === '/dev/shm' && m.type === 'bind'));
  assert.throws(() => spec({ device: ['/dev/nope'] }), /adding custom device "\/dev\/nope"/);
  assert.throws(() => parseDeviceCgroupRule('x 1'), /invalid --device-cgroup-rule/);
  assert.throws(() => spec({}, []), /no command specified/);
});

test('host root filesystem layout: symlinks stay symlinks, directories are read-only binds', () => {
  const l = hostfsLayout([{ name: 'usr', kind: 'dir' }, { name: 'bin', kind: 'symlink', target: 'usr/bin' }, { name: 'etc', kind: 'dir' }]);
  assert.deepEqual(l.symlinks, [{ path: 'bin', target: 'usr/bin' }]);
  assert.deepEqual(l.mounts.map((m) => [m.destination, m.source, m.options!.includes('ro')]), [['/usr', '/usr', true], ['/etc', '/etc', true]]);
});

test('-u resolves names, groups and supplementary groups', () => {
  const passwd = [['root', 'x', '0', '0', '', '/root', '/bin/sh'], ['berth', 'x', '1000', '1000', '', '/home/berth', '/bin/sh']];
  const group = [['root', 'x', '0', ''], ['users', 'x', '100', 'berth'], ['berth', 'x', '1000', '']];
  assert.deepEqual(resolveUserIn('berth', passwd, group), { uid: 1000, gid: 1000, additionalGids: [100], home: '/home/berth' });
  assert.deepEqual(resolveUserIn('1000:100', passwd, group), { uid: 1000, gid: 100, additionalGids: [], home: '/home/berth' });
  assert.deepEqual(resolveUserIn('4242', passwd, group), { uid: 4242, gid: 0, additionalGids: [], home: '/' });
  assert.throws(() => resolveUserIn('banana', passwd, group), /unable to find user banana/);
});
