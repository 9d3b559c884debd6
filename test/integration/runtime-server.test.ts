/**
 * The warm runtime server and its C client (native/build/berth-runtime): the lifecycle through
 * the client, the client becoming the helper (stdio, preserved fds, exit codes, signals), errors,
 * concurrent requests, a relative cgroupsPath placed below the CALLER's cgroup (not the server's),
 * stale-code detection with the fall back to the cold path, and the idle exit; whom it serves
 * (issue 10, part 3): callers in other namespaces go cold, a client of another installation makes
 * it hand over, and so does a client from before the "caller" message. Every server is started
 * on a private socket in a berth-test-* directory and stopped by pid.
 */
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeMessage, MessageDecoder } from '../../src/native/protocol.js';
import { assertNoLeaks, makeBundle, ownCgroupDirs, processTag, repoRoot, requireCommand, testCgroupParent, whyNotRoot, type TestBundle } from '../support/bundle.js';
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

/**
 * Run the client; `env` adds to the environment (BERTH_NODE=/bin/false proves the server served
 * it); `bin` is another client binary, `pre` a command that runs it (`unshare -n`, say).
 */
function client(socket: string, root: string, args: string[], opts: { cwd?: string; env?: Record<string, string>; stdio3?: number; bin?: string; pre?: string[] } = {}): Promise<Result> {
  const stdio: (number | 'pipe')[] = ['pipe', 'pipe', 'pipe'];
  if (opts.stdio3 !== undefined) stdio.push(opts.stdio3);
  const [cmd, ...cmdArgs] = [...(opts.pre ?? []), opts.bin ?? clientBin, '--root', root, ...args];
  const child = spawn(cmd!, cmdArgs, {
    cwd: opts.cwd, stdio, env: { ...process.env, BERTH_RUNTIME_SOCKET: socket, ...opts.env },
  });
  return collect(child, `client ${args.join(' ')}`);
}

/** The pids of the servers a cold path started next to `socket` (runtime-server.log). */
function startedServers(socket: string): number[] {
  const log = join(dirname(socket), 'runtime-server.log');
  const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
  return [...text.matchAll(/server (\d+): listening/g)].map((m) => Number(m[1]));
}

/** Stop a server by pid, if that pid still is a runtime server (not a pid reused since). */
async function stopServerPid(pid: number): Promise<void> {
  let cmd = '';
  try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return; }
  if (!cmd.includes('dist/src/server/main.js')) return;
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  for (let i = 0; i < 500 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 10));
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
    for (const pid of extraPids) await stopServerPid(pid);
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
  // Issue 10, part 3: the server served a caller in another mount namespace a plan made for its
  // own view ("cgroup-fd: open /sys/fs/cgroup/unified/...: No such file or directory"), and the
  // client's pid, read in another pid namespace, named another process (its cgroup placed the
  // container). Such callers must go down the cold path, and their container must run.
  test('issue 10: a caller in another mount, pid or network namespace goes cold, and its container runs', async (t) => {
    if (!requireCommand(t, 'unshare')) return;
    // A node that notes each cold run: the cold path execs $BERTH_NODE.
    const marks = join(dir, 'cold-runs');
    const node = join(dir, 'node-cold');
    writeFileSync(node, `#!/bin/sh\necho cold >> '${marks}'\nexec '${process.execPath}' "$@"\n`, { mode: 0o755 });
    const colds = () => (existsSync(marks) ? readFileSync(marks, 'utf8').split('\n').filter(Boolean).length : 0);
    const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => /:memory:/.test(l))?.split(':')[2];
    const cases: [string, string[], RegExp][] = [
      // The issue's own case: the caller has no /sys/fs/cgroup/unified (where there is one).
      ['a mount namespace without the cgroup2 mount', ['unshare', '-m', '--propagation', 'private', 'sh', '-c',
        'if grep -q " /sys/fs/cgroup/unified " /proc/self/mountinfo; then umount /sys/fs/cgroup/unified || exit 99; fi; exec "$@"', 'sh'],
      /a caller went cold: its mnt namespace differs/],
      // Only the pid namespace differs (the host's /proc): its pid means another process here.
      ['a pid namespace', ['unshare', '-p', '-f'], /a caller went cold: its pid namespace differs/],
      ['a pid namespace with its own /proc', ['unshare', '-p', '-f', '--mount-proc'], /a caller went cold: its mnt namespace, pid namespace differ/],
      ['a network namespace', ['unshare', '-n'], /a caller went cold: its net namespace differs/],
    ];
    for (const [what, pre, logged] of cases) {
      const b = await bundle(['sh', '-c', 'echo ran; cat /proc/self/cgroup']);
      const before = colds();
      const r = await client(server.socket, root.root, ['run', '--bundle', b.dir, b.id], { pre, env: { BERTH_NODE: node } });
      assert.equal(r.code, 0, `${what}: ${r.stderr}`);
      assert.equal(r.stdout.split('\n')[0], 'ran', what);
      assert.equal(colds(), before + 1, `${what}: the client did not run cold`);
      assert.match(server.log(), logged, what);
      // Placed below the caller's cgroup, as a runtime run there would (a server reading the
      // pid in its own pid namespace placed it below another process's).
      const mem = r.stdout.split('\n').find((l) => /:memory:/.test(l))?.split(':')[2];
      if (own !== undefined && mem !== undefined) assert.equal(mem, `${own === '/' ? '' : own}/${testCgroupParent()}/${b.id}`, what);
      await assertNoLeaks(b.id);
    }
    assert.equal((await run(['--version'])).code, 0, 'callers of the server\'s own view are still served warm');
  });

  // Issue 10, part 3: two installations (two checkouts, or a global install and a checkout)
  // shared /run/berth/runtime.sock, and the client of one was served by the other's code.
  test('issue 10: a client of another installation is not served; the server hands over to it', async () => {
    // A second installation: a copy of this one's code, package.json and helper binary (as a
    // global npm install is), so its cold path and the server it starts are its own.
    const inst = join(dir, 'second-install');
    mkdirSync(join(inst, 'native', 'build'), { recursive: true });
    cpSync(join(repoRoot, 'package.json'), join(inst, 'package.json'));
    cpSync(join(repoRoot, 'bin'), join(inst, 'bin'), { recursive: true });
    cpSync(join(repoRoot, 'dist', 'src'), join(inst, 'dist', 'src'), { recursive: true });
    copyFileSync(join(repoRoot, 'native/build/berth-helper'), join(inst, 'native/build/berth-helper'));
    chmodSync(join(inst, 'native/build/berth-helper'), 0o755);
    linkSync(join(inst, 'native/build/berth-helper'), join(inst, 'native/build/berth-runtime'));
    const otherBin = join(inst, 'native/build/berth-runtime');

    const sock = join(dir, 'handover', 'runtime.sock');
    const first = await startServer(sock, { BERTH_SERVER_IDLE_MS: '600000' });
    servers.push(first);
    try {
      assert.equal((await client(sock, root.root, ['--version'], { env: warm })).code, 0, 'this installation is served warm');
      // The other installation's client: not served by this server (which would pass with
      // BERTH_NODE=/bin/false), but by its own cold path, which works.
      const b = await bundle(['sh', '-c', 'echo from the second installation']);
      const r = await client(sock, root.root, ['run', '--bundle', b.dir, b.id], { bin: otherBin, env: { BERTH_NODE: process.execPath } });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'from the second installation\n');
      assert.equal(await first.exited, 0, 'the first server handed over and exited');
      assert.match(first.log(), /stopping: handing over to a client of another build: its executable is \d+:\d+, the server's helper \d+:\d+/);
      assert.doesNotMatch(first.log(), /a caller went cold/);
      await assertNoLeaks(b.id);

      // That cold path started the second installation's own server, which serves its client warm.
      let second = 0;
      for (let i = 0; i < 500 && !second; i++) {
        second = startedServers(sock)[0] ?? 0;
        if (!second) await new Promise((res) => setTimeout(res, 10));
      }
      assert.ok(second > 0, 'the cold path started no server');
      extraPids.push(second);
      assert.ok(readFileSync(`/proc/${second}/cmdline`, 'utf8').includes(inst), 'the new server is the second installation\'s');
      assert.equal((await client(sock, root.root, ['--version'], { bin: otherBin, env: warm })).code, 0, 'the second installation is served warm by its own server');

      // And this installation's client makes that one hand over in turn (one cold run per switch).
      const back = await client(sock, root.root, ['--version'], { env: { BERTH_NODE: process.execPath } });
      assert.equal(back.code, 0, back.stderr);
      assert.match(back.stdout, /^berth-runtime version /);
      for (let i = 0; i < 500 && existsSync(`/proc/${second}`); i++) await new Promise((res) => setTimeout(res, 10));
      assert.equal(existsSync(`/proc/${second}`), false, 'the second installation\'s server handed over');
    } finally {
      for (let i = 0; i < 500 && startedServers(sock).length < 2; i++) await new Promise((res) => setTimeout(res, 10));
      extraPids.push(...startedServers(sock));
    }
  });

  test('issue 10: a client from before the "caller" message is not misread: the server hands over', async () => {
    const s = await startServer(join(dir, 'old', 'runtime.sock'), { BERTH_SERVER_IDLE_MS: '600000' });
    servers.push(s);
    const answer = await new Promise<string[]>((resolve, reject) => {
      const c = connect(s.socket);
      const decoder = new MessageDecoder();
      c.on('connect', () => c.write(encodeMessage(['request', '/', String(process.pid), '--version'])));
      c.on('data', (d: Buffer) => {
        const [m] = decoder.push(d);
        if (m) { c.destroy(); resolve(m.map((f) => f.toString())); }
      });
      c.on('error', reject);
    });
    assert.deepEqual(answer, ['stale'], 'an old client runs cold (and starts its own server) on "stale"');
    assert.equal(await s.exited, 0);
    assert.match(s.log(), /handing over to a client of another build: its first message is "request"/);
  });
});
