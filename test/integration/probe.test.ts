/**
 * The probe and the busybox rootfs for real: chroot into the rootfs and run the probe, run memhog
 * and forkbomb under real limits in cgroups below our own, and run a makeBundle bundle with the
 * reference runtimes (runc, crun) to show the bundle is valid and the relative cgroupsPath lands
 * below this process's cgroup in every hierarchy.
 */
import * as assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import {
  assertNoLeaks, makeBundle, makeBusyboxRootfs, ownCgroupDirs, parseProbe, probePath, processTag,
  requireCommand, requireProbe, requireRoot, testCgroupParent, uniqueId,
} from '../support/bundle.js';

const run = promisify(execFile);
let rootfs = '';

before(async () => {
  if (process.getuid?.() !== 0) return;
  rootfs = join(await mkdtemp(join(tmpdir(), `${processTag()}-probe-`)), 'rootfs');
  await makeBusyboxRootfs(rootfs);
});

after(async () => {
  if (rootfs) await rm(join(rootfs, '..'), { recursive: true, force: true });
  if (process.getuid?.() === 0) await assertNoLeaks(processTag());
});

test('busybox sh runs chrooted in the rootfs', async (t) => {
  if (!requireRoot(t)) return;
  const { stdout } = await run('chroot', [rootfs, '/bin/sh', '-c', 'echo hello from $(basename $0); id -u berth']);
  assert.equal(stdout, 'hello from sh\n1000\n');
});

test('probe ids, pid, cwd and umask run chrooted in the rootfs', async (t) => {
  if (!requireRoot(t) || !requireProbe(t)) return;
  const out = async (...args: string[]) => parseProbe((await run('chroot', [rootfs, '/bin/probe', ...args])).stdout);
  assert.deepEqual((await out('ids'))[0], { uid: '0', gid: '0', euid: '0', egid: '0', groups: '' });
  assert.equal((await out('cwd'))[0]?.cwd, '/');
  assert.match((await out('umask'))[0]?.umask ?? '', /^0[0-7]{3}$/);
  assert.ok(Number((await out('pid'))[0]?.pid) > 1);
});

test('probe reports errno names and isatty', async (t) => {
  if (!requireProbe(t)) return;
  const probe = (...args: string[]) => spawnSync(probePath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(probe('open', '/nonexistent/x', 'r').stdout, 'ENOENT\n');
  assert.equal(probe('syscall', 'mkdir', '/nonexistent/x').stdout, 'ENOENT\n');
  assert.deepEqual(parseProbe(probe('isatty').stdout)[0], { fd0: '0', fd1: '0', fd2: '0' });
  assert.equal(probe('exit', '42').status, 42);
  assert.equal(probe('kill-self', 'TERM').signal, 'SIGTERM');
  assert.equal(probe('nosuchcommand').status, 2);
  const rl = parseProbe(probe('rlimits').stdout).find((r) => r.rlimit === 'RLIMIT_NOFILE');
  assert.match(rl?.soft ?? '', /^(\d+|unlimited)$/);
  const busy = parseProbe(probe('busy', '0.2').stdout)[0];
  assert.ok(Number(busy?.wall_ms) >= 200 && Number(busy?.cpu_ms) > 0, JSON.stringify(busy));
});

/**
 * Makes a cgroup below our own in the hierarchy holding `controller` (on v2 only when our cgroup
 * delegates it in cgroup.subtree_control); removed after the test.
 */
async function childCgroup(t: TestContext, controller: string): Promise<string | undefined> {
  const dirs = await ownCgroupDirs();
  const v1 = dirs.find((d) => d.controllers.split(',').includes(controller));
  const v2 = dirs.find((d) => d.controllers === 'unified');
  const base = v1?.dir ?? (v2 && (await readFile(join(v2.dir, 'cgroup.subtree_control'), 'utf8').catch(() => '')).split(/\s/).includes(controller) ? v2.dir : undefined);
  if (!base) { t.skip(`no ${controller} controller available here`); return undefined; }
  const dir = join(base, uniqueId(controller));
  await mkdir(dir);
  t.after(() => removeCgroup(dir));
  return dir;
}

/**
 * rmdir fails with EBUSY while the cgroup still has tasks. forkbomb's children die of
 * PR_SET_PDEATHSIG only after their parent has exited, and are reaped by whoever inherits them,
 * so the cgroup empties a moment after the probe's exit status arrives: retry for up to 2 s.
 */
async function removeCgroup(dir: string): Promise<void> {
  for (let i = 0; ; i++) {
    try { await rmdir(dir); return; } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || i >= 100) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Runs the probe inside `cgroup` (moved there by a shell before it execs). */
function probeIn(cgroup: string, ...args: string[]) {
  return spawnSync('/bin/sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup, probePath, ...args], { encoding: 'utf8' });
}

test('memhog is killed by a 16 MiB memory limit after reporting progress', async (t) => {
  if (!requireRoot(t) || !requireProbe(t)) return;
  const cg = await childCgroup(t, 'memory');
  if (!cg) return;
  const v1 = existsSync(join(cg, 'memory.limit_in_bytes'));
  await writeFile(join(cg, v1 ? 'memory.limit_in_bytes' : 'memory.max'), String(16 << 20));
  await writeFile(join(cg, v1 ? 'memory.memsw.limit_in_bytes' : 'memory.swap.max'), v1 ? String(16 << 20) : '0').catch(() => undefined);
  const r = probeIn(cg, 'memhog', '64');
  assert.equal(r.signal, 'SIGKILL', `status ${r.status} stdout ${r.stdout.slice(-200)}`);
  const last = Number(parseProbe(r.stdout).at(-1)?.mib);
  assert.ok(last >= 4 && last < 16, `last progress line mib=${last}`);
});

test('forkbomb stops at the pids limit with EAGAIN', async (t) => {
  if (!requireRoot(t) || !requireProbe(t)) return;
  const cg = await childCgroup(t, 'pids');
  if (!cg) return;
  await writeFile(join(cg, 'pids.max'), '6');
  const r = probeIn(cg, 'forkbomb', '20');
  assert.deepEqual(parseProbe(r.stdout)[0], { forked: '5', errno: 'EAGAIN' });
});

for (const runtime of ['runc', 'crun']) {
  test(`a makeBundle bundle runs under ${runtime} with its cgroup below ours`, async (t) => {
    if (!requireRoot(t) || !requireProbe(t) || !requireCommand(t, runtime)) return;
    if (runtime === 'crun' && (await readFile('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').catch(() => '')).trim()) {
      t.skip('crun refuses hybrid cgroups with controllers in the unified hierarchy (here: hugetlb)');
      return;
    }
    const b = await makeBundle({ args: ['/bin/probe', 'cgroup'] });
    try {
      // --root in the bundle keeps the runtime's state out of /run
      const { stdout } = await run(runtime, ['--root', join(b.dir, 'state'), 'run', '--bundle', b.dir, b.id]);
      // the memory hierarchy on v1 (where our cgroup is not /), the unified one on v2; the
      // container has no cgroup namespace in this spec, so it sees the full path
      const own = await readFile('/proc/self/cgroup', 'utf8');
      const re = /^\d+:memory:(.*)$/m.test(own) ? /^\d+:memory:(.*)$/m : /^0::(.*)$/m;
      const mine = re.exec(own)?.[1];
      const inner = re.exec(stdout)?.[1];
      assert.ok(mine !== undefined && inner !== undefined, stdout);
      assert.equal(inner, join(mine, testCgroupParent(), b.id));
      await assertNoLeaks(b.id);
    } finally {
      await b.cleanup();
    }
  });
}

test('assertNoLeaks reports a leaked cgroup and process, then passes once they are gone', async (t) => {
  if (!requireRoot(t) || !requireProbe(t)) return;
  const cg = await childCgroup(t, 'pids');
  if (!cg) return;
  const id = cg.split('/').at(-1) ?? '';
  const child = spawn(probePath, ['sleep', '30', id], { stdio: 'ignore' });
  try {
    await assert.rejects(assertNoLeaks(id), (err: Error) => /cgroup .*\n.*process \d+/s.test(err.message));
    await assert.rejects(assertNoLeaks('not-a-test-name'), /must contain berth-test/);
  } finally {
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  await removeCgroup(cg);
  await assertNoLeaks(id);
});
