/**
 * Conformance: `linux.maskedPaths`, `linux.readonlyPaths` and `linux.sysctl` (runtimetest's
 * validateMaskedPaths — a masked file reads as empty —, validateROPaths — nothing can be
 * written there — and validateSysctls — /proc/sys shows the configured value).
 *
 * A masked file must read as empty and a masked directory must list as empty; a masked path
 * that does not exist is ignored. Read-only paths must refuse writes with EROFS while the rest
 * of a writable root stays writable.
 */
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { whyNotRoot, type TestBundle } from '../../support/bundle.js';
import { runScript, section, useHarness, type Sections } from './support.js';

const skip = whyNotRoot();

const SCRIPT = [
  section('keys'), 'probe read /proc/keys',
  section('timer_list'), 'probe read /proc/timer_list',
  section('secret'), 'probe read /etc/secret',
  section('secret-dir'), 'ls -A /root/secrets',
  section('firmware'), 'ls -A /sys/firmware',
  section('ro-dir'), 'probe create /var/ro-dir',
  section('ro-file'), 'probe open /etc/ro-file w',
  section('ro-file-read'), 'cat /etc/ro-file',
  section('proc-sys'), 'probe open /proc/sys/kernel/hostname w',
  section('writable'), 'probe create /tmp',
  section('sysctl-shmmax'), 'cat /proc/sys/kernel/shmmax',
  section('sysctl-forward'), 'cat /proc/sys/net/ipv4/ip_forward',
  section('sysctl-msgmax'), 'cat /proc/sys/kernel/msgmax',
].join('\n');

async function prepare({ rootfs }: TestBundle): Promise<void> {
  await writeFile(join(rootfs, 'etc/secret'), 'do not read\n');
  await mkdir(join(rootfs, 'root/secrets'), { recursive: true });
  await writeFile(join(rootfs, 'root/secrets/key'), 'hidden\n');
  await mkdir(join(rootfs, 'var/ro-dir'), { recursive: true });
  await writeFile(join(rootfs, 'etc/ro-file'), 'read only\n');
}

describe('conformance: masked, read-only paths and sysctl', { skip }, () => {
  const h = useHarness();
  let out: Sections;
  before(async () => {
    out = await runScript(h, SCRIPT, (s) => {
      s.root!.readonly = false;
      s.linux!.maskedPaths = [...(s.linux!.maskedPaths ?? []), '/etc/secret', '/root/secrets', '/no/such/path'];
      s.linux!.readonlyPaths = [...(s.linux!.readonlyPaths ?? []), '/var/ro-dir', '/etc/ro-file', '/no/such/ro'];
      s.linux!.sysctl = { 'kernel.shmmax': '123456789', 'net.ipv4.ip_forward': '1', 'kernel.msgmax': '4096' };
    }, [], prepare);
  });

  test('the run succeeds (missing masked and read-only paths are ignored)', () => assert.equal(out.result.code, 0, out.result.stderr));
  // (this kernel has no /proc/kcore; /proc/keys and /proc/timer_list are in the default list)
  test('masked /proc/keys and /proc/timer_list read as empty', { skip: existsSync('/proc/keys') && existsSync('/proc/timer_list') ? undefined : 'no /proc/keys or /proc/timer_list on this kernel' }, () => {
    assert.equal(out.get('keys'), 'eof');
    assert.equal(out.get('timer_list'), 'eof');
  });
  test('a masked file reads as empty', () => assert.equal(out.get('secret'), 'eof'));
  test('a masked directory lists as empty', () => assert.equal(out.get('secret-dir'), ''));
  test('masked /sys/firmware lists as empty', () => assert.equal(out.get('firmware'), ''));
  test('a read-only directory refuses new files (EROFS)', () => assert.equal(out.get('ro-dir'), 'EROFS'));
  test('a read-only file refuses writes (EROFS) and stays readable', () => {
    assert.equal(out.get('ro-file'), 'EROFS');
    assert.equal(out.get('ro-file-read'), 'read only');
  });
  test('read-only /proc/sys refuses writes', () => assert.equal(out.get('proc-sys'), 'EROFS'));
  test('the rest of a writable root stays writable', () => assert.equal(out.get('writable'), 'ok'));
  test('sysctl kernel.shmmax (ipc namespace)', () => assert.equal(out.get('sysctl-shmmax'), '123456789'));
  test('sysctl kernel.msgmax (ipc namespace)', () => assert.equal(out.get('sysctl-msgmax'), '4096'));
  test('sysctl net.ipv4.ip_forward (network namespace)', () => assert.equal(out.get('sysctl-forward'), '1'));
});
