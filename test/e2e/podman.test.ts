/**
 * podman 4.3 drives the runtime under test (`--runtime`, rootful, `--cgroup-manager cgroupfs`,
 * conmon as its monitor): run, exit codes, env, workdir, user, read-only root, capability drops,
 * a memory limit with an OOM kill, pids and cpu limits, exec, logs, stop, pause/unpause, a tty
 * through the console socket, and podman's default seccomp profile.
 *
 * Everything podman keeps is in a temporary `berth-test-<pid>-podman-*` directory (--root,
 * --runroot, --tmpdir, the network config, a containers.conf with file locks and a file events
 * log); the image is a busybox built offline and loaded with `podman load`. Containers are in
 * the relative cgroup `berth-test-<pid>/libpod-<id>`, below the runtime's own cgroup, and conmon
 * stays in ours (`--cgroups no-conmon`), so nothing is created outside this process's cgroups.
 * `RUNTIME=runc` runs the same tests against runc.
 */
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertNoLeaks, parseProbe, probePath, processTag, whyNotRoot } from '../support/bundle.js';
import { buildImageArchive, findCommand, runtimeBinary, sh, tempDir, waitFor, type Result } from './support.js';

const IMAGE = 'localhost/berth-test/busybox:latest';

function whyNot(): string | undefined {
  const root = whyNotRoot();
  if (root) return root;
  if (!findCommand('podman')) return 'podman not installed: apt-get install podman';
  if (!findCommand('script')) return 'script (bsdutils) not installed';
  if (!existsSync(probePath)) return `${probePath} not built: make -C native/probe`;
  return undefined;
}

const skip = whyNot();
if (skip) console.log(`# podman e2e tests skipped: ${skip}`);

describe(`podman with ${process.env.RUNTIME ?? 'berth'}`, { skip }, () => {
  let dir: string;
  let n = 0;
  const name = (label: string) => `${processTag()}-${label}-${++n}`;

  /** podman's global flags: private storage and state, cgroupfs, the runtime under test. */
  const global = () => ['--root', `${dir}/root`, '--runroot', `${dir}/runroot`, '--tmpdir', `${dir}/t`,
    '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file',
    '--network-config-dir', `${dir}/net`, '--runtime', runtimeBinary()];

  /**
   * `podman run` flags every test uses. The nofile/nproc limits are explicit because podman's
   * default (1048576 open files) is above this process's hard limit and raising it needs
   * CAP_SYS_RESOURCE, which the test machine may not have. Seccomp is left to its own test.
   */
  const runFlags = (id: string) => ['--name', id, '--network', 'none', '--cgroups', 'no-conmon', '--cgroup-parent', processTag(),
    '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--security-opt', 'seccomp=unconfined'];

  const podman = (args: string[], opts: { timeoutMs?: number } = {}) =>
    // cwd: conmon writes a file named `oom` into its working directory when it sees an OOM kill.
    sh('podman', [...global(), ...args], { timeoutMs: opts.timeoutMs ?? 60_000, cwd: dir, env: { ...process.env, CONTAINERS_CONF: `${dir}/containers.conf` } });

  /** `podman run --rm [flags] IMAGE ARGS...` in the foreground. */
  const run = (id: string, args: string[], flags: string[] = []) => podman(['run', '--rm', ...runFlags(id), ...flags, IMAGE, ...args]);

  /** A podman command under `script`, so it has a terminal (`-t`). */
  const withTty = (args: string[]): Promise<Result> => {
    const cmd = ['podman', ...global(), ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    return sh('script', ['-qec', cmd, '/dev/null'], { timeoutMs: 60_000, cwd: dir, env: { ...process.env, CONTAINERS_CONF: `${dir}/containers.conf` } });
  };

  const inspect = async (id: string, format: string) => (await podman(['inspect', '--format', format, id])).stdout.trim();

  before(async () => {
    dir = await tempDir('pm'); // short: conmon's and podman's socket paths must fit in sun_path
    await mkdir(join(dir, 'net'));
    await writeFile(join(dir, 'containers.conf'), `[engine]\nlock_type = "file"\nevents_logfile_path = "${dir}/events.log"\n[network]\nnetwork_backend = "cni"\nnetwork_config_dir = "${dir}/net"\n`);
    const archive = await buildImageArchive(dir, 'berth-test/busybox:latest');
    const r = await podman(['load', '-i', archive]);
    assert.equal(r.code, 0, r.stderr);
  });

  after(async () => {
    if (dir) {
      await podman(['rm', '--all', '--force', '--time', '0']);
      // podman unmounts what it mounted (shm, the vfs layers are plain directories); a failed
      // test may leave a mount, so detach anything still below our directory before removing it.
      const mounts = (await sh('findmnt', ['-rno', 'TARGET'])).stdout.split('\n').filter((m) => m.startsWith(`${dir}/`)).reverse();
      for (const m of mounts) await sh('umount', ['-l', m]);
      await sh('rm', ['-rf', '--one-file-system', dir]);
    }
    await assertNoLeaks(processTag());
  });

  test('run: output and exit code', async () => {
    const r = await run(name('run'), ['sh', '-c', 'echo hello from $(hostname); exit 3']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /^hello from /);
  });

  test('run: env, workdir, user and a read-only root', async () => {
    const r = await run(name('env'), ['sh', '-c', 'echo "foo=$FOO"; pwd; id -u; id -g; touch /x 2>/dev/null && echo writable || echo read-only; touch /tmp/y && echo tmp-writable'],
      ['--env', 'FOO=bar baz', '--workdir', '/tmp', '--user', '1000:100', '--read-only', '--read-only-tmpfs=false', '--tmpfs', '/tmp:rw,mode=1777,notmpcopyup']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['foo=bar baz', '/tmp', '1000', '100', 'read-only', 'tmp-writable']);
  });

  test('run --read-only: podman\'s tmpfs mounts with tmpcopyup', async () => {
    // podman puts tmpfs on /tmp, /var/tmp and /run with the tmpcopyup extension (runc and crun
    // copy the image's directory into the new tmpfs).
    const r = await run(name('rotmp'), ['sh', '-c', 'touch /x 2>/dev/null && echo writable || echo read-only; touch /tmp/y && echo tmp-writable'], ['--read-only']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['read-only', 'tmp-writable']);
  });

  test('run: a dropped capability is gone', async () => {
    const script = 'touch /tmp/f; chown 1000 /tmp/f 2>/dev/null && echo chowned || echo refused';
    const with_ = await run(name('caps'), ['sh', '-c', script]);
    assert.equal(with_.code, 0, with_.stderr);
    assert.equal(with_.stdout.trim(), 'chowned');
    const without = await run(name('caps'), ['sh', '-c', script], ['--cap-drop', 'CHOWN']);
    assert.equal(without.code, 0, without.stderr);
    assert.equal(without.stdout.trim(), 'refused');
  });

  test('run: the memory limit OOM-kills the container', async () => {
    const id = name('oom');
    // podman's State.OOMKilled is not checked: conmon 2.1.6 on this cgroup v1 host reports false
    // for runc as well (its v1 eventfd watch did not fire here), so it says nothing of the runtime.
    const r = await podman(['run', ...runFlags(id), '--memory', '32m', '--memory-swap', '32m', IMAGE, 'probe', 'memhog', '100']);
    try {
      assert.equal(r.code, 137, `killed by SIGKILL: ${r.stderr}`);
      assert.ok(Number(parseProbe(r.stdout).pop()?.mib) < 32, r.stdout.slice(-200));
      assert.equal(await inspect(id, '{{.State.ExitCode}}'), '137');
    } finally {
      await podman(['rm', '--force', id]);
    }
  });

  test('run: a pids limit stops a fork bomb', async () => {
    const r = await run(name('pids'), ['probe', 'forkbomb', '50'], ['--pids-limit', '20']);
    assert.equal(r.code, 0, r.stderr);
    const rec = parseProbe(r.stdout).pop()!;
    assert.ok(Number(rec.forked) < 20, r.stdout);
    assert.equal(rec.errno, 'EAGAIN', r.stdout);
  });

  test('run: a cpu limit of 0.2 cpus throttles', async () => {
    const r = await run(name('cpu'), ['probe', 'busy', '1'], ['--cpus', '0.2']);
    assert.equal(r.code, 0, r.stderr);
    const rec = parseProbe(r.stdout)[0]!;
    const share = Number(rec.cpu_ms) / Number(rec.wall_ms);
    assert.ok(share < 0.4, `cpu share ${share.toFixed(2)} of ${r.stdout.trim()}`);
  });

  test('run -t: a terminal through the console socket', async () => {
    const id = name('tty');
    const r = await withTty(['run', '-t', '--rm', ...runFlags(id), IMAGE, 'sh', '-c', 'probe isatty; tty; exit 7']);
    assert.equal(r.code, 7, r.stdout + r.stderr);
    assert.match(r.stdout, /fd0=1 fd1=1 fd2=1/);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
  });

  test('detached: logs, exec, exec -t, pause, unpause, stop', async () => {
    const id = name('life');
    const script = 'trap "echo got TERM; exit 9" TERM; echo started; while :; do sleep 0.1; done';
    const started = await podman(['run', '-d', ...runFlags(id), IMAGE, 'sh', '-c', script]);
    assert.equal(started.code, 0, started.stderr);
    try {
      assert.equal(await inspect(id, '{{.State.Status}}'), 'running');
      assert.ok(await waitFor(async () => (await podman(['logs', id])).stdout.includes('started')), 'logs show the output');

      const e = await podman(['exec', '--workdir', '/tmp', '--user', '1000', '--env', 'E=1', id, 'sh', '-c', 'id -u; pwd; echo $E; exit 4']);
      assert.equal(e.code, 4, e.stderr);
      assert.deepEqual(e.stdout.trim().split('\n'), ['1000', '/tmp', '1']);

      const t = await withTty(['exec', '-t', id, 'sh', '-c', 'probe isatty; exit 6']);
      assert.equal(t.code, 6, t.stdout + t.stderr);
      assert.match(t.stdout, /fd0=1 fd1=1 fd2=1/);

      assert.equal((await podman(['pause', id])).code, 0);
      assert.equal(await inspect(id, '{{.State.Status}}'), 'paused');
      assert.equal((await podman(['unpause', id])).code, 0);
      assert.equal(await inspect(id, '{{.State.Status}}'), 'running');

      const s = await podman(['stop', '--time', '10', id]);
      assert.equal(s.code, 0, s.stderr);
      assert.equal(await inspect(id, '{{.State.Status}}'), 'exited');
      assert.equal(await inspect(id, '{{.State.ExitCode}}'), '9');
      assert.match((await podman(['logs', id])).stdout, /started\ngot TERM/);
      const rm = await podman(['rm', id]);
      assert.equal(rm.code, 0, rm.stderr);
    } finally {
      await podman(['rm', '--force', '--time', '0', id]);
    }
    await assertNoLeaks(id);
  });

  test('podman\'s default seccomp profile is accepted and applied', async () => {
    const id = name('seccomp');
    const flags = runFlags(id).filter((f, i, a) => f !== '--security-opt' && a[i - 1] !== '--security-opt');
    const r = await podman(['run', '--rm', ...flags, IMAGE, 'sh', '-c', 'grep Seccomp: /proc/self/status']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Seccomp:\s+2/);
  });
});
