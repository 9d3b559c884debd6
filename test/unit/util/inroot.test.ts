/**
 * Reading a container's /etc/passwd from the host (src/util/inroot.ts): issue 10's audit of the
 * paths that cross from a container to the host. An image (or a running container, for
 * `exec -u`) controls what /etc/passwd is: a symlink to a host file, a fifo that would block the
 * reader for ever, a device. Each must read as "no file", never as the host's content.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileInRoot, resolveInRootSync } from '../../../src/util/inroot.js';
import { resolveUser } from '../../../src/engine/user.js';

function fixture(): { base: string; root: string; host: string } {
  const base = mkdtempSync(join(tmpdir(), 'berth-unit-inroot-'));
  const root = join(base, 'root');
  const host = join(base, 'host');
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(host);
  writeFileSync(join(host, 'passwd'), 'secret:x:4242:4242:HOST-ONLY:/host-home:/bin/sh\n');
  return { base, root, host };
}

test('a symlink is resolved inside the root: an absolute target restarts at the root, .. stops there', () => {
  const { base, root } = fixture();
  try {
    writeFileSync(join(root, 'etc', 'real'), 'app:x:1000:1000::/home/app:/bin/sh\n');
    symlinkSync('/etc/real', join(root, 'etc', 'passwd'));
    assert.equal(resolveInRootSync(root, '/etc/passwd'), join(root, 'etc', 'real'));
    symlinkSync('../../../../etc/real', join(root, 'etc', 'up'));
    assert.equal(resolveInRootSync(root, '/etc/up'), join(root, 'etc', 'real'));
    assert.match(readFileInRoot(root, '/etc/passwd') ?? '', /^app:/);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('a symlink to a host file is followed inside the root: the host\'s file is never read', () => {
  const { base, root, host } = fixture();
  try {
    symlinkSync(join(host, 'passwd'), join(root, 'etc', 'passwd'));
    assert.equal(readFileInRoot(root, '/etc/passwd'), undefined);
    // and a user lookup through it finds nothing of the host file (HOME stays /)
    assert.deepEqual(resolveUser('4242', root), { uid: 4242, gid: 0, additionalGids: [], home: '/' });
    assert.throws(() => resolveUser('secret', root), /unable to find user secret/);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('a fifo, a device or a directory is no passwd file (and does not block the reader)', () => {
  const { base, root } = fixture();
  try {
    execFileSync('mkfifo', [join(root, 'etc', 'passwd')]);
    assert.equal(readFileInRoot(root, '/etc/passwd'), undefined);
    symlinkSync('/dev/zero', join(root, 'etc', 'group'));
    assert.equal(readFileInRoot(root, '/etc/group'), undefined);
    mkdirSync(join(root, 'etc', 'shadow'));
    assert.equal(readFileInRoot(root, '/etc/shadow'), undefined);
    assert.equal(readFileInRoot(root, '/etc/missing'), undefined);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('a file larger than the bound is cut at the bound', () => {
  const { base, root } = fixture();
  try {
    writeFileSync(join(root, 'etc', 'passwd'), 'x'.repeat(100));
    assert.equal(readFileInRoot(root, '/etc/passwd', 10), 'x'.repeat(10));
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
