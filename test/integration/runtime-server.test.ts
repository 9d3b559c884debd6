/**
 * The warm runtime server and its C client (native/build/berth-runtime): the lifecycle through
 * the client, the client becoming the helper (stdio, preserved fds, exit codes, signals), errors,
 * concurrent requests, a relative cgroupsPath placed below the CALLER's cgroup (not the server's),
 * stale-code detection with the fall back to the cold path, and the idle exit. Every server is
 * started on a private socket in a berth-test-* directory and stopped by pid.
 */
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertNoLeaks, makeBundle, ownCgroupDirs, processTag, repoRoot, testCgroupParent, whyNotRoot, type TestBundle } from '../support/bundle.js';
import { collect, makeRoot, type Result } from '../support/runtime.js';

const clientBin = join(repoRoot, 'native/build/berth-runtime');
const serverEntry = join(repoRoot, 'dist/src/server/main.js');
const skip = whyNotRoot() ?? (existsSync(clientBin) ? undefined : `${clientBin} is missing: run make -C native`);

interface Server { proc: ChildProcess; socket: string; log: () => string; exited: Promise<number | null> }

/** Start a server on `socket`; resolves once it listens. */
async function startServer(socket: string, env: Record<string, string> = {}): Promise<Server> {
  const proc = spawn(process.execPath, [serverEntry], {
    env: { ...process.env, BERTH_RUNTIME_SOCKET: socket, ...env }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  proc.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  for (let i = 0; i < 500 && !log.includes('listening'); i++) {
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.match(log, /listening/, `server did not start: ${log}`);
  return { proc, socket, log: () => log, exited };
}

/** Run the client; `env` adds to the environment (BERTH_NODE=/bin/false proves the server served it). */
function client(socket: string, root: string, args: string[], opts: { cwd?: string; env?: Record<string, string>; stdio3?: number } = {}): Promise<Result> {
  const stdio: (number | 'pipe')[] = ['pipe', 'pipe', 'pipe'];
  if (opts.stdio3 !== undefined) stdio.push(opts.stdio3);
  const child = spawn(clientBin, ['--root', root, ...args], {
    cwd: opts.cwd, stdio, env: { ...process.env, BERTH_RUNTIME_SOCKET: socket, ...opts.env },
  });
  return collect(child, `client ${args.join(' ')}`);
}

const warm = { BERTH_NODE: '/bin/false' };

describe('berth-runtime through the runtime server', { skip }, () => {
  let dir: string;
  let root: ReturnType<typeof makeRoot>;
  let server: Server;
  const servers: Server[] = [];
  const extraPids: number[] = [];
  const bundles: TestBundle[] = [];
  let srvCgroup: string | undefined;
  const bundle = async (args: string[]) => {
    const b = await makeBundle({ args });
    bundles.push(b);
    return b;
  };
  const run = (args: string[], opts: Parameters<typeof client>[3] = {}) => client(server.socket, root.root, args, { env: warm, ...opts });
  const stateOf = async (id: string) => JSON.parse((await run(['state', id])).stdout) as { status: string; pid: number };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), `${processTag()}-server-`));
    root = makeRoot();
    server = await startServer(join(dir, 'sock', 'runtime.sock'), { BERTH_SERVER_IDLE_MS: '600000' });
    servers.push(server);
    // Put the server in a memory cgroup of its own, so a container placed by the SERVER's
    // cgroup (instead of the caller's) would be visibly misplaced.
    const mem = (await ownCgroupDirs()).find((d) => d.controllers.split(',').includes('memory'));
    if (mem) {
      srvCgroup = join(mem.dir, `${processTag()}-srv`);
      mkdirSync(srvCgroup, { recursive: true });
      writeFileSync(join(srvCgroup, 'cgroup.procs'), String(server.proc.pid));
    }
  });

  after(async () => {
    for (const b of bundles) await run(['delete', '--force', b.id]).catch(() => undefined);
    for (const s of servers) if (s.proc.exitCode === null) { s.proc.kill('SIGTERM'); await s.exited; }
    for (const pid of extraPids) { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } }
    for (const pid of extraPids) for (let i = 0; i < 200 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 10));
    if (srvCgroup) try { rmdirSync(srvCgroup); } catch { /* reported by assertNoLeaks */ }
    for (const b of bundles) await b.cleanup();
    root.cleanup();
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks(processTag());
  });

  test('run passes the container stdout and exit code, served warm', async () => {
    const b = await bundle(['sh', '-c', 'echo hello; exit 3']);
    const r = await run(['run', '--bundle', b.dir, b.id]);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'hello\n');
    assert.equal(existsSync(join(root.root, b.id)), false, 'run removes the container');
  });

  test('a relative cgroupsPath goes below the caller\'s cgroup, not the server\'s', async (t) => {
    if (!srvCgroup) return t.skip('no memory cgroup hierarchy');
    const b = await bundle(['cat', '/proc/self/cgroup']);
    const r = await run(['run', '--bundle', b.dir, b.id]);
    assert.equal(r.code, 0, r.stderr);
    const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => /:memory:/.test(l))!.split(':')[2]!;
    const mem = r.stdout.split('\n').find((l) => /:memory:/.test(l))!.split(':')[2]!;
    assert.equal(mem, `${own === '/' ? '' : own}/${testCgroupParent()}/${b.id}`);
  });

  test('create (relative --bundle and --pid-file), state, start, exec, kill, delete', async () => {
    const b = await bundle(['sleep', '100']);
    const c = await run(['create', '--bundle', '.', '--pid-file', 'init.pid', b.id], { cwd: b.dir });
    assert.equal(c.code, 0, c.stderr);
    const s1 = await stateOf(b.id);
    assert.equal(s1.status, 'created');
    assert.equal(Number(readFileSync(join(b.dir, 'init.pid'), 'utf8')), s1.pid);
    assert.equal((await run(['start', b.id])).code, 0);
    assert.equal((await stateOf(b.id)).status, 'running');
    const e = await run(['exec', b.id, 'sh', '-c', 'echo out; echo err >&2; exit 4']);
    assert.deepEqual([e.code, e.stdout, e.stderr], [4, 'out\n', 'err\n']);
    const d = await run(['exec', '-d', '--pid-file', join(b.dir, 'exec.pid'), b.id, 'sleep', '50']);
    assert.equal(d.code, 0, d.stderr);
    const execPid = Number(readFileSync(join(b.dir, 'exec.pid'), 'utf8'));
    const ps = JSON.parse((await run(['ps', '--format', 'json', b.id])).stdout) as number[];
    assert.ok(ps.includes(execPid) && ps.includes(s1.pid), `ps ${JSON.stringify(ps)}`);
    assert.equal((await run(['kill', b.id, 'KILL'])).code, 0);
    for (let i = 0; i < 300 && (await stateOf(b.id)).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal((await run(['delete', b.id])).code, 0);
    assert.equal(existsSync(join(root.root, b.id)), false);
    await assertNoLeaks(b.id);
  });

  test('run forwards a signal to the container and reports its exit', async () => {
    const b = await bundle(['sh', '-c', 'trap "exit 7" TERM; sleep 100 & wait']);
    const child = spawn(clientBin, ['--root', root.root, 'run', '--bundle', b.dir, b.id], {
      stdio: 'ignore', env: { ...process.env, BERTH_RUNTIME_SOCKET: server.socket, ...warm },
    });
    const code = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    for (let i = 0; i < 300; i++) {
      const s = await run(['state', b.id]);
      if (s.code === 0 && JSON.parse(s.stdout).status === 'running') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 100)); // let sh install its trap
    child.kill('SIGTERM');
    assert.equal(await code, 7);
    await assertNoLeaks(b.id);
  });

  test('run -d returns once the container runs', async () => {
    const b = await bundle(['sleep', '100']);
    const r = await run(['run', '-d', '--bundle', b.dir, b.id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await stateOf(b.id)).status, 'running');
    assert.equal((await run(['delete', '--force', b.id])).code, 0);
    await assertNoLeaks(b.id);
  });

  test('--preserve-fds passes the caller\'s fd 3 to the container', async () => {
    const b = await bundle(['sh', '-c', 'cat <&3']);
    const file = join(dir, 'preserved');
    writeFileSync(file, 'preserved data\n');
    const fd = openSync(file, 'r');
    try {
      const r = await run(['run', '--preserve-fds', '1', '--bundle', b.dir, b.id], { stdio3: fd });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'preserved data\n');
    } finally {
      closeSync(fd);
    }
  });

  test('errors are one line on stderr with status 1, and JSON in --log', async () => {
    const id = `${processTag()}-nosuch`;
    const log = join(dir, 'log.json');
    const r = await run(['--log', log, '--log-format', 'json', 'state', id]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `berth-runtime: container ${id} does not exist\n`);
    const last = JSON.parse(readFileSync(log, 'utf8').trim().split('\n').pop()!);
    assert.equal(last.level, 'error');
    const b = await bundle(['no-such-binary']);
    const c = await run(['create', '--bundle', b.dir, b.id]);
    assert.equal(c.code, 1);
    assert.match(c.stderr, /^berth-runtime: exec: no-such-binary: .*\n$/);
    assert.equal(existsSync(join(root.root, b.id)), false, 'a failed create leaves nothing');
    await assertNoLeaks(b.id);
  });

  test('concurrent requests: different containers, and one container (no deadlock)', async () => {
    const many = await Promise.all([1, 2, 3, 4].map(() => bundle(['sh', '-c', 'echo $$'])));
    const rs = await Promise.all(many.map((b) => run(['run', '--bundle', b.dir, b.id])));
    for (const r of rs) assert.deepEqual([r.code, r.stdout], [0, '1\n'], r.stderr);
    const b = await bundle(['sleep', '100']);
    assert.equal((await run(['run', '-d', '--bundle', b.dir, b.id])).code, 0);
    const same = await Promise.all([
      ...[1, 2, 3].map(() => run(['state', b.id])),
      ...[1, 2, 3].map((i) => run(['exec', b.id, 'sh', '-c', `exit ${i}`])),
      run(['ps', '--format', 'json', b.id]),
      run(['update', '--pids-limit', '100', b.id]),
      run(['events', '--stats', b.id]),
    ]);
    assert.deepEqual(same.map((r) => r.code), [0, 0, 0, 1, 2, 3, 0, 0, 0], same.map((r) => r.stderr).join(''));
    assert.equal(JSON.parse(same[8]!.stdout).type, 'stats');
    assert.equal((await run(['delete', '--force', b.id])).code, 0);
  });

  test('changed code makes the server stale: the client falls back to the cold path', async () => {
    // The server watches dist/src/cli/runtime/main.js and native/build/berth-helper, and the
    // files in BERTH_SERVER_WATCH: touching a file of our own leaves other servers of this
    // checkout (one serving the suites through the client, say) alone.
    const code = join(dir, 'code.js');
    writeFileSync(code, '');
    const s = await startServer(join(dir, 'stale', 'runtime.sock'), { BERTH_SERVER_IDLE_MS: '600000', BERTH_SERVER_WATCH: code });
    servers.push(s);
    assert.equal((await client(s.socket, root.root, ['--version'], { env: warm })).code, 0, 'served warm first');
    const before = statSync(code);
    utimesSync(code, before.atime, new Date(before.mtimeMs + 1000));
    const r = await client(s.socket, root.root, ['--version'], { env: { BERTH_NODE: process.execPath } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^berth-runtime version /);
    assert.equal(await s.exited, 0, 'the stale server exits');
    assert.match(s.log(), /stopping: code changed on disk/);
    // The cold path started a server for next time (detached, logging next to the socket).
    const logFile = join(dir, 'stale', 'runtime-server.log');
    let pid = 0;
    for (let i = 0; i < 500 && !pid; i++) {
      const m = existsSync(logFile) ? /server (\d+): listening/.exec(readFileSync(logFile, 'utf8')) : null;
      if (m) pid = Number(m[1]);
      else await new Promise((res) => setTimeout(res, 10));
    }
    assert.ok(pid > 0, 'the cold path started a new server');
    extraPids.push(pid);
    assert.equal((await client(s.socket, root.root, ['--version'], { env: warm })).code, 0, 'served warm again');
  });

  test('an idle server exits and removes its socket', async () => {
    const s = await startServer(join(dir, 'idle', 'runtime.sock'), { BERTH_SERVER_IDLE_MS: '300' });
    servers.push(s);
    const timeout = new Promise<string>((r) => setTimeout(() => r('timeout'), 10_000).unref());
    assert.equal(await Promise.race([s.exited, timeout]), 0);
    assert.equal(existsSync(s.socket), false);
    const r = await client(s.socket, root.root, ['--version'], { env: { BERTH_NODE: process.execPath, BERTH_RUNTIME_SERVER: '0' } });
    assert.equal(r.code, 0, 'no server: the cold path');
  });
});
