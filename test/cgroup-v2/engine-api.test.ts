/**
 * The TypeScript API on a real cgroup v2 kernel (the VM of scripts/test-cgroup-v2.sh): two
 * containers in a row, the second started by a helper the spawner forked ahead of need
 * (native/spawner.ts), both cloned straight into their cgroup, with the limits inside and in the
 * report. Skipped outside the VM.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { dropSpareHelpers, runContainer } from '../../src/engine/index.js';
import { sharedSpawner } from '../../src/native/spawner.js';
import { processTag } from '../support/bundle.js';

const skip = process.env['V2VM'] === '1' ? false : 'runs only in the cgroup v2 VM (npm run test:cgroup-v2)';

/** This process's cgroup v2 directory. */
function ownCgroup(): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))!;
  return join('/sys/fs/cgroup', line.slice(3));
}

test('runContainer twice on cgroup v2: memory.max and pids.max inside and in the report, the second through the spawner', { skip, timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), `${processTag()}-api-`));
  const parent = `${processTag()}-api`;
  const keepAlive = setInterval(() => {}, 1000); // the spare and the spawner never hold the loop
  try {
    const once = async () => {
      let out = '';
      const report = await runContainer({
        cmd: ['sh', '-c', 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max'], memory: '64m', pidsLimit: 32,
        cgroupParent: parent, hostConfig: { NetworkMode: 'none' },
        paths: { dataRoot: join(dir, 'data'), runtimeRoot: join(dir, 'run') }, onStdout: (b) => { out += b.toString(); },
      });
      assert.equal(report.exitCode, 0, report.summary);
      assert.equal(out, `${64 * 1024 * 1024}\n32\n`);
      assert.equal(report.memory.limit, 64 * 1024 * 1024);
      assert.equal(report.pids.limit, 32);
    };
    await once();
    for (let i = 0; i < 300 && !sharedSpawner(); i++) await new Promise((r) => setTimeout(r, 100));
    const spawner = sharedSpawner();
    assert.ok(spawner?.pid, 'the spawner was started for the next container');
    // its spare: a child of the spawner (the VM is slow: give it time to be forked)
    const kids = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try { return readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')[1] === String(spawner.pid); } catch { return false; }
    });
    for (let i = 0; i < 300 && kids().length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(kids().length, 1, 'one spare helper');
    await once();
    assert.deepEqual(readdirSync(join(ownCgroup(), parent)).filter((f) => !f.includes('.')), [], 'the containers\' cgroups are gone');
  } finally {
    clearInterval(keepAlive);
    dropSpareHelpers();
    try { rmdirSync(join(ownCgroup(), parent)); } catch { /* not made */ }
    rmSync(dir, { recursive: true, force: true });
  }
});
