/**
 * containerd 1.6 drives the runtime under test (`ctr run --runc-binary`, through the
 * io.containerd.runc.v2 shim): run, exit codes, env, cwd, read-only root, capability drops, a
 * memory limit with an OOM kill, a cpu limit, a tty through the console socket, exec (plain,
 * with a tty, detached), ps, pause/resume, metrics, kill and kill --all.
 *
 * The test starts its own containerd (a private config, root, state and socket in a temporary
 * `berth-test-<pid>-containerd-*` directory, its own namespace, the native snapshotter) and imports
 * a busybox image built offline. Containers' cgroups are the relative path `berth-test-<pid>/<id>`,
 * below the runtime's cgroup, which is this process's (containerd and its shims are our
 * descendants). `RUNTIME=runc` runs the same tests against runc.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertNoLeaks, parseProbe, probePath, processTag, whyNotRoot } from '../support/bundle.js';
import { existsSync } from 'node:fs';
import { buildImageArchive, findCommand, runtimeBinary, sh, startContainerd, tempDir, waitFor, type Containerd, type Result } from './support.js';

const IMAGE = 'docker.io/berth-test/busybox:latest';

function whyNot(): string | undefined {
  const root = whyNotRoot();
  if (root) return root;
  if (!findCommand('containerd') || !findCommand('ctr')) return 'containerd not installed: apt-get install containerd';
  if (!findCommand('script')) return 'script (bsdutils) not installed';
  if (!existsSync(probePath)) return `${probePath} not built: make -C native/probe`;
  return undefined;
}

const skip = whyNot();
if (skip) console.log(`# containerd e2e tests skipped: ${skip}`);

describe(`containerd with ${process.env.RUNTIME ?? 'berth'}`, { skip }, () => {
  let dir: string;
  let cd: Containerd;
  let n = 0;
  const name = (label: string) => `${processTag()}-${label}-${++n}`;

  /** `ctr run` flags that put the container under our cgroup and use the runtime under test. */
  const runFlags = (id: string) => ['--snapshotter', 'native', '--runc-binary', runtimeBinary(), '--runc-root', `${dir}/runc`,
    '--fifo-dir', `${dir}/fifo`, '--cgroup', `${processTag()}/${id}`];

  /** `ctr run --rm [flags] IMAGE ID ARGS...`, in the foreground. */
  const run = (id: string, args: string[], flags: string[] = []) =>
    cd.ctr(['run', '--rm', ...runFlags(id), ...flags, IMAGE, id, ...args], { timeoutMs: 60_000 });

  /** A ctr command run under `script`, so ctr has a terminal to put in raw mode (`-t`). */
  const withTty = (args: string[]): Promise<Result> => {
    const quoted = ['ctr', '--address', cd.address, '--namespace', cd.namespace, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    return sh('script', ['-qec', quoted, '/dev/null'], { timeoutMs: 60_000 });
  };

  const taskStatus = async (id: string) => {
    const r = await cd.ctr(['task', 'ls']);
    return new RegExp(`^${id}\\s+\\d+\\s+(\\w+)`, 'm').exec(r.stdout)?.[1];
  };

  /** Removes a task and its container whatever state they are in. */
  const remove = async (id: string) => {
    await cd.ctr(['task', 'kill', '--all', '--signal', 'KILL', id]);
    await waitFor(async () => (await taskStatus(id)) !== 'RUNNING', 5000);
    await cd.ctr(['task', 'rm', '--force', id]);
    await cd.ctr(['container', 'rm', id]);
  };

  before(async () => {
    dir = await tempDir('containerd');
    cd = await startContainerd(dir);
    const archive = await buildImageArchive(dir, 'berth-test/busybox:latest');
    const r = await cd.ctr(['image', 'import', '--snapshotter', 'native', archive]);
    assert.equal(r.code, 0, r.stderr);
  });

  after(async () => {
    if (cd) {
      for (const id of (await cd.ctr(['container', 'ls', '-q'])).stdout.split('\n').filter(Boolean)) await remove(id);
      await cd.stop();
    }
    await assertNoLeaks(processTag());
  });

  test('run: output and exit code', async () => {
    const r = await run(name('run'), ['sh', '-c', 'echo hello from $(hostname); exit 3']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /^hello from /);
  });

  test('run: env, cwd and a read-only root', async () => {
    const r = await run(name('env'), ['sh', '-c', 'echo "foo=$FOO"; pwd; touch /x 2>/dev/null && echo writable || echo read-only'],
      ['--env', 'FOO=bar baz', '--cwd', '/tmp', '--read-only']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['foo=bar baz', '/tmp', 'read-only']);
  });

  test('run: a dropped capability is gone', async () => {
    const script = 'touch /tmp/f; chown 1000 /tmp/f 2>/dev/null && echo chowned || echo refused; grep CapEff /proc/self/status';
    const with_ = await run(name('caps'), ['sh', '-c', script]);
    assert.equal(with_.code, 0, with_.stderr);
    assert.match(with_.stdout, /^chowned/);
    const without = await run(name('caps'), ['sh', '-c', script], ['--cap-drop', 'CAP_CHOWN']);
    assert.equal(without.code, 0, without.stderr);
    assert.match(without.stdout, /^refused/);
    const eff = BigInt(`0x${/CapEff:\s+([0-9a-f]+)/.exec(without.stdout)?.[1]}`);
    assert.equal(eff & 1n, 0n, 'CAP_CHOWN (bit 0) is not effective');
  });

  test('run: the memory limit OOM-kills the container', async () => {
    const r = await run(name('oom'), ['probe', 'memhog', '100'], ['--memory-limit', String(32 * 1024 * 1024)]);
    assert.equal(r.code, 137, `killed by SIGKILL: ${r.stderr}`);
    const last = parseProbe(r.stdout).pop();
    assert.ok(Number(last?.mib) < 32, `stopped below 32 MiB: ${r.stdout.slice(-200)}`);
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
    const r = await withTty(['run', '-t', '--rm', ...runFlags(id), IMAGE, id, 'sh', '-c', 'probe isatty; tty; exit 7']);
    assert.equal(r.code, 7, r.stdout + r.stderr);
    assert.match(r.stdout, /fd0=1 fd1=1 fd2=1/);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
  });

  test('kill: SIGTERM reaches the init, which exits with its own status', async () => {
    const id = name('term');
    const running = run(id, ['sh', '-c', 'trap "exit 9" TERM; echo ready; while :; do sleep 0.1; done']);
    assert.equal(await waitFor(async () => (await taskStatus(id)) === 'RUNNING'), true, 'task runs');
    await new Promise((r) => setTimeout(r, 300)); // let the shell install its trap
    const k = await cd.ctr(['task', 'kill', id]);
    assert.equal(k.code, 0, k.stderr);
    const r = await running;
    assert.equal(r.code, 9, r.stderr);
    assert.match(r.stdout, /ready/);
  });

  test('detached: exec, exec -t, exec -d, ps, pause, resume, metrics, kill --all', async () => {
    const id = name('life');
    const started = await cd.ctr(['run', '-d', ...runFlags(id), IMAGE, id, 'sleep', '1000']);
    assert.equal(started.code, 0, started.stderr);
    try {
      assert.equal(await taskStatus(id), 'RUNNING');
      const e = await cd.ctr(['task', 'exec', '--fifo-dir', `${dir}/fifo`, '--exec-id', 'e1', '--cwd', '/tmp', '--user', '1000', id, 'sh', '-c', 'id -u; pwd; exit 4']);
      assert.equal(e.code, 4, e.stderr);
      assert.deepEqual(e.stdout.trim().split('\n'), ['1000', '/tmp']);

      const t = await withTty(['task', 'exec', '--fifo-dir', `${dir}/fifo`, '-t', '--exec-id', 't1', id, 'sh', '-c', 'probe isatty; exit 6']);
      assert.equal(t.code, 6, t.stdout + t.stderr);
      assert.match(t.stdout, /fd0=1 fd1=1 fd2=1/);

      const d = await cd.ctr(['task', 'exec', '--fifo-dir', `${dir}/fifo`, '-d', '--exec-id', 'd1', id, 'sleep', '500']);
      assert.equal(d.code, 0, d.stderr);
      const ps = await cd.ctr(['task', 'ps', id]);
      assert.equal(ps.code, 0, ps.stderr);
      assert.equal(ps.stdout.trim().split('\n').length - 1, 2, `init and the detached exec: ${ps.stdout}`);
      assert.match(ps.stdout, /ExecID:d1/);

      assert.equal((await cd.ctr(['task', 'pause', id])).code, 0);
      assert.equal(await taskStatus(id), 'PAUSED');
      assert.equal((await cd.ctr(['task', 'resume', id])).code, 0);
      assert.equal(await taskStatus(id), 'RUNNING');

      const m = await cd.ctr(['task', 'metrics', id]);
      assert.equal(m.code, 0, m.stderr);
      assert.match(m.stdout, /memory\.usage_in_bytes\s+\d+/);
      assert.match(m.stdout, /pids\.current\s+2/);

      const k = await cd.ctr(['task', 'kill', '--all', '--signal', 'KILL', id]);
      assert.equal(k.code, 0, k.stderr);
      assert.equal(await waitFor(async () => (await taskStatus(id)) === 'STOPPED'), true, 'task stopped');
      const rm = await cd.ctr(['task', 'rm', id]);
      assert.equal(rm.code, 0, rm.stderr);
      assert.match(rm.stderr, /exit code 137/);
      assert.equal((await cd.ctr(['container', 'rm', id])).code, 0);
    } finally {
      await remove(id);
    }
    await assertNoLeaks(id);
  });

  test('an exec of a missing binary fails with the runtime\'s message', async () => {
    const id = name('noexec');
    assert.equal((await cd.ctr(['run', '-d', ...runFlags(id), IMAGE, id, 'sleep', '1000'])).code, 0);
    try {
      const e = await cd.ctr(['task', 'exec', '--fifo-dir', `${dir}/fifo`, '--exec-id', 'x1', id, '/no/such/binary']);
      assert.notEqual(e.code, 0);
      assert.match(e.stderr, /no\/such\/binary/);
      assert.match(e.stderr, /no such file or directory/i);
    } finally {
      await remove(id);
    }
  });
});
