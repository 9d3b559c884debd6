/**
 * capabilities.ts, rlimits.ts, mountopts.ts.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  CAPABILITIES, CAPABILITY_NAMES, CAP_LAST_KNOWN, capabilityMask, capabilityNames, isKnownCapability, kernelLastCap,
} from '../../../src/oci/capabilities.js';
import { RLIMITS, RLIMIT_NAMES, rlimitNumber } from '../../../src/oci/rlimits.js';
import * as mo from '../../../src/oci/mountopts.js';

describe('capabilities', () => {
  it('numbers the 41 capabilities like linux/capability.h', () => {
    assert.equal(CAPABILITY_NAMES.length, 41);
    assert.equal(CAPABILITIES.CAP_CHOWN, 0);
    assert.equal(CAPABILITIES.CAP_NET_ADMIN, 12);
    assert.equal(CAPABILITIES.CAP_SYS_ADMIN, 21);
    assert.equal(CAPABILITIES.CAP_AUDIT_READ, 37);
    assert.equal(CAPABILITIES.CAP_CHECKPOINT_RESTORE, 40);
    assert.equal(CAP_LAST_KNOWN, 40);
    CAPABILITY_NAMES.forEach((n, i) => assert.equal(CAPABILITIES[n], i));
  });
  it('builds masks', () => {
    assert.equal(capabilityMask(['CAP_KILL', 'CAP_CHOWN'], 40).mask, 0b100001n);
    assert.equal(capabilityMask([], 40).mask, 0n);
    assert.equal(capabilityMask(CAPABILITY_NAMES, 40).mask, (1n << 41n) - 1n);
    assert.deepEqual(capabilityNames(capabilityMask(['CAP_SYS_ADMIN', 'CAP_BPF'], 40).mask), ['CAP_SYS_ADMIN', 'CAP_BPF']);
  });
  it('drops and reports capabilities newer than the kernel, as runc warns and ignores them', () => {
    const r = capabilityMask(['CAP_KILL', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE', 'CAP_BPF'], 37);
    assert.equal(r.mask, 1n << 5n);
    assert.deepEqual(r.ignored, ['CAP_BPF', 'CAP_CHECKPOINT_RESTORE']);
  });
  it('throws on unknown names', () => {
    assert.throws(() => capabilityMask(['CAP_FOO']), /capability "CAP_FOO" is not a known capability/);
    assert.equal(isKnownCapability('constructor'), false);
    assert.equal(isKnownCapability('CAP_KILL'), true);
  });
  it('reads the kernel last cap', () => {
    const last = kernelLastCap();
    assert.ok(Number.isInteger(last) && last >= 30, `cap_last_cap ${last}`);
    const dir = mkdtempSync(join(tmpdir(), 'berth-test-caps-'));
    try {
      writeFileSync(join(dir, 'cap_last_cap'), '37\n');
      assert.equal(kernelLastCap(join(dir, 'cap_last_cap')), 37);
      assert.equal(kernelLastCap(join(dir, 'missing')), CAP_LAST_KNOWN);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('rlimits', () => {
  it('numbers rlimits like asm-generic/resource.h', () => {
    assert.equal(RLIMIT_NAMES.length, 16);
    assert.equal(RLIMITS.RLIMIT_CPU, 0);
    assert.equal(RLIMITS.RLIMIT_NOFILE, 7);
    assert.equal(RLIMITS.RLIMIT_NPROC, 6);
    assert.equal(RLIMITS.RLIMIT_AS, 9);
    assert.equal(RLIMITS.RLIMIT_RTTIME, 15);
    assert.equal(rlimitNumber('RLIMIT_FOO'), undefined);
    assert.equal(rlimitNumber('toString'), undefined);
  });
});

describe('mount options', () => {
  it('exports the MS_* values of linux/mount.h', () => {
    assert.equal(mo.MS_RDONLY, 1);
    assert.equal(mo.MS_BIND, 4096);
    assert.equal(mo.MS_REC, 16384);
    assert.equal(mo.MS_PRIVATE, 1 << 18);
    assert.equal(mo.MS_STRICTATIME, 1 << 24);
  });
  it('parses runc template options into flags and data', () => {
    const r = mo.parseMountOptions(['nosuid', 'strictatime', 'mode=755', 'size=65536k']);
    assert.equal(r.flags, mo.MS_NOSUID | mo.MS_STRICTATIME);
    assert.equal(r.data, 'mode=755,size=65536k');
    assert.equal(r.isBind, false);
    assert.deepEqual(r.propagation, []);
    assert.equal(r.recursiveAttr, undefined);
  });
  it('lets later options win and records cleared flags', () => {
    const r = mo.parseMountOptions(['ro', 'nosuid', 'rw', 'suid', 'nodev']);
    assert.equal(r.flags, mo.MS_NODEV);
    assert.equal(r.clearedFlags, mo.MS_RDONLY | mo.MS_NOSUID);
    assert.equal(mo.parseMountOptions(['rw', 'ro']).clearedFlags, 0);
  });
  it('recognises bind and rbind', () => {
    const b = mo.parseMountOptions(['bind', 'ro']);
    assert.equal(b.isBind, true);
    assert.equal(b.isRecursiveBind, false);
    const rb = mo.parseMountOptions(['rbind']);
    assert.equal(rb.flags, mo.MS_BIND | mo.MS_REC);
    assert.equal(rb.isRecursiveBind, true);
  });
  it('keeps propagation options separate and in order', () => {
    const r = mo.parseMountOptions(['rbind', 'rprivate', 'shared', 'runbindable']);
    assert.deepEqual(r.propagation, [mo.MS_PRIVATE | mo.MS_REC, mo.MS_SHARED, mo.MS_UNBINDABLE | mo.MS_REC]);
    assert.equal(r.flags, mo.MS_BIND | mo.MS_REC);
  });
  it('turns r* options into mount_setattr attributes', () => {
    const r = mo.parseMountOptions(['rbind', 'rro', 'rnosuid', 'rnoexec']);
    assert.deepEqual(r.recursiveAttr, { set: mo.MOUNT_ATTR_RDONLY | mo.MOUNT_ATTR_NOSUID | mo.MOUNT_ATTR_NOEXEC, clear: 0 });
    // An atime mode needs the whole atime field cleared; relatime is the value 0.
    assert.deepEqual(mo.parseMountOptions(['rnoatime']).recursiveAttr, { set: mo.MOUNT_ATTR_NOATIME, clear: mo.MOUNT_ATTR__ATIME });
    assert.deepEqual(mo.parseMountOptions(['rrelatime']).recursiveAttr, { set: 0, clear: mo.MOUNT_ATTR__ATIME });
    assert.deepEqual(mo.parseMountOptions(['rro', 'rrw']).recursiveAttr, { set: 0, clear: mo.MOUNT_ATTR_RDONLY });
  });
  it('recognises the extensions (not passed on as data)', () => {
    const r = mo.parseMountOptions(['tmpcopyup', 'idmap', 'mode=1777', 'ridmap']);
    assert.deepEqual(r.extensions, ['tmpcopyup', 'idmap', 'ridmap']);
    assert.deepEqual(r.unsupported, []); // all implemented: helper's mount op and idmap.c
    assert.equal(r.data, 'mode=1777');
  });
  it('drops "defaults" and passes acl and unknown options as data', () => {
    const r = mo.parseMountOptions(['defaults', 'acl', 'newinstance', 'ptmxmode=0666', 'constructor']);
    assert.equal(r.flags, 0);
    assert.equal(r.data, 'acl,newinstance,ptmxmode=0666,constructor');
  });
  it('knows every option runc 1.1 lists except acl, noacl (dropped in runc 1.2), plus crun\'s tmpcopyup and runc 1.2\'s idmap, ridmap', () => {
    const ours = new Set(mo.knownMountOptions());
    const runc = ['async', 'atime', 'bind', 'defaults', 'dev', 'diratime', 'dirsync', 'exec', 'iversion', 'lazytime', 'loud',
      'mand', 'noatime', 'nodev', 'nodiratime', 'noexec', 'noiversion', 'nolazytime', 'nomand', 'norelatime',
      'nostrictatime', 'nosuid', 'nosymfollow', 'private', 'ratime', 'rbind', 'rdev', 'rdiratime', 'relatime', 'remount',
      'rexec', 'rnoatime', 'rnodev', 'rnodiratime', 'rnoexec', 'rnorelatime', 'rnostrictatime', 'rnosuid', 'rnosymfollow',
      'ro', 'rprivate', 'rrelatime', 'rro', 'rrw', 'rshared', 'rslave', 'rstrictatime', 'rsuid', 'rsymfollow',
      'runbindable', 'rw', 'shared', 'silent', 'slave', 'strictatime', 'suid', 'symfollow', 'sync', 'unbindable'];
    for (const o of runc) assert.ok(ours.has(o), o);
    const extensions = ['tmpcopyup', 'notmpcopyup', 'idmap', 'ridmap'];
    for (const o of extensions) assert.ok(ours.has(o), o);
    assert.equal(ours.size, runc.length + extensions.length);
  });
});
