/**
 * `berth run` through its C client and a warm engine worker on a real cgroup v2 kernel (the VM of
 * scripts/test-cgroup-v2.sh): the client is the container's helper and clones it straight into
 * its cgroup (CLONE_INTO_CGROUP), and a relative --cgroup-parent lands below the CALLER's cgroup
 * (the worker takes the client's cgroups as its own), not the server's. One server, one run:
 * under TCG a Node start costs seconds. Skipped outside the VM.
 */
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { processTag, repoRoot } from '../support/bundle.js';
import { collect } from '../support/runtime.js';

const skip = process.env['V2VM'] === '1' ? false : 'runs only in the cgroup v2 VM (npm run test:cgroup-v2)';

/** This process's cgroup v2 directory. */
function ownCgroup(): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))!;
  return join('/sys/fs/cgroup', line.slice(3));
}

describe('berth through a warm engine worker on cgroup v2', { skip }, () => {
  let dir: string;
  let server: ChildProcess;
  let log = '';
  let srvCgroup: string;
  const env = () => ({ ...process.env, BERTH_DEFAULT_NETWORK: 'none', BERTH_RUNTIME_SOCKET: join(dir, 'runtime.sock'), BERTH_SERVER_IDLE_MS: '600000' });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), `${processTag()}-warm-`));
    // The server in a cgroup of its own (below ours; the VM runs the tests in the root cgroup):
    // a container placed by the worker's cgroup instead of the caller's would show below it.
    srvCgroup = join(ownCgroup(), `${processTag()}-srv`);
    mkdirSync(srvCgroup, { recursive: true });
    server = spawn(process.execPath, [join(repoRoot, 'dist/src/server/main.js')], {
      env: { ...env(), _BERTH_SERVER_FOR: 'berth' }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    server.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
    writeFileSync(join(srvCgroup, 'cgroup.procs'), String(server.pid));
    for (let i = 0; i < 1200 && !log.includes('listening'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(log, /listening/, log);
  });

  after(async () => {
    if (server?.exitCode === null) {
      const gone = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await gone;
    }
    for (let i = 0; i < 100; i++) {
      try { rmdirSync(srvCgroup); break; } catch { await new Promise((r) => setTimeout(r, 100)); }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('run --memory through the client: memory.max inside, the cgroup below the caller\'s', { timeout: 300_000 }, async () => {
    const parent = `${processTag()}-warm`;
    const child = spawn(join(repoRoot, 'native/build/berth'), ['--data-root', join(dir, 'data'), '--root', join(dir, 'run'),
      'run', '--rm', '--memory', '64m', '--cgroup-parent', parent, '--', 'sh', '-c', 'cat /sys/fs/cgroup/memory.max; cat /proc/self/cgroup'], {
      stdio: ['pipe', 'pipe', 'pipe'], env: { ...env(), BERTH_NODE: '/bin/false' },
    });
    const r = await collect(child, 'berth run', { timeoutMs: 240_000 });
    try {
      assert.equal(r.code, 0, `${r.stderr}\n${log}`);
      const [max, cg] = r.stdout.trim().split('\n');
      assert.equal(max, String(64 * 1024 * 1024));
      assert.ok(cg !== undefined);
      // --cgroup-parent is relative to the caller's cgroup (ours), not the server's
      assert.ok(existsSync(join(ownCgroup(), parent)), `no ${parent} below ${ownCgroup()}`);
      assert.ok(!existsSync(join(srvCgroup, parent)), `${parent} was made below the server's cgroup`);
    } finally {
      try { rmdirSync(join(ownCgroup(), parent)); } catch { /* not made: the assertion above says so */ }
    }
  });
});
