/**
 * The spawner (src/native/spawner.ts, native/spawner.c): helpers forked by a small native
 * process connect back to this one and run containers as a Node-spawned helper would; strangers
 * on its socket are turned away; its exit reports give a helper's status; a program that drops
 * it leaves no process behind, and when it is gone the API spawns helpers itself.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runContainer, type EnginePaths } from '../../src/engine/index.js';
import { dropSpareHelpers } from '../../src/native/helper-pool.js';
import { sharedSpawner } from '../../src/native/spawner.js';
import { assertNoLeaks, processTag, testCgroupParent, whyNotRoot } from '../support/bundle.js';

const skip = whyNotRoot();
let paths: EnginePaths;
// The spawner and its idle helpers never keep the program alive; the tests that await them do.
let keepAlive: NodeJS.Timeout;

before(() => {
  keepAlive = setInterval(() => {}, 1000);
  paths = { dataRoot: mkdtempSync(join(tmpdir(), `${processTag()}-spawner-data-`)), runtimeRoot: mkdtempSync(join(tmpdir(), `${processTag()}-spawner-run-`)) };
});
after(async () => {
  clearInterval(keepAlive);
  dropSpareHelpers();
  rmSync(paths.dataRoot, { recursive: true, force: true });
  rmSync(paths.runtimeRoot, { recursive: true, force: true });
  if (!skip) await assertNoLeaks(processTag());
});

/** Parent pid and state letter of a process, or undefined when it is gone. */
function procStat(pid: number): { ppid: number; state: string } | undefined {
  try {
    const rest = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return { state: rest[0]!, ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

/** The pids whose parent is `ppid`. */
function childrenOf(ppid: number): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((p) => procStat(p)?.ppid === ppid);
}

/** Gone, or a zombie (this sandbox's pid 1 does not reap orphans). */
async function waitEnded(pid: number, ms = 5000): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
    const s = procStat(pid);
    if (!s || s.state === 'Z') return true;
  }
  return false;
}

const run = (cmd: string[], out: { stdout: string; stderr: string }) => runContainer({
  paths, cmd, cgroupParent: testCgroupParent(), hostConfig: { NetworkMode: 'none' },
  onStdout: (b) => { out.stdout += b.toString(); }, onStderr: (b) => { out.stderr += b.toString(); },
});

test('a helper forked by the spawner runs the next container: separate stdout and stderr, exit code, no stdin', { skip }, async () => {
  const first = { stdout: '', stderr: '' };
  assert.equal((await run(['true'], first)).exitCode, 0);
  await new Promise((r) => setTimeout(r, 200)); // the spare is asked for once the loop is free
  const spawner = sharedSpawner();
  assert.ok(spawner?.pid, 'the spawner runs');
  const spares = childrenOf(spawner.pid);
  assert.equal(spares.length, 1, 'one spare helper, forked by the spawner');
  const out = { stdout: '', stderr: '' };
  const report = await run(['sh', '-c', 'echo out; echo err >&2; read x; echo "stdin: $? $x"; exit 3'], out);
  assert.equal(report.exitCode, 3);
  assert.equal(out.stdout, 'out\nstdin: 1 \n');
  assert.equal(out.stderr, 'err\n');
  assert.ok(await waitEnded(spares[0]!), 'the spare ran this container and is gone');
});

test('the spawner forks helpers as its own children and reports their exit status', { skip }, async () => {
  const spawner = sharedSpawner()!;
  const session = await spawner.request(['ignore', 'pipe', 'pipe']);
  const pid = session.helperPid!;
  assert.equal(procStat(pid)?.ppid, spawner.pid, 'the helper is the spawner\'s child');
  assert.ok(session.idle);
  assert.ok(session.stdout && session.stderr && !session.stdin);
  session.kill();
  assert.equal(await session.exitCode(), 137);
});

test('a connection without a requested token is closed', { skip }, async () => {
  const spawner = sharedSpawner()!;
  const sock = connect(spawner.address);
  sock.write(`${'0'.repeat(32)} sync ${process.pid}\n`);
  await new Promise<void>((resolve, reject) => {
    sock.on('close', () => resolve());
    sock.on('error', () => resolve());
    setTimeout(() => reject(new Error('the stranger\'s connection stayed open')), 5000).unref();
  });
});

test('a program that drops the spawner leaves no process; a new one starts on demand', { skip }, async () => {
  const old = sharedSpawner()!;
  const spare = await old.request(['ignore', 'pipe', 'pipe']);
  const pids = [old.pid!, spare.helperPid!];
  dropSpareHelpers();
  spare.kill(); // not in the pool: a session the test asked for itself
  for (const pid of pids) assert.ok(await waitEnded(pid), `pid ${pid} still runs`);
  const fresh = sharedSpawner();
  assert.ok(fresh && fresh !== old && fresh.pid !== old.pid);
});

test('when the spawner dies, containers still run: helpers are spawned by Node again', { skip }, async () => {
  const spawner = sharedSpawner()!;
  process.kill(spawner.pid!, 'SIGKILL');
  await new Promise<void>((r) => { const t = setInterval(() => { if (spawner.gone) { clearInterval(t); r(); } }, 10); });
  assert.equal(sharedSpawner(), undefined, 'not restarted: something is wrong with it here');
  for (let i = 0; i < 2; i++) {
    const out = { stdout: '', stderr: '' };
    assert.equal((await run(['echo', 'hi'], out)).exitCode, 0);
    assert.equal(out.stdout, 'hi\n');
  }
});
