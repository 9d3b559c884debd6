/**
 * berth through its C client (native/build/berth) and a warm engine worker of the runtime server
 * (src/server/pool.ts, engine-worker.ts): exit codes and output, the caller's stdin kept from a
 * container run without -i, the caller's environment and directory, a relative --cgroup-parent
 * below the CALLER's cgroup (the server sits in a cgroup of its own), the outcome report, a
 * detached container outliving its worker, signals reaching the container through the client,
 * bad input, invocations that must run cold, and the fall back to the cold path on stale code;
 * a caller in another mount namespace sent cold, and commands whose client went away ending their
 * worker (issue 10, part 3). `BERTH_NODE=/bin/false` proves a command was served warm: the cold
 * path would exec it and fail. Every server runs on a private socket and is stopped by pid.
 */
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertNoLeaks, ownCgroupDirs, processTag, repoRoot, requireCommand, testCgroupParent, whyNotRoot } from '../support/bundle.js';
import { collect, type Result } from '../support/runtime.js';
import { BerthCli, until } from './engine-cli.js';

const clientBin = join(repoRoot, 'native/build/berth');
const serverEntry = join(repoRoot, 'dist/src/server/main.js');
const skip = whyNotRoot() ?? (existsSync(clientBin) ? undefined : `${clientBin} is missing: run make -C native`);
const warm = { BERTH_NODE: '/bin/false' };

describe('berth through a warm engine worker', { skip }, () => {
  let dir: string;
  let socket: string;
  let watch: string;
  let server: ChildProcess;
  let serverLog = '';
  let srvCgroup: string | undefined;
  let cli: BerthCli;

  /** Run the client as a user types `berth ARGS`; `input` goes to its stdin; `pre` runs it (`unshare -m ...`). */
  const berth = (args: string[], opts: { env?: Record<string, string>; cwd?: string; input?: string; pre?: string[] } = {}): Promise<Result> & { child: ChildProcess } => {
    const [cmd, ...cmdArgs] = [...(opts.pre ?? []), clientBin, '--data-root', cli.data, '--root', cli.run, ...args];
    const child = spawn(cmd!, cmdArgs, {
      cwd: opts.cwd ?? dir, stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, BERTH_RUNTIME_SOCKET: socket, BERTH_SERVER_WATCH: watch, ...warm, ...opts.env },
    });
    child.stdin!.end(opts.input ?? '');
    return Object.assign(collect(child, `berth ${args.join(' ')}`), { child });
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), `${processTag()}-warm-`));
    socket = join(dir, 'sock', 'runtime.sock');
    watch = join(dir, 'code-stamp');
    writeFileSync(watch, '');
    cli = new BerthCli('warm');
    server = spawn(process.execPath, [serverEntry], {
      env: { ...process.env, BERTH_RUNTIME_SOCKET: socket, BERTH_SERVER_WATCH: watch, BERTH_SERVER_IDLE_MS: '600000', _BERTH_SERVER_FOR: 'berth' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    server.stderr!.on('data', (d: Buffer) => { serverLog += d.toString(); });
    assert.ok(await until(() => serverLog.includes('listening'), 10_000), `server did not start: ${serverLog}`);
    // The server (and so its workers) in a memory cgroup of its own: a container placed by the
    // worker's cgroup instead of the caller's would be visibly misplaced.
    const mem = (await ownCgroupDirs()).find((d) => d.controllers.split(',').includes('memory'));
    if (mem) {
      srvCgroup = join(mem.dir, `${processTag()}-warmsrv`);
      mkdirSync(srvCgroup, { recursive: true });
      writeFileSync(join(srvCgroup, 'cgroup.procs'), String(server.pid));
    }
  });

  after(async () => {
    await cli?.cleanup();
    if (server?.exitCode === null) {
      const gone = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await gone;
    }
    // The idle worker exits when its server's channel closes; wait for the cgroup to empty.
    if (srvCgroup) {
      await until(() => readFileSync(join(srvCgroup!, 'cgroup.procs'), 'utf8').trim() === '', 5000);
      rmdirSync(srvCgroup);
    }
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks(processTag());
  });

  test('a foreground run: exit code, stdout and stderr apart, the caller\'s stdin not passed on', async () => {
    const r = await berth(['run', '--rm', ...cli.cg, '--', 'sh', '-c', 'cat; echo out; echo err >&2; exit 3'], { input: 'secret\n' });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.deepEqual(cli.containers(), [], '--rm removed the container');
  });

  test('the caller\'s environment and directory: -e NAME, a relative --env-file', async () => {
    writeFileSync(join(dir, 'vars.env'), 'FROM_FILE=yes\n');
    const r = await berth(['run', '--rm', ...cli.cg, '-e', 'CALLER_VAR', '--env-file', 'vars.env', '--', 'sh', '-c', 'echo $CALLER_VAR $FROM_FILE'], { env: { CALLER_VAR: 'hello' } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello yes\n');
  });

  test('a relative --cgroup-parent is below the caller\'s cgroup, not the server\'s', async () => {
    const own = (await ownCgroupDirs()).find((d) => d.controllers.split(',').includes('memory'));
    const r = await berth(['run', '--rm', ...cli.cg, '--memory', '64m', '--', 'cat', '/proc/self/cgroup']);
    assert.equal(r.code, 0, r.stderr);
    const line = r.stdout.split('\n').find((l) => /^\d+:[^:]*\bmemory\b[^:]*:/.test(l));
    if (!own || !line) return; // no v1 memory hierarchy (cgroup v2 host): covered by the placement tests there
    const selfPath = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => /^\d+:[^:]*\bmemory\b/.test(l))!.split(':')[2]!;
    assert.ok(line.split(':')[2]!.startsWith(join(selfPath, testCgroupParent()) + '/'), `${line} is not below ${selfPath}/${testCgroupParent()}`);
  });

  test('the OOM outcome is told as in the cold path', async () => {
    const r = await berth(['run', '--rm', ...cli.cg, '--memory', '32m', '--memory-swap', '32m', '--report', '--', 'sh', '-c', 'x=a; while true; do x=$x$x; done']);
    assert.equal(r.code, 137, r.stderr);
    assert.match(r.stderr, /killed by the OOM killer: memory limit 32MiB/);
  });

  test('a detached container outlives the worker that started it; stop and rm', async () => {
    const r = await berth(['run', '-d', '--name', `${processTag()}-warm-d`, ...cli.cg, '--', 'sleep', '60']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    await new Promise((res) => setTimeout(res, 300));
    assert.equal((await berth(['inspect', '-f', '{{.State.Running}}', id])).stdout.trim(), 'true');
    assert.equal((await berth(['stop', '-t', '1', id])).code, 0);
    assert.equal((await berth(['inspect', '-f', '{{.State.Status}}', id])).stdout.trim(), 'exited');
    assert.equal((await berth(['rm', id])).code, 0);
  });

  test('exec runs warm with the caller\'s stdio: output, exit code, -i input', async () => {
    const name = `${processTag()}-warm-x`;
    assert.equal((await berth(['run', '-d', '--name', name, ...cli.cg, '--', 'sleep', '60'])).code, 0);
    try {
      const r = await berth(['exec', name, 'sh', '-c', 'echo in-container; exit 4']);
      assert.equal(r.code, 4, r.stderr);
      assert.equal(r.stdout, 'in-container\n');
      const i = await berth(['exec', '-i', name, 'cat'], { input: 'fed\n' });
      assert.equal(i.code, 0, i.stderr);
      assert.equal(i.stdout, 'fed\n');
      const quiet = await berth(['exec', name, 'cat'], { input: 'not passed\n' });
      assert.equal(quiet.stdout, '', 'without -i the caller\'s stdin does not reach the process');
    } finally {
      await berth(['rm', '-f', name]);
    }
  });

  test('a signal to the client reaches the container (sig-proxy)', async () => {
    const p = berth(['run', '--rm', ...cli.cg, '--', 'sh', '-c', 'trap "echo got TERM; exit 7" TERM; echo up; while :; do sleep 0.05; done']);
    let out = '';
    p.child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    assert.ok(await until(() => out.includes('up'), 20_000), 'the container did not start');
    p.child.kill('SIGTERM');
    const r = await p;
    assert.equal(r.code, 7, r.stderr);
    assert.match(out, /got TERM/);
  });

  test('bad input: a Docker-like one-line error, exit 125, nothing left', async () => {
    const r = await berth(['run', ...cli.cg, '--memory', 'banana', '--', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^berth: invalid size "banana" for --memory/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.deepEqual(cli.containers(), []);
  });

  test('an invocation reading the caller\'s stdin from Node runs cold (here: BERTH_NODE=/bin/false fails)', async () => {
    const r = await berth(['run', '-i', '--rm', ...cli.cg, '--', 'cat'], { input: 'hi\n' });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    const real = await berth(['run', '-i', '--rm', ...cli.cg, '--', 'cat'], { input: 'hi\n', env: { BERTH_NODE: process.execPath } });
    assert.equal(real.code, 0, real.stderr);
    assert.equal(real.stdout, 'hi\n');
  });

  test('concurrent clients each get a worker', async () => {
    const rs = await Promise.all([1, 2, 3].map((i) => berth(['run', '--rm', ...cli.cg, '--', 'sh', '-c', `echo ${i}`])));
    assert.deepEqual(rs.map((r) => [r.code, r.stdout]), [[0, '1\n'], [0, '2\n'], [0, '3\n']]);
  });

  test('issue 10: a berth caller in another mount namespace goes cold, and its container runs', async (t) => {
    if (!requireCommand(t, 'unshare')) return;
    const marks = join(dir, 'cold-runs');
    const node = join(dir, 'node-cold');
    writeFileSync(node, `#!/bin/sh\necho cold >> '${marks}'\nexec '${process.execPath}' "$@"\n`, { mode: 0o755 });
    const pre = ['unshare', '-m', '--propagation', 'private', 'sh', '-c',
      'if grep -q " /sys/fs/cgroup/unified " /proc/self/mountinfo; then umount /sys/fs/cgroup/unified || exit 99; fi; exec "$@"', 'sh'];
    const r = await berth(['run', '--rm', ...cli.cg, '--', 'sh', '-c', 'echo ran'], { pre, env: { BERTH_NODE: node } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ran\n');
    assert.equal(readFileSync(marks, 'utf8'), 'cold\n', 'the client ran cold');
    assert.match(serverLog, /a caller went cold: its mnt namespace differs/);
    assert.deepEqual(cli.containers(), []);
  });

  // Issue 10, part 3: an interrupted `berth events` left its engine worker running (about 59 MB
  // each): the worker's socket was paused, so the client's close was never seen; and the server,
  // whose handed-over socket never emitted 'close', counted the connection open for ever and
  // never went idle. Each command here waits on something outside until interrupted.
  test('issue 10: events, logs -f, wait and stats whose client went away end their worker; the server then idles out', async () => {
    const name = `${processTag()}-warm-gone`;
    assert.equal((await berth(['run', '-d', '--name', name, ...cli.cg, '--', 'sh', '-c', 'while :; do echo tick; sleep 1; done'])).code, 0);
    const sock = join(dir, 'gone', 'runtime.sock');
    let log = '';
    const srv = spawn(process.execPath, [serverEntry], {
      env: { ...process.env, BERTH_RUNTIME_SOCKET: sock, BERTH_SERVER_WATCH: watch, BERTH_SERVER_IDLE_MS: '3000', BERTH_WORKER_REHEARSE: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    srv.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
    const srvExit = new Promise<number | null>((r) => srv.once('exit', (code) => r(code)));
    const clients: ChildProcess[] = [];
    const workers: number[] = [];
    try {
      assert.ok(await until(() => log.includes('listening'), 10_000), `server did not start: ${log}`);
      const cases: [string[], NodeJS.Signals][] = [
        [['events'], 'SIGINT'], [['events'], 'SIGKILL'], [['logs', '-f', name], 'SIGINT'], [['wait', name], 'SIGKILL'], [['stats', name], 'SIGINT'],
      ];
      // All at once: while any client waits for its worker the server is not idle.
      const dirs = cases.map((_, i) => mkdtempSync(join(dir, `gone-${i}-`)));
      for (const [i, [args]] of cases.entries()) {
        const c = spawn(clientBin, ['--data-root', cli.data, '--root', cli.run, ...args], {
          cwd: dirs[i], stdio: 'ignore', env: { ...process.env, BERTH_RUNTIME_SOCKET: sock, ...warm },
        });
        c.on('error', () => { /* reported by the worker search */ });
        clients.push(c);
      }
      // A worker says in the log which client (pid) it serves: that finds it.
      const workerOf = (client: number | undefined) => {
        const m = new RegExp(`berth engine worker (\\d+): serves client ${client}\n`).exec(log);
        return m ? Number(m[1]) : undefined;
      };
      for (const [i, [args]] of cases.entries()) {
        const w = await until(() => workerOf(clients[i]!.pid), 30_000);
        assert.ok(w, `no engine worker runs "berth ${args.join(' ')}"; server log:\n${log}`);
        workers.push(w);
      }
      for (const [i, [, sig]] of cases.entries()) clients[i]!.kill(sig);
      for (const [i, w] of workers.entries()) {
        const gone = await until(() => !existsSync(`/proc/${w}`), 10_000);
        assert.ok(gone, `the worker of "berth ${cases[i]![0].join(' ')}" (pid ${w}) still runs after its client got ${cases[i]![1]}`);
        assert.match(log, new RegExp(`berth engine worker ${w}: its client went away`));
      }
      const timeout = new Promise<string>((r) => setTimeout(() => r('timeout'), 30_000).unref());
      assert.equal(await Promise.race([srvExit, timeout]), 0, `the server did not exit after its idle time:\n${log}`);
      assert.match(log, /stopping: idle for 3000 ms/);
    } finally {
      for (const c of clients) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      for (const w of workers) {
        try { if (readFileSync(`/proc/${w}/cmdline`, 'utf8').includes('engine-worker.js')) process.kill(w, 'SIGKILL'); } catch { /* gone */ }
      }
      if (srv.exitCode === null) { srv.kill('SIGTERM'); await srvExit; }
      await berth(['rm', '-f', name]);
    }
  });

  test('stale code: the client falls back to the cold path, which starts a new server', async () => {
    const later = new Date(Date.now() + 5000);
    utimesSync(watch, later, later);
    const s = await berth(['--version'], { env: { BERTH_NODE: process.execPath } });
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /^berth version /);
    assert.ok(await until(() => serverLog.includes('code changed on disk'), 5000), serverLog);
    // The cold path started a server for next time (its log is next to the socket): stop it.
    const logFile = join(dir, 'sock', 'runtime-server.log');
    const pid = await until(() => {
      try { return Number(/server (\d+): listening/.exec(readFileSync(logFile, 'utf8'))?.[1]) || 0; } catch { return 0; }
    }, 10_000);
    assert.ok(pid > 0, 'the cold path started no server');
    process.kill(pid, 'SIGTERM');
    await until(() => { try { process.kill(pid, 0); return false; } catch { return true; } }, 5000);
  });
});
