/**
 * Issue 10, found by killing `berth-runtime create` through the warm client 2-10 ms in: a command
 * killed between the clone and "pid" left the container's init blocked for ever on "go" (it held
 * the sync socket, so the server never saw end of stream and held the container's lock), state
 * `creating` with no pid, and `delete --force` timed out after 30 s leaving cgroups, state and
 * process behind.
 *
 * The sweep: create, run, start, exec and delete (berth-runtime) and `berth run` (the engine), each
 * on the warm path (the C client and a runtime server of this test's own) and the cold path (Node
 * directly), killed with SIGKILL
 *   - at t = 0..60 ms after spawn, in 1 ms steps;
 *   - right before each message the warm client sends and right after the first ones it receives
 *     (strace's syscall fault injection on the client alone: `-e inject=sendto:signal=SIGKILL:when=N`
 *     kills it as it enters its N-th sendto, i.e. before message N leaves: "caller", "request",
 *     "pid" (the clone is done: the kill of the issue), "exit" of a monitor; `read:N` after the
 *     messages before the N-th read, "launch" among them; `write:1` inside the parent ops, after
 *     the helper moved itself into the container's v1 cgroups). An injection past the command's
 *     last such call never fires (counted apart). No production code is changed for it;
 *   - at each change of the container's state the test observes on disk (state directory, lock,
 *     recorded status and pid; for the engine its record and the runtime's), polled every 1 ms:
 *     the same protocol steps seen from the outside, on both paths.
 * Then `delete --force` (the engine: `berth rm -f`), twice, and nothing may be left: no state
 * directory or lock under the instance's --root, no engine record, no cgroup in any hierarchy, no
 * live recorded pid, no process whose cgroup or working directory names the instance, no mount.
 *
 * The runtime's cleanup always goes through the warm client (fast; the same TypeScript as cold):
 * after a warm victim it runs in the very server process that may still hold the lock (the
 * in-process abort), after a cold one in another process than the holder (the kill without the
 * lock). The engine's goes cold (see coldBerth).
 *
 * Cost: several instances run at once (distinct ids, roots and cgroups): about 800 kills take
 * 80-90 s here on 2 cores, most of it idle (a killed exec's orphan waits for the host's pid 1 to
 * reap it; `berth run` and the engine's cleanup pay Node start-ups). Measured before the fix
 * (the code of 43fe6ae): 15 of 800 kills left something, every warm create, run, exec and berth
 * run killed at its "pid" among them, and the sweep took 453 s (30 s lock time-outs). The sweep
 * also found three neighbours, fixed with it: a cgroup placed at the hierarchy's root for a caller
 * already exiting, an engine directory and name no `rm -f` could remove, and an empty lock file
 * that made the server spin.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { assertNoLeaks, makeBundle, ownCgroupDirs, processTag, repoRoot, testCgroupParent, whyNotRoot, type TestBundle } from '../support/bundle.js';
import { collect, type Result } from '../support/runtime.js';
import { isSameProcess } from '../../src/util/proc.js';

const runtimeClient = join(repoRoot, 'native/build/berth-runtime');
const berthClient = join(repoRoot, 'native/build/berth');
const runtimeCold = join(repoRoot, 'bin/berth-runtime.js');
const berthCold = join(repoRoot, 'bin/berth.js');
const serverEntry = join(repoRoot, 'dist/src/server/main.js');
const skip = whyNotRoot() ?? (existsSync(runtimeClient) ? undefined : `${runtimeClient} is missing: run make -C native`);
const hasStrace = spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0;

/**
 * Instances killed at once: enough to keep 2 cores busy, few enough not to starve the timers.
 * Much of a cleanup is idle: a killed exec's orphan is reaped by the host's pid 1 (slowly here,
 * about 2 s), and the container's init, pid 1 of its namespace, cannot finish dying before that.
 */
const CONCURRENCY = 6;
/** The instants of the timed sweep (ms after spawn). */
const INSTANTS = Array.from({ length: 61 }, (_, i) => i);
/** strace fault injections on the warm client (see the file comment). */
const INJECTIONS = ['sendto:1', 'sendto:2', 'sendto:3', 'sendto:4', 'sendto:5', 'read:1', 'read:3', 'read:5', 'write:1'];
/** At most this many observed state changes per command. */
const MAX_CHANGES = 8;

type Command = 'create' | 'run' | 'start' | 'exec' | 'delete' | 'berth run';
type Path = 'warm' | 'cold';
type Kill = { at: number } | { inject: string } | { change: number };

const figures = { kills: 0, timed: 0, injected: 0, observed: 0, leftovers: 0, ms: 0 };

describe('issue 10: a command killed between clone and "pid" (or at any other instant) leaves nothing after delete --force', { skip }, () => {
  let dir: string;
  let socket: string;
  let server: ChildProcess;
  let serverLog = '';
  let rootfs: TestBundle;
  let cgroupRoots: string[];
  let seq = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), `${processTag()}-faults-`));
    socket = join(dir, 'sock', 'runtime.sock');
    server = spawn(process.execPath, [serverEntry], {
      env: { ...process.env, BERTH_RUNTIME_SOCKET: socket, BERTH_SERVER_IDLE_MS: '600000', BERTH_SERVER_WORKERS: '2', _BERTH_SERVER_FOR: 'berth' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    server.stderr!.on('data', (d: Buffer) => { serverLog += d.toString(); });
    for (let i = 0; i < 1000 && !serverLog.includes('listening'); i++) await new Promise((r) => setTimeout(r, 10));
    assert.match(serverLog, /listening/, `server did not start: ${serverLog}`);
    rootfs = await makeBundle(); // its rootfs is shared, read-only, by every instance
    cgroupRoots = (await ownCgroupDirs()).map((d) => join(d.dir, testCgroupParent()));
  });

  after(async () => {
    if (server?.exitCode === null) {
      const gone = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await gone;
    }
    await rootfs?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
    console.log(`issue 10 sweep: ${figures.kills} kills (${figures.timed} at 0-60 ms, ${figures.injected} at protocol messages, ` +
      `${figures.observed} at observed state changes) in ${(figures.ms / 1000).toFixed(1)} s; ${figures.leftovers} left something after delete --force`);
    await assertNoLeaks(processTag());
  });

  /** One container (or engine instance) to kill and clean up: its own root, bundle and cgroup. */
  interface Instance { n: number; id: string; base: string; root: string; data: string; bundle: string; cgroup: string }

  function newInstance(command: Command): Instance {
    const n = ++seq;
    const id = `${processTag()}-f${n}`;
    const base = join(dir, String(n));
    const inst = { n, id, base, root: join(base, 'root'), data: join(base, 'data'), bundle: join(base, 'bundle'), cgroup: id };
    mkdirSync(inst.root, { recursive: true });
    mkdirSync(inst.data, { recursive: true });
    mkdirSync(inst.bundle, { recursive: true });
    const spec = structuredClone(rootfs.spec);
    spec.root = { path: rootfs.rootfs, readonly: true };
    // A foreground run must end by itself when no kill comes (an injection that never fires).
    spec.process!.args = command === 'run' ? ['sleep', '0.3'] : ['sleep', '100'];
    spec.linux!.cgroupsPath = `${testCgroupParent()}/${id}`;
    writeFileSync(join(inst.bundle, 'config.json'), JSON.stringify(spec));
    return inst;
  }

  const env = (extra: Record<string, string> = {}) => ({ ...process.env, BERTH_RUNTIME_SOCKET: socket, ...extra });

  /** The warm client, proven warm (BERTH_NODE=/bin/false: a cold fall-back would fail). */
  function warmRuntime(inst: Instance, args: string[]): Promise<Result> {
    const child = spawn(runtimeClient, ['--root', inst.root, ...args], { cwd: inst.base, stdio: ['pipe', 'pipe', 'pipe'], env: env({ BERTH_NODE: '/bin/false' }) });
    return collect(child, `berth-runtime ${args.join(' ')}`, { timeoutMs: 60_000 });
  }

  /**
   * `berth` for the cleanup, cold: a warm berth command uses up an engine worker, whose start (a
   * Node process that loads the engine and runs a throwaway container) costs more than a cold run.
   */
  function coldBerth(inst: Instance, args: string[]): Promise<Result> {
    const child = spawn(process.execPath, [berthCold, '--data-root', inst.data, '--root', inst.root, ...args], { cwd: inst.base, stdio: ['pipe', 'pipe', 'pipe'], env: env({ BERTH_RUNTIME_SERVER: '0' }) });
    return collect(child, `berth ${args.join(' ')}`, { timeoutMs: 60_000 });
  }

  /** The command line of the victim. */
  function victimArgv(command: Command, path: Path, inst: Instance): [string, string[]] {
    const rt: Record<Exclude<Command, 'berth run'>, string[]> = {
      create: ['create', '--bundle', inst.bundle, inst.id],
      run: ['run', '--bundle', inst.bundle, inst.id],
      start: ['start', inst.id],
      exec: ['exec', inst.id, 'sleep', '0.3'],
      delete: ['delete', '--force', inst.id],
    };
    if (command === 'berth run') {
      const args = ['--data-root', inst.data, '--root', inst.root, 'run', '--name', inst.id, '--cgroup-parent', `${testCgroupParent()}/${inst.id}`, '--', 'sleep', '0.3'];
      return path === 'warm' ? [berthClient, args] : [process.execPath, [berthCold, ...args]];
    }
    const args = ['--root', inst.root, ...rt[command]];
    return path === 'warm' ? [runtimeClient, args] : [process.execPath, [runtimeCold, ...args]];
  }

  /** What the test sees of the instance on disk: each change is an instant to kill at. */
  function signature(inst: Instance): string {
    const parts: string[] = [];
    const ids = (() => { try { return readdirSync(inst.root).sort(); } catch { return []; } })();
    if (existsSync(join(inst.data, 'containers'))) parts.push(`engine:${readdirSync(join(inst.data, 'containers')).length}`);
    for (const id of ids) {
      const d = join(inst.root, id);
      let st = '';
      try {
        const rec = JSON.parse(readFileSync(join(d, 'state.json'), 'utf8')) as { status: string; pid?: number };
        st = `${rec.status}:${rec.pid ?? ''}`;
      } catch { /* not written yet */ }
      parts.push(`${id.length}:${existsSync(join(d, 'lock'))}:${st}:${existsSync(join(d, 'exec.fifo'))}`);
    }
    return parts.join('|');
  }

  /** Run the victim and kill it as `kill` says; resolves once it is gone, with whether the kill came. */
  async function runVictim(command: Command, path: Path, inst: Instance, kill: Kill): Promise<boolean> {
    let [cmd, argv] = victimArgv(command, path, inst);
    if ('inject' in kill) {
      const [sys, when] = kill.inject.split(':');
      argv = ['-qq', '-o', '/dev/null', '-e', `trace=${sys}`, '-e', `inject=${sys}:signal=SIGKILL:when=${when}`, cmd, ...argv];
      cmd = 'strace';
    }
    const child = spawn(cmd, argv, { cwd: inst.base, stdio: 'ignore', env: env(path === 'warm' ? { BERTH_NODE: '/bin/false' } : { BERTH_RUNTIME_SERVER: '0' }) });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    let killed = false;
    const doKill = () => {
      if (child.exitCode === null && child.signalCode === null) { killed = true; child.kill('SIGKILL'); }
    };
    let timer: NodeJS.Timeout | undefined;
    if ('at' in kill) {
      timer = setTimeout(doKill, kill.at);
    } else if ('change' in kill) {
      let last = signature(inst);
      let changes = 0;
      timer = setInterval(() => {
        const now = signature(inst);
        if (now === last) return;
        last = now;
        if (++changes === kill.change) { clearInterval(timer); doKill(); }
      }, 1);
    }
    // A command that outlives every kill instant (a foreground run, an injection that never
    // fires) gets 20 s: its container ends by itself in 0.3 s.
    const guard = setTimeout(() => {
      if ('inject' in kill) {
        // strace's tracee is its child: kill that one, strace then exits.
        const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
        for (const k of kids) { try { process.kill(Number(k), 'SIGKILL'); } catch { /* gone */ } }
      } else doKill();
    }, 20_000);
    await exited;
    clearTimeout(timer);
    clearInterval(timer);
    clearTimeout(guard);
    if ('inject' in kill) killed = child.exitCode === 137 || child.exitCode === null;
    return killed;
  }

  /** Kill, delete --force (twice), and list what is left. */
  async function instance(command: Command, path: Path, kill: Kill): Promise<{ inst: Instance; killed: boolean; leftovers: string[] }> {
    const inst = newInstance(command);
    if (command === 'start' || command === 'exec' || command === 'delete') {
      const c = await warmRuntime(inst, ['create', '--bundle', inst.bundle, inst.id]);
      assert.equal(c.code, 0, `create before the kill: ${c.stderr}`);
      if (command === 'exec') {
        const s = await warmRuntime(inst, ['start', inst.id]);
        assert.equal(s.code, 0, `start before the kill: ${s.stderr}`);
      }
    }
    const mountsBefore = readFileSync('/proc/self/mountinfo', 'utf8');
    const killed = await runVictim(command, path, inst, kill);
    const recorded: { pid: number; start?: number }[] = [];
    for (const id of readdirSync(inst.root)) {
      try {
        const rec = JSON.parse(readFileSync(join(inst.root, id, 'state.json'), 'utf8')) as { pid?: number; pidStartTime?: number };
        if (rec.pid) recorded.push({ pid: rec.pid, start: rec.pidStartTime });
      } catch { /* no record (yet) */ }
    }
    const leftovers: string[] = [];
    for (let round = 0; round < 2; round++) {
      const d = command === 'berth run' ? await coldBerth(inst, ['rm', '-f', inst.id]) : await warmRuntime(inst, ['delete', '--force', inst.id]);
      const fine = d.code === 0 || (command === 'berth run' && /no such container/.test(d.stderr));
      if (!fine) leftovers.push(`${round ? 'a repeated ' : ''}${command === 'berth run' ? 'rm -f' : 'delete --force'} failed (${d.code}): ${d.stderr.trim()}`);
    }
    for (const id of readdirSync(inst.root)) leftovers.push(`state ${join(inst.root, id)} (${readdirSync(join(inst.root, id)).join(' ')})`);
    for (const sub of ['containers', 'names']) {
      if (existsSync(join(inst.data, sub))) for (const c of readdirSync(join(inst.data, sub))) leftovers.push(`engine ${sub}/${c}`);
    }
    for (const r of recorded) if (isSameProcess(r.pid, r.start)) leftovers.push(`process ${r.pid} (the recorded init)`);
    for (const cg of cgroupRoots) {
      const d = join(cg, inst.cgroup);
      if (!existsSync(d)) continue;
      // the engine's --cgroup-parent is the caller's: its container leaf must be gone
      const inside = readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory());
      if (command !== 'berth run' || inside.length) leftovers.push(`cgroup ${d}`);
      else try { rmdirSync(d); } catch { leftovers.push(`cgroup ${d} (busy)`); }
    }
    const before = new Set(mountsBefore.split('\n'));
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      if (!before.has(line) && (line.includes(inst.base) || line.includes(inst.id))) leftovers.push(`mount ${line}`);
    }
    return { inst, killed, leftovers };
  }

  /** Processes whose cgroup, working directory or command line names one of the instances. */
  function strays(insts: { id: string; base: string }[]): string[] {
    const found: string[] = [];
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      let text = '';
      try { text = `${readFileSync(`/proc/${pid}/cgroup`, 'utf8')} ${readlinkSync(`/proc/${pid}/cwd`)} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8')}`; } catch { continue; }
      for (const i of insts) {
        if (text.includes(`${i.id}\n`) || text.includes(`${i.id}/`) || text.includes(`${i.base} `) || text.includes(`${i.base}/`)) {
          let stat = '';
          try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { continue; }
          if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue; // reaped a moment later
          found.push(`process ${pid} of ${i.id}: ${text.replaceAll('\0', ' ').replaceAll('\n', ' ').slice(0, 200)}`);
        }
      }
    }
    return found;
  }

  async function sweep(t: TestContext, command: Command, path: Path): Promise<void> {
    const started = Date.now();
    const kills: Kill[] = [...INSTANTS.map((at) => ({ at }))];
    if (path === 'warm' && hasStrace) kills.push(...INJECTIONS.map((inject) => ({ inject })));
    const left: string[] = [];
    const count = { timed: 0, injected: 0, observed: 0 };
    const batch = async (ks: Kill[]) => {
      const results = await Promise.all(ks.map((k) => instance(command, path, k)));
      const insts = results.map((r) => r.inst);
      let stray = strays(insts);
      for (let i = 0; i < 100 && stray.length; i++) { await new Promise((r) => setTimeout(r, 20)); stray = strays(insts); }
      results.forEach((r, i) => {
        const k = ks[i]!;
        if ('at' in k) count.timed++;
        else if ('inject' in k) count.injected += r.killed ? 1 : 0;
        else count.observed += r.killed ? 1 : 0;
        for (const l of r.leftovers) left.push(`${JSON.stringify(k)}: ${l}`);
        if (r.leftovers.length || stray.some((s) => s.includes(` of ${r.inst.id}:`))) figures.leftovers++;
      });
      for (const s of stray) left.push(s);
      for (const i of insts) rmSync(i.base, { recursive: true, force: true });
      return results;
    };
    for (let i = 0; i < kills.length; i += CONCURRENCY) await batch(kills.slice(i, i + CONCURRENCY));
    // Observed state changes: the k-th change of each run; stop at the first k that never came.
    for (let k = 1; k <= MAX_CHANGES; k += CONCURRENCY) {
      const ks = Array.from({ length: Math.min(CONCURRENCY, MAX_CHANGES - k + 1) }, (_, j) => ({ change: k + j }));
      const results = await batch(ks);
      if (results.some((r) => !r.killed)) break;
    }
    const ms = Date.now() - started;
    const total = count.timed + count.injected + count.observed;
    figures.kills += total;
    figures.timed += count.timed;
    figures.injected += count.injected;
    figures.observed += count.observed;
    figures.ms += ms;
    t.diagnostic(`${command} (${path}): ${total} kills (${count.timed} timed, ${count.injected} injected, ${count.observed} observed) in ${ms} ms`);
    if (path === 'warm' && !hasStrace) t.diagnostic('strace is not installed: the kills at protocol messages were skipped');
    assert.deepEqual(left, [], `left after delete --force:\n${left.slice(0, 20).join('\n')}`);
  }

  for (const command of ['create', 'run', 'start', 'exec', 'delete', 'berth run'] as Command[]) {
    for (const path of ['warm', 'cold'] as Path[]) {
      test(`${command}, ${path} path: killed at 0-60 ms and at each protocol step`, async (t) => {
        await sweep(t, command, path);
      });
    }
  }
});
