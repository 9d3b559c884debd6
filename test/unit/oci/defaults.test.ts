/**
 * defaults.ts and features.ts against runc's own output (test/fixtures/oci, captured from
 * runc 1.1.5 with `runc spec`, `runc spec --rootless` and `runc features`).
 */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALLOWED_DEVICE_RULES, DEFAULT_DEVICES, defaultSpec } from '../../../src/oci/defaults.js';
import { features } from '../../../src/oci/features.js';
import { CAPABILITY_NAMES } from '../../../src/oci/capabilities.js';
import { knownMountOptions } from '../../../src/oci/mountopts.js';
import { OCI_VERSION } from '../../../src/oci/spec.js';
import { parseConfig } from '../../../src/oci/validate.js';
import { fixture } from './helpers.js';

function runcSpec(name: string): Record<string, unknown> {
  const spec = JSON.parse(fixture(name)) as Record<string, unknown>;
  spec.ociVersion = OCI_VERSION;
  return spec;
}

describe('defaultSpec', () => {
  it('deep-equals `runc spec` (cgroup v1/hybrid host)', () => {
    assert.deepEqual(defaultSpec({ rootless: false, cgroupNamespace: false }), runcSpec('runc-spec.json'));
  });
  it('deep-equals `runc spec --rootless` run as root', () => {
    assert.deepEqual(defaultSpec({ rootless: true, cgroupNamespace: false, hostUid: 0, hostGid: 0 }),
      runcSpec('runc-spec-rootless.json'));
  });
  it('prints keys in runc order', () => {
    const ours = JSON.stringify(defaultSpec({ rootless: true, cgroupNamespace: false, hostUid: 0, hostGid: 0 }), null, '\t');
    assert.equal(ours, JSON.stringify(runcSpec('runc-spec-rootless.json'), null, '\t'));
    const plain = JSON.stringify(defaultSpec({ rootless: false, cgroupNamespace: false }), null, '\t');
    assert.equal(plain, JSON.stringify(runcSpec('runc-spec.json'), null, '\t'));
  });
  it('maps the effective user in the rootless variant', () => {
    const s = defaultSpec({ rootless: true, cgroupNamespace: false, hostUid: 1000, hostGid: 100 });
    assert.deepEqual(s.linux?.uidMappings, [{ containerID: 0, hostID: 1000, size: 1 }]);
    assert.deepEqual(s.linux?.gidMappings, [{ containerID: 0, hostID: 100, size: 1 }]);
  });
  it('adds a cgroup namespace on cgroup v2 hosts, as runc does', () => {
    const s = defaultSpec({ rootless: false, cgroupNamespace: true });
    assert.deepEqual(s.linux?.namespaces?.at(-1), { type: 'cgroup' });
  });
  it('uses args and returns fresh objects', () => {
    const a = defaultSpec({ rootless: false, args: ['echo', 'hi'] });
    a.process!.capabilities!.bounding!.push('CAP_SYS_ADMIN');
    const b = defaultSpec({ rootless: false });
    assert.deepEqual(a.process?.args, ['echo', 'hi']);
    assert.equal(b.process?.capabilities?.bounding?.length, 3);
  });
  it('validates', () => {
    parseConfig(JSON.stringify(defaultSpec({ rootless: false })), '/b');
    parseConfig(JSON.stringify(defaultSpec({ rootless: true })), '/b');
  });
});

describe('default devices', () => {
  it('lists the six device nodes of the spec with their numbers', () => {
    assert.deepEqual(DEFAULT_DEVICES.map((d) => `${d.path} ${d.major}:${d.minor} ${d.fileMode.toString(8)}`), [
      '/dev/null 1:3 666', '/dev/zero 1:5 666', '/dev/full 1:7 666',
      '/dev/random 1:8 666', '/dev/urandom 1:9 666', '/dev/tty 5:0 666',
    ]);
  });
  it("lists runc's AllowedDevices rules", () => {
    assert.equal(ALLOWED_DEVICE_RULES.length, 10);
    assert.deepEqual(ALLOWED_DEVICE_RULES[0], { allow: true, type: 'c', access: 'm' });
    assert.deepEqual(ALLOWED_DEVICE_RULES[8], { allow: true, type: 'c', major: 136, access: 'rwm' });
    for (const d of DEFAULT_DEVICES) assert.ok(ALLOWED_DEVICE_RULES.some((r) => r.major === d.major && r.minor === d.minor), d.path);
  });
});

describe('features', () => {
  const runc = JSON.parse(fixture('runc-features.json')) as any;
  const ours = features() as any;
  it('has the shape of `runc features`', () => {
    const shape = (o: any): any => (o && typeof o === 'object' && !Array.isArray(o)
      ? Object.fromEntries(Object.keys(o).sort().map((k) => [k, shape(o[k])])) : typeof o);
    const r = shape(runc);
    delete r.annotations; // runc's build information
    const mine = shape(ours);
    // Keys runc 1.2 added after the 1.1.5 fixture.
    delete mine.linux.cgroup.rdma;
    delete mine.linux.seccomp.knownFlags;
    delete mine.linux.seccomp.supportedFlags;
    delete mine.linux.intelRdt;
    delete mine.linux.mountExtensions;
    assert.deepEqual(mine, r);
  });
  it('is generated from the tables the code uses', () => {
    assert.equal(ours.ociVersionMax, OCI_VERSION);
    assert.deepEqual(ours.linux.capabilities, CAPABILITY_NAMES);
    assert.deepEqual(ours.linux.capabilities, runc.linux.capabilities);
    assert.deepEqual(ours.mountOptions, knownMountOptions());
    assert.deepEqual(ours.linux.namespaces, ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts']);
    assert.deepEqual(ours.hooks, runc.hooks);
    assert.ok(!ours.linux.seccomp.actions.includes('SCMP_ACT_NOTIFY'));
    assert.ok(ours.linux.seccomp.archs.includes('SCMP_ARCH_X86_64'));
    assert.ok(ours.linux.seccomp.supportedFlags.every((f: string) => ours.linux.seccomp.knownFlags.includes(f)));
    assert.equal(ours.linux.cgroup.systemd, false);
    assert.equal(ours.linux.apparmor.enabled, false);
  });
});
