/**
 * The TypeScript API (src/engine/index.ts) as a Node program uses it: run an untrusted command
 * with limits and a timeout, stream its output, get its report — and leave nothing behind.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runContainer, type EnginePaths } from '../../src/engine/index.js';
import { assertNoLeaks, processTag, testCgroupParent, whyNotRoot } from '../support/bundle.js';

const skip = whyNotRoot();
let paths: EnginePaths;

before(() => {
  paths = { dataRoot: mkdtempSync(join(tmpdir(), `${processTag()}-api-data-`)), runtimeRoot: mkdtempSync(join(tmpdir(), `${processTag()}-api-run-`)) };
});
after(async () => {
  rmSync(paths.dataRoot, { recursive: true, force: true });
  rmSync(paths.runtimeRoot, { recursive: true, force: true });
  if (!skip) await assertNoLeaks(processTag());
});

const limits = { cgroupParent: testCgroupParent(), hostConfig: { ReadonlyRootfs: true, CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'], NetworkMode: 'none' } };

test('runContainer streams stdout and stderr and reports the exit', { skip }, async () => {
  let out = '';
  let err = '';
  const report = await runContainer({
    ...limits, paths, cmd: ['sh', '-c', 'echo out; echo err >&2; exit 2'], memory: '64m', pidsLimit: 16,
    onStdout: (b) => { out += b.toString(); }, onStderr: (b) => { err += b.toString(); },
  });
  assert.equal(out, 'out\n');
  assert.equal(err, 'err\n');
  assert.equal(report.exitCode, 2);
  assert.equal(report.summary, 'exited with code 2');
  assert.equal(report.pids.limit, 16);
  assert.equal(report.memory.limit, 64 << 20);
  assert.deepEqual(readdirSync(join(paths.dataRoot, 'containers')), [], 'removed afterwards');
});

test('a timeout kills every process and says so; an OOM kill says so', { skip }, async () => {
  const t0 = Date.now();
  const slow = await runContainer({ ...limits, paths, cmd: ['sh', '-c', 'sleep 30 & sleep 30'], timeoutMs: 300 });
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(slow.exitCode, 137);
  assert.equal(slow.summary, 'timed out: killed by SIGKILL');
  const oom = await runContainer({ ...limits, paths, cmd: ['sh', '-c', 'x=a; while true; do x=$x$x; done'], memory: '32m' });
  assert.equal(oom.oomKilled, true);
  assert.match(oom.summary, /^killed by the OOM killer: memory limit 32MiB reached/);
});

test('runContainer keeps a spare helper that does not keep the program alive', { skip }, async () => {
  // A program that runs one container and returns from its last await must exit at once,
  // although a spare helper (native/helper-pool.ts) was started for its next container.
  const script = `
    import { runContainer } from ${JSON.stringify(new URL('../../src/engine/index.js', import.meta.url).href)};
    const r = await runContainer({ cmd: ['true'], cgroupParent: ${JSON.stringify(testCgroupParent())}, hostConfig: { NetworkMode: 'none' },
      paths: ${JSON.stringify(paths)} });
    await new Promise((res) => setTimeout(res, 100)); // the spare is started once the loop is free
    const { readdirSync, readFileSync } = await import('node:fs');
    const children = (ppid) => readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).filter((p) => {
      try { return readFileSync('/proc/' + p + '/stat', 'utf8').split(') ')[1].split(' ')[1] === String(ppid); } catch { return false; }
    });
    const comm = (p) => readFileSync('/proc/' + p + '/comm', 'utf8').trim();
    const kids = children(process.pid);
    console.log(JSON.stringify({ code: r.exitCode, kids: kids.map(comm), grandkids: kids.flatMap(children).map(comm) }));
  `;
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const code = await new Promise<number | null>((res) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (c) => { clearTimeout(timer); res(c); });
  });
  assert.equal(code, 0, `the program did not exit by itself: ${err}`);
  const got = JSON.parse(out.trim().split('\n').pop()!) as { code: number; kids: string[]; grandkids: string[] };
  assert.equal(got.code, 0);
  // The spawner (native/spawner.ts) and its one spare helper, waiting; both run from the
  // sealed memfd copy (comm is memfd:berth-helper, cut to 15 characters).
  assert.equal(got.kids.length, 1, JSON.stringify(got));
  assert.match(got.kids[0]!, /berth-hel/);
  assert.equal(got.grandkids.length, 1, JSON.stringify(got));
  assert.match(got.grandkids[0]!, /berth-hel/);
});
