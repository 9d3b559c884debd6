/**
 * The native helper end to end: real namespaces, mounts and a busybox root filesystem, driven
 * over the sync socket exactly as the runtime drives it (native/PROTOCOL.md).
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { constants, existsSync, readlinkSync } from 'node:fs';
import { constants as os } from 'node:os';
import { mkdir, open, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertNoLeaks, processTag } from '../support/bundle.js';
import {
  errors, FLAGS, helperErrors, HELPER, killLeftovers, makeTmpRootfs, MS_BIND, MS_PRIVATE, MS_REC, RECVTTY, run, setup, skip, type Field,
} from './helper-driver.js';

describe('berth-helper', { skip, timeout: 60_000 }, () => {
  let tmp = '';
  let rootfs = '';
  before(async () => {
    ({ tmp, rootfs } = await makeTmpRootfs());
    await symlink('/etc', join(rootfs, 'escape')); // an image trying to reach the host's /etc
  });
  after(async () => {
    killLeftovers();
    if (tmp) await rm(tmp, { recursive: true, force: true });
    await assertNoLeaks(processTag());
  });

  it('runs a container: pid 1, hostname, mask, readonly, no leaked fds, sealed memfd, exit code', async () => {
    let exe = '';
    const script = [
      'echo pid=$$', 'hostname', 'echo version=$(wc -c < /proc/version)', 'echo tty=$(ls /proc/tty | wc -l)',
      'if echo x > /proc/sys/kernel/domainname; then echo sys=rw; else echo sys=ro; fi',
      'echo fds=$(ls /proc/self/fd)', 'exit 7',
    ].join('; ');
    const r = await run(
      [['monitor'], ['clone', FLAGS], ...setup(rootfs), ['pivot'],
        ['mask', '/proc/version'], ['mask', '/proc/tty'], ['mask', '/proc/berth-nonexistent'], ['readonly', '/proc/sys'],
        ['hostname', 'berth-box'], ['env', 'PATH=/bin'], ['ready'], ['exec', 'sh', '-c', script]],
      { extraFds: 1, onPid: (pid) => void (exe = readlinkSync(`/proc/${pid}/exe`)) },
    );
    assert.deepEqual(errors(r), []);
    assert.match(exe, /^\/memfd:berth-helper/);
    assert.match(r.stdout, /pid=1\n/);
    assert.match(r.stdout, /\nberth-box\n/);
    assert.match(r.stdout, /version=0\n/);
    assert.match(r.stdout, /tty=0\n/);
    assert.match(r.stdout, /sys=ro\n/);
    // 3 is ls's own handle on /proc/self/fd; fd 4 (an extra pipe from Node) must not leak in
    assert.match(r.stdout, /fds=0 1 2 3\n/);
    assert.deepEqual(r.msgs.map((m) => m[0]), ['pid', 'ready', 'exit']);
    assert.deepEqual(r.msgs[2], ['exit', String(7 << 8)]);
    assert.equal(r.code, 7);
  });

  it('forwards SIGTERM to the container in monitor mode', async () => {
    const r = await run(
      [['monitor'], ['clone', FLAGS], ...setup(rootfs), ['pivot'], ['env', 'PATH=/bin'], ['ready'],
        ['exec', 'sh', '-c', 'trap "exit 42" TERM; echo armed; while :; do sleep 0.05; done']],
      {
        onReady: async (proc, out) => {
          while (!out().includes('armed')) await new Promise((res) => setTimeout(res, 20));
          proc.kill('SIGTERM');
        },
      },
    );
    assert.equal(r.code, 42);
  });

  it('waits on the exec fifo until start writes a byte into it', async () => {
    const fifo = join(tmp, 'exec.fifo');
    const r = await run(
      [['monitor'], ['exec-fifo', fifo], ['clone', FLAGS], ...setup(rootfs), ['pivot'], ['env', 'PATH=/bin'], ['ready'],
        ['wait-fifo'], ['exec', 'echo', 'started']],
      {
        onReady: async (_proc, out) => {
          await new Promise((res) => setTimeout(res, 300));
          assert.equal(out(), '', 'the container ran before start');
          // start's way: non-blocking (ENXIO if the init were gone), one byte
          const fh = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
          await fh.write('0');
          await fh.close();
        },
      },
    );
    assert.deepEqual(errors(r), []);
    assert.equal(r.stdout, 'started\n');
    assert.equal(r.code, 0);
  });

  it('keeps mount targets inside the root when the image has symlinks out of it', async () => {
    const src = join(tmp, 'marker');
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'berth-marker'), 'x');
    // no pivot: the container sees host paths, so its mountinfo shows where each mount landed
    const r = await run([['monitor'], ['clone', FLAGS], ['rootfs', rootfs, String(MS_REC | MS_PRIVATE)],
      ['mount', src, '/escape', '', String(MS_BIND), '', 'none', '0'],
      ['mount', 'tmpfs', '../../../../berth-dotdot', 'tmpfs', '0', '', 'dir', '0'],
      ['exec', '/bin/cat', '/proc/self/mountinfo']]);
    assert.deepEqual(errors(r), []);
    const points = r.stdout.split('\n').map((l) => l.split(' ')[4]);
    assert.ok(points.includes(join(rootfs, 'etc')), `no mount on ${rootfs}/etc:\n${r.stdout}`);
    assert.ok(points.includes(join(rootfs, 'berth-dotdot')));
    assert.ok(!points.includes('/etc') && !points.includes('/berth-dotdot'));
    assert.ok(!existsSync('/etc/berth-marker') && !existsSync('/berth-dotdot'));
  });

  it('reports a failing mount with the op, the path and errno', async () => {
    const r = await run([['monitor'], ['clone', FLAGS], ...setup(rootfs, [['mount', 'none', '/mnt', 'berthnosuchfs', '0', '', 'dir', '0']])]);
    assert.deepEqual(helperErrors(r), [{ op: 'mount', errno: os.errno.ENODEV, text: `mount none (berthnosuchfs) on ${rootfs}/mnt: No such device` }]);
    assert.equal(r.code, 1);
  });

  it('reports an exec failure naming the program', async () => {
    const r = await run([['monitor'], ['clone', FLAGS], ...setup(rootfs), ['pivot'], ['env', 'PATH=/bin:/usr/bin'], ['exec', 'berth-nosuch']]);
    assert.deepEqual(errors(r), ['exec: berth-nosuch: No such file or directory']);
    assert.equal(r.code, 1);
  });

  it('switches user, capabilities and rlimits', async () => {
    const capNetBind = '400';
    const r = await run([['monitor'], ['clone', FLAGS], ...setup(rootfs), ['pivot'],
      ['rlimit', '7', '512', '512'], ['bounding', capNetBind], ['keepcaps'], ['user', '1000', '1000', '1001,1002'],
      ['caps', capNetBind, capNetBind, capNetBind], ['ambient', capNetBind], ['no-new-privs'], ['umask', '027'],
      ['env', 'PATH=/bin'], ['exec', 'sh', '-c', 'id; grep -E "^(Cap|NoNewPrivs)" /proc/self/status; ulimit -n; umask']]);
    assert.deepEqual(errors(r), []);
    assert.match(r.stdout, /uid=1000\(berth\) gid=1000\(berth\) groups=1001,1002/);
    assert.match(r.stdout, /CapEff:\t0000000000000400\n/);
    assert.match(r.stdout, /CapBnd:\t0000000000000400\n/);
    assert.match(r.stdout, /CapAmb:\t0000000000000400\n/);
    assert.match(r.stdout, /NoNewPrivs:\t1\n/);
    assert.match(r.stdout, /\n512\n0027\n$/);
    assert.equal(r.code, 0);
  });

  it('runs hooks with the state on stdin and fails on a bad exit or a timeout', async () => {
    const hook = (script: string, timeout = '0'): Field[] => ['hook', '/bin/sh', timeout, '3', 'sh', '-c', script, 'PATH=/bin'];
    const base = [['monitor'], ['clone', FLAGS], ...setup(rootfs), ['pivot'], ['env', 'PATH=/bin']];
    const ok = await run([...base, hook('cat > /tmp/state'), ['exec', 'cat', '/tmp/state']], { state: '{"id":"x"}' });
    assert.deepEqual(errors(ok), []);
    assert.equal(ok.stdout, '{"id":"x"}');
    const bad = await run([...base, hook('exit 3')], { state: '{}' });
    assert.deepEqual(errors(bad), ['hook /bin/sh: exited with status 3']);
    const slow = await run([...base, hook('sleep 5', '1')], { state: '{}' });
    assert.deepEqual(errors(slow), ['hook /bin/sh: timed out after 1 seconds']);
    const missing = await run([...base, ['hook', '/bin/berth-nosuch', '0', '0']], { state: '{}' });
    assert.deepEqual(errors(missing), ['hook /bin/berth-nosuch: exec: No such file or directory']);
  });

  it('exits silently when the runtime closes the socket instead of sending go', async () => {
    const r = await run([['monitor'], ['clone', FLAGS], ...setup(rootfs), ['exec', 'true']], { endAfterPid: true });
    assert.deepEqual(r.msgs.map((m) => m[0]), ['pid', 'exit']);
    assert.equal(r.code, 1);
  });

  it('gives the container a pty through the console socket', { skip: existsSync(RECVTTY) ? undefined : 'recvtty not built' }, async () => {
    const sock = join(tmp, 'console.sock');
    const recv = spawn(RECVTTY, [sock], { stdio: ['ignore', 'pipe', 'pipe'] });
    let tty = '';
    recv.stdout.on('data', (d: Buffer) => (tty += d.toString()));
    const recvDone = new Promise((res) => recv.on('close', res));
    try {
      for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((res) => setTimeout(res, 10));
      const r = await run([['monitor'], ['console-socket', sock], ['clone', FLAGS], ...setup(rootfs), ['pivot'], ['setsid'],
        ['console', '24', '80'], ['env', 'PATH=/bin'], ['exec', 'sh', '-c', 'tty; stty size; [ -t 0 ] && echo isatty']]);
      assert.deepEqual(errors(r), []);
      await recvDone;
      assert.match(tty, /\/dev\/pts\/0\r\n24 80\r\nisatty\r\n/);
    } finally {
      recv.kill('SIGKILL');
    }
  });
});

describe('berth-helper sealed copy', { skip }, () => {
  it('is the memfd copy with every seal', async () => {
    // --version exits at once, so read our own child's exe while it waits for a plan
    const proc = spawn(HELPER, [], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'], env: { ...process.env, _BERTH_SYNC_FD: '3' } });
    try {
      let exe = '';
      for (let i = 0; i < 100 && !exe.startsWith('/memfd:'); i++) {
        await new Promise((res) => setTimeout(res, 10));
        exe = readlinkSync(`/proc/${proc.pid}/exe`);
      }
      assert.match(exe, /^\/memfd:berth-helper \(deleted\)$/);
      // the copy cannot be written through the magic link (F_SEAL_WRITE, and it is being executed)
      await assert.rejects(async () => {
        const fh = await open(`/proc/${proc.pid}/exe`, 'r+');
        try {
          await fh.write(Buffer.from('x'), 0, 1, 0);
        } finally {
          await fh.close();
        }
      }, (e: NodeJS.ErrnoException) => e.code === 'EPERM' || e.code === 'ETXTBSY');
    } finally {
      proc.kill('SIGKILL');
    }
  });
});
