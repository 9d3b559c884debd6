/**
 * Process attributes set between clone and exec, checked from inside real containers with the
 * probe: the session keyring (new by default, the runtime's with --no-new-keyring, for the init
 * and for exec), linux.personality, process.ioPriority, process.scheduler, execCPUAffinity; and
 * where an exec'd process lands in the cgroup tree (CLONE_INTO_CGROUP, `exec --cgroup`).
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Spec } from '../../src/oci/spec.js';
import {
  assertNoLeaks, makeBundle, ownCgroupDirs, parseProbe, probePath, processTag, requireCommand, requireProbe,
  testCgroupParent, whyNotRoot, type TestBundle,
} from '../support/bundle.js';
import { makeRoot, otherRuntime, runtime, type Result } from '../support/runtime.js';

const skip = whyNotRoot() ?? (otherRuntime ? 'Berth only' : undefined);

describe('berth-runtime process attributes', { skip }, () => {
  let root: ReturnType<typeof makeRoot>;
  const bundles: TestBundle[] = [];
  const bundle = async (args: string[], mutate?: (s: Spec) => void) => {
    const b = await makeBundle({ args, mutate });
    bundles.push(b);
    return b;
  };
  const rt = (args: string[]) => runtime(root.root, args);
  const probe = (r: Result) => {
    assert.equal(r.code, 0, r.stderr);
    return parseProbe(r.stdout)[0]!;
  };
  /** This test process's own session keyring, as the probe sees it on the host. */
  const hostKeyring = () => parseProbe(spawnSync(probePath, ['keyring'], { encoding: 'utf8' }).stdout)[0]!['keyring'];

  before(() => { root = makeRoot(); });
  after(async () => {
    for (const b of bundles) await rt(['delete', '--force', b.id]);
    for (const b of bundles) await b.cleanup();
    root.cleanup();
    await assertNoLeaks(processTag());
  });

  test('the container gets a new session keyring named after it; --no-new-keyring keeps the runtime\'s', async (t) => {
    if (!requireProbe(t)) return;
    const b = await bundle(['probe', 'keyring']);
    const fresh = probe(await rt(['run', '--bundle', b.dir, b.id]));
    assert.equal(fresh['name'], b.id);
    assert.notEqual(fresh['keyring'], hostKeyring());
    const kept = probe(await rt(['run', '--no-new-keyring', '--bundle', b.dir, b.id]));
    assert.equal(kept['keyring'], hostKeyring(), 'the runtime\'s own session keyring');
    await assertNoLeaks(b.id);
  });

  test('exec follows the container\'s keyring choice', async (t) => {
    if (!requireProbe(t)) return;
    const a = await bundle(['sleep', '100']);
    const k = await bundle(['sleep', '100']);
    assert.equal((await rt(['run', '-d', '--bundle', a.dir, a.id])).code, 0);
    assert.equal((await rt(['run', '-d', '--no-new-keyring', '--bundle', k.dir, k.id])).code, 0);
    assert.equal(probe(await rt(['exec', a.id, 'probe', 'keyring']))['name'], a.id);
    assert.equal(probe(await rt(['exec', k.id, 'probe', 'keyring']))['keyring'], hostKeyring());
    await rt(['delete', '--force', a.id]);
    await rt(['delete', '--force', k.id]);
    await assertNoLeaks(a.id);
    await assertNoLeaks(k.id);
  });

  test('linux.personality, process.ioPriority and process.scheduler reach the process (run and exec)', async (t) => {
    if (!requireProbe(t)) return;
    const b = await bundle(['sleep', '100'], (s) => {
      s.linux!.personality = { domain: 'LINUX32', flags: ['ADDR_NO_RANDOMIZE'] };
      s.process!.ioPriority = { class: 'IOPRIO_CLASS_IDLE', priority: 5 };
      s.process!.scheduler = { policy: 'SCHED_BATCH', nice: 7 };
    });
    const r = await rt(['run', '-d', '--bundle', b.dir, b.id]);
    assert.equal(r.code, 0, r.stderr);
    // The init's own values, read from the host, and an exec'd process's from the inside.
    const init = Number(JSON.parse((await rt(['state', b.id])).stdout).pid);
    const stat = readFileSync(`/proc/${init}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    assert.equal(stat[16], '7', 'nice of the init');
    assert.equal(stat[38], '3', 'SCHED_BATCH for the init');
    assert.equal(readFileSync(`/proc/${init}/personality`, 'utf8').trim(), '00040008');
    const ex = probe(await rt(['exec', b.id, 'probe', 'sched']));
    assert.equal(ex['personality'], '0x40008', 'PER_LINUX32 | ADDR_NO_RANDOMIZE');
    assert.equal(ex['ioprio_class'], '3');
    assert.equal(ex['ioprio_level'], '5');
    assert.equal(ex['policy'], '3', 'SCHED_BATCH');
    assert.equal(ex['nice'], '7');
    if (process.arch === 'x64') assert.equal((await rt(['exec', b.id, 'uname', '-m'])).stdout.trim(), 'i686');
    await rt(['delete', '--force', b.id]);
    const idle = await bundle(['probe', 'sched'], (s) => { s.process!.scheduler = { policy: 'SCHED_IDLE' }; });
    assert.equal(probe(await rt(['run', '--bundle', idle.dir, idle.id]))['policy'], '5', 'SCHED_IDLE');
    await assertNoLeaks(b.id);
  });

  test('an unknown personality flag is refused naming the field', async () => {
    const b = await bundle(['true'], (s) => { s.linux!.personality = { domain: 'LINUX', flags: ['NO_SUCH_FLAG'] }; });
    const r = await rt(['run', '--bundle', b.dir, b.id]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /linux\.personality\.flags\[0\] "NO_SUCH_FLAG" is not one of/);
    await assertNoLeaks(b.id);
  });

  test('exec honours execCPUAffinity initial and final', async (t) => {
    if (!requireProbe(t)) return;
    if (availableParallelism() < 2) return t.skip('needs two CPUs');
    const b = await bundle(['sleep', '100']);
    assert.equal((await rt(['run', '-d', '--bundle', b.dir, b.id])).code, 0);
    const proc = (aff: object) => {
      const file = join(b.dir, `proc-${JSON.stringify(aff).length}.json`);
      writeFileSync(file, JSON.stringify({ args: ['probe', 'sched'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'], execCPUAffinity: aff }));
      return file;
    };
    assert.equal(probe(await rt(['exec', '-p', proc({ initial: '0', final: '1' }), b.id]))['cpus'], '1');
    assert.equal(probe(await rt(['exec', '-p', proc({ initial: '1' }), b.id]))['cpus'], '1', 'without final the initial set stays');
    await rt(['delete', '--force', b.id]);
    await assertNoLeaks(b.id);
  });

  test('exec is cloned straight into the container\'s cgroup v2 directory (CLONE_INTO_CGROUP)', async (t) => {
    if (!requireProbe(t) || !requireCommand(t, 'strace')) return;
    const dirs = await ownCgroupDirs();
    if (!dirs.some((d) => d.controllers === 'unified')) return t.skip('no cgroup2 hierarchy on this host');
    const b = await bundle(['sleep', '100']);
    assert.equal((await rt(['run', '-d', '--bundle', b.dir, b.id])).code, 0);
    const { runtimeBin } = await import('../support/runtime.js');
    const st = spawnSync('strace', ['-f', '-e', 'trace=clone3', process.execPath, runtimeBin, '--root', root.root, 'exec', b.id, 'probe', 'cgroup'],
      { encoding: 'utf8' });
    assert.equal(st.status, 0, st.stderr);
    assert.match(st.stderr, /clone3\(\{flags=CLONE_INTO_CGROUP[^)]*\) = [1-9]/, 'clone3 with CLONE_INTO_CGROUP succeeded');
    assert.match(st.stdout, new RegExp(`^0::.*/${testCgroupParent()}/${b.id}$`, 'm'));
    await rt(['delete', '--force', b.id]);
    await assertNoLeaks(b.id);
  });

  test('exec --cgroup puts the process in an existing sub-cgroup', async (t) => {
    if (!requireProbe(t)) return;
    const b = await bundle(['sleep', '100']);
    assert.equal((await rt(['run', '-d', '--bundle', b.dir, b.id])).code, 0);
    const mine = (await ownCgroupDirs()).map((d) => ({ ...d, dir: join(d.dir, testCgroupParent(), b.id) })).filter((d) => existsSync(d.dir));
    for (const d of mine) {
      mkdirSync(join(d.dir, 'sub'));
      // A new v1 cpuset has no CPUs or memory nodes: give it its parent's.
      if (d.controllers === 'cpuset') {
        for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(d.dir, 'sub', f), readFileSync(join(d.dir, f)));
      }
    }
    const lines = (r: Result) => { assert.equal(r.code, 0, r.stderr); return r.stdout.trim().split('\n'); };
    const memOnly = lines(await rt(['exec', '--cgroup', 'memory:sub', b.id, 'probe', 'cgroup']));
    assert.ok(memOnly.some((l) => /:memory:.*\/sub$/.test(l)), memOnly.join('\n'));
    assert.ok(memOnly.filter((l) => !/:memory:|name=/.test(l)).every((l) => l.endsWith(`/${b.id}`)), memOnly.join('\n'));
    const all = lines(await rt(['exec', '--cgroup', 'sub', b.id, 'probe', 'cgroup']));
    assert.ok(all.filter((l) => !/name=/.test(l)).every((l) => l.endsWith(`/${b.id}/sub`)), all.join('\n'));
    const bad = await rt(['exec', '--cgroup', 'missing', b.id, 'true']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--cgroup "missing": .*missing does not exist/);
    const escape = await rt(['exec', '--cgroup', '../x', b.id, 'true']);
    assert.match(escape.stderr, /must be relative and stay below the container's cgroup/);
    // delete removes the sub-cgroups with the container's own (depth first)
    assert.equal((await rt(['delete', '--force', b.id])).code, 0);
    await assertNoLeaks(b.id);
  });
});
