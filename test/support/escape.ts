/**
 * The escape tests of issue 10, part 1 (the CVE-2024-21626 class), shared by the cgroup v1/hybrid
 * run (test/integration/escape-fds.test.ts, which says what they pin) and the cgroup v2 VM run
 * (test/cgroup-v2/escape-fds.test.ts). Every /proc/self/fd/N for N = 3..32 is tried as the
 * working directory and as the executable; each attempt must fail cleanly (a one-line error,
 * nothing left behind) or run inside the container's own tree, never read the host's marker.
 */import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { assertNoLeaks, makeBundle, processTag, repoRoot, testCgroupParent, uniqueId, type TestBundle } from './bundle.js';
import { collect, makeRoot, runtimeBin, type Result } from './runtime.js';

const clientBin = join(repoRoot, 'native/build/berth-runtime');
const berthBin = join(repoRoot, 'bin/berth.js');
const serverEntry = join(repoRoot, 'dist/src/server/main.js');
const FDS = Array.from({ length: 30 }, (_, i) => i + 3);

/** What one attempt did. */
type Outcome = 'refused' | 'inside';

/** Which paths to try: the runtime's run (cold/warm), create + start, exec, the engine, and the attack from inside. */
export type EscapeFlow = 'run-cold' | 'run-warm' | 'create-start-cold' | 'create-start-warm' | 'exec-cold' | 'exec-warm' | 'engine' | 'inside';

/**
 * Registers the escape tests of issue 10 (see test/integration/escape-fds.test.ts) for `flows`.
 * `serverWaitMs`: how long the runtime server may take to start (seconds under the v2 VM's TCG).
 */
export function escapeSuite(title: string, opts: { skip: string | false | undefined; flows: EscapeFlow[]; serverWaitMs?: number; timeoutMs?: number }): void {
  const has = (f: EscapeFlow) => opts.flows.includes(f);
  const timeout = opts.timeoutMs;
  describe(title, { skip: opts.skip }, () => {
    let dir: string;
    let markerDir: string;
    let marker: string;
    let root: ReturnType<typeof makeRoot>;
    let server: ChildProcess;
    let socket: string;
    const bundles: TestBundle[] = [];

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `${processTag()}-escape-`));
      // The marker lives in a host directory no container here has: only an escape reads it.
      markerDir = mkdtempSync(join(tmpdir(), `${processTag()}-marker-`));
      marker = `HOST-MARKER-${randomBytes(8).toString('hex')}`;
      writeFileSync(join(markerDir, 'marker'), marker);
      root = makeRoot();
      socket = join(dir, 'runtime.sock');
      server = spawn(process.execPath, [serverEntry], {
        env: { ...process.env, BERTH_RUNTIME_SOCKET: socket, BERTH_SERVER_IDLE_MS: '600000' }, stdio: ['ignore', 'ignore', 'pipe'],
      });
      let log = '';
      server.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
      for (let i = 0; i < (opts.serverWaitMs ?? 5000) / 10 && !log.includes('listening'); i++) await new Promise((r) => setTimeout(r, 10));
      assert.match(log, /listening/, `server did not start: ${log}`);
    });

    after(async () => {
      server?.kill('SIGTERM');
      for (const b of bundles) await b.cleanup();
      root?.cleanup();
      rmSync(dir, { recursive: true, force: true });
      rmSync(markerDir, { recursive: true, force: true });
      await assertNoLeaks(processTag());
    });

    /** A script that climbs from its working directory and reads the marker by a relative path. */
    const script = () => {
      const rel = relative('/', join(markerDir, 'marker'));
      return `cd ${'../'.repeat(12)} 2>/dev/null; cat ${rel} 2>/dev/null; echo BERTH-END`;
    };

    const runtime = (warm: boolean, args: string[]): Promise<Result> => {
      const child = warm
        ? spawn(clientBin, ['--root', root.root, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, BERTH_RUNTIME_SOCKET: socket, BERTH_NODE: '/bin/false' } })
        : spawn(process.execPath, [runtimeBin, '--root', root.root, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      return collect(child, `berth-runtime ${args.join(' ')}`, { timeoutMs: 20_000 });
    };

    const bundle = async (mutate: (spec: NonNullable<TestBundle['spec']>) => void) => {
      const b = await makeBundle({ mutate });
      bundles.push(b);
      return b;
    };

    /** Classify one attempt; fails the test on an escape or on a failure that is not clean. */
    const judge = (what: string, r: Result, output: string): Outcome => {
      assert.ok(!output.includes(marker) && !r.stdout.includes(marker), `${what}: the host marker was read:\n${output}${r.stdout}`);
      if (r.code === 0) {
        assert.match(output, /BERTH-END/, `${what}: exit 0 but the script did not run: ${r.stderr}`);
        return 'inside';
      }
      assert.match(r.stderr, /^berth-runtime: [^\n]+\n$/, `${what}: not a one-line error (code ${r.code}):\n${r.stderr}`);
      return 'refused';
    };

    const assertGone = (id: string) => {
      assert.ok(!existsSync(join(root.root, id)), `${id}: state directory left behind`);
    };

    const summary = (label: string, outcomes: Map<number, Outcome>) => {
      const inside = [...outcomes].filter(([, o]) => o === 'inside').map(([n]) => n);
      process.stdout.write(`# ${label}: ${outcomes.size - inside.length} refused, ${inside.length} ran inside the container (fd ${inside.join(', ') || '-'})\n`);
    };

    for (const warm of [false, true].filter((w) => has(w ? 'run-warm' : 'run-cold'))) {
      for (const as of ['cwd', 'exec'] as const) {
        test(`run (${warm ? 'warm' : 'cold'}): /proc/self/fd/N as the ${as === 'cwd' ? 'working directory' : 'executable'}`, { timeout }, async () => {
          const b = await bundle((s) => { s.root!.readonly = false; });
          const outcomes = new Map<number, Outcome>();
          for (const n of FDS) {
            const fd = `/proc/self/fd/${n}`;
            const id = uniqueId(`esc-run-${n}`);
            b.spec.process!.cwd = as === 'cwd' ? fd : '/';
            b.spec.process!.args = as === 'cwd' ? ['sh', '-c', script()] : [fd, '-c', script()];
            b.spec.linux!.cgroupsPath = `${testCgroupParent()}/${id}`;
            await b.write();
            const r = await runtime(warm, ['run', '--bundle', b.dir, id]);
            outcomes.set(n, judge(`run ${as}=${fd}`, r, r.stdout));
            assertGone(id);
          }
          summary(`run ${warm ? 'warm' : 'cold'}, ${as}`, outcomes);
        });
      }
    }

    for (const warm of [false, true].filter((w) => has(w ? 'create-start-warm' : 'create-start-cold'))) {
      for (const as of ['cwd', 'exec'] as const) {
        test(`create + start (${warm ? 'warm' : 'cold'}): /proc/self/fd/N as the ${as === 'cwd' ? 'working directory' : 'executable'}`, { timeout }, async () => {
          const b = await bundle((s) => { s.root!.readonly = false; });
          const result = join(b.rootfs, 'result');
          const outcomes = new Map<number, Outcome>();
          for (const n of FDS) {
            const fd = `/proc/self/fd/${n}`;
            const id = uniqueId(`esc-cs-${n}`);
            rmSync(result, { force: true });
            // The output goes to a file of the container's own root: create's stdio stays with the init.
            const body = `(${script()}) > /result`;
            b.spec.process!.cwd = as === 'cwd' ? fd : '/';
            b.spec.process!.args = as === 'cwd' ? ['sh', '-c', body] : [fd, '-c', body];
            b.spec.linux!.cgroupsPath = `${testCgroupParent()}/${id}`;
            await b.write();
            const c = await runtime(warm, ['create', '--bundle', b.dir, id]);
            if (c.code !== 0) {
              outcomes.set(n, judge(`create ${as}=${fd}`, c, ''));
              assertGone(id);
              continue;
            }
            const s = await runtime(warm, ['start', id]);
            assert.equal(s.code, 0, s.stderr);
            const read = () => (existsSync(result) ? readFileSync(result, 'utf8') : '');
            for (let i = 0; i < 3000 && !read().includes('BERTH-END'); i++) await new Promise((r) => setTimeout(r, 10));
            outcomes.set(n, judge(`create+start ${as}=${fd}`, { code: 0, stdout: '', stderr: '' }, read()));
            assert.equal((await runtime(warm, ['delete', '--force', id])).code, 0);
            assertGone(id);
          }
          summary(`create + start ${warm ? 'warm' : 'cold'}, ${as}`, outcomes);
        });
      }
    }

    for (const warm of [false, true].filter((w) => has(w ? 'exec-warm' : 'exec-cold'))) {
      test(`exec (${warm ? 'warm' : 'cold'}): /proc/self/fd/N as --cwd and as the executable`, { timeout }, async () => {
        const id = uniqueId('esc-exec');
        const b = await bundle((s) => {
          s.process!.args = ['sleep', '1000'];
          s.linux!.cgroupsPath = `${testCgroupParent()}/${id}`;
        });
        const r = await runtime(false, ['run', '--detach', '--bundle', b.dir, id]);
        assert.equal(r.code, 0, r.stderr);
        try {
          for (const as of ['cwd', 'exec'] as const) {
            const outcomes = new Map<number, Outcome>();
            for (const n of FDS) {
              const fd = `/proc/self/fd/${n}`;
              const args = as === 'cwd' ? ['exec', '--cwd', fd, id, 'sh', '-c', script()] : ['exec', id, fd, '-c', script()];
              const e = await runtime(warm, args);
              outcomes.set(n, judge(`exec ${as}=${fd}`, e, e.stdout));
            }
            summary(`exec ${warm ? 'warm' : 'cold'}, ${as}`, outcomes);
          }
        } finally {
          await runtime(false, ['delete', '--force', id]);
        }
        assertGone(id);
      });
    }

    if (has('engine')) test('engine: run -d -w /proc/self/fd/N (the detached monitor\'s fds) and exec -w', { timeout }, async () => {
      const data = mkdtempSync(join(dir, 'data-'));
      const run = mkdtempSync(join(dir, 'run-'));
      const berth = (args: string[]): Promise<Result> => {
        const child = spawn(process.execPath, [berthBin, '--data-root', data, '--root', run, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, BERTH_DEFAULT_NETWORK: 'none' } });
        return collect(child, `berth ${args.join(' ')}`, { timeoutMs: 20_000 });
      };
      const cg = ['--cgroup-parent', testCgroupParent()];
      const judgeEngine = (what: string, r: Result, output: string): Outcome => {
        assert.ok(!output.includes(marker), `${what}: the host marker was read:\n${output}`);
        if (r.code === 0 && output.includes('BERTH-END')) return 'inside';
        assert.notEqual(r.code, 0, `${what}: exit 0 but the script did not run:\n${output}${r.stderr}`);
        assert.match(r.stderr, /^berth: [^\n]+\n$/, `${what}: not a one-line error (code ${r.code}):\n${r.stderr}`);
        return 'refused';
      };
      const outcomes = new Map<number, Outcome>();
      for (const n of FDS) {
        const name = uniqueId(`esc-eng-${n}`);
        const r = await berth(['run', '-d', '--name', name, ...cg, '-w', `/proc/self/fd/${n}`, '--', 'sh', '-c', script()]);
        let output = '';
        if (r.code === 0) {
          for (let i = 0; i < 500; i++) {
            output = (await berth(['logs', name])).stdout;
            if (output.includes('BERTH-END')) break;
            await new Promise((res) => setTimeout(res, 10));
          }
        }
        outcomes.set(n, judgeEngine(`berth run -d -w /proc/self/fd/${n}`, r, output));
        await berth(['rm', '-f', name]);
      }
      summary('engine run -d, -w', outcomes);
      const name = uniqueId('esc-eng-exec');
      assert.equal((await berth(['run', '-d', '--name', name, ...cg, '--', 'sleep', '1000'])).code, 0);
      try {
        const ex = new Map<number, Outcome>();
        for (const n of FDS) {
          const e = await berth(['exec', '-w', `/proc/self/fd/${n}`, name, 'sh', '-c', script()]);
          ex.set(n, judgeEngine(`berth exec -w /proc/self/fd/${n}`, e, e.stdout));
        }
        summary('engine exec, -w', ex);
      } finally {
        await berth(['rm', '-f', name]);
      }
      assert.deepEqual((await berth(['ps', '-aq'])).stdout, '');
    });

    if (has('inside')) test('from inside: the not yet exec\'d init of a created container keeps its fds, exe and root to itself', { timeout }, async () => {
      const id = uniqueId('esc-inside');
      const b = await bundle((s) => {
        s.process!.args = ['true'];
        s.linux!.cgroupsPath = `${testCgroupParent()}/${id}`;
        // Docker's default capabilities (no CAP_SYS_PTRACE): what a container's root has.
        const caps = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
          'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];
        s.process!.capabilities = { bounding: caps, effective: caps, permitted: caps };
      });
      assert.equal((await runtime(false, ['create', '--bundle', b.dir, id])).code, 0);
      try {
        // pid 1 is the init, still the helper (blocked in wait-fifo): not dumpable, so /proc/1/fd,
        // /proc/1/exe, /proc/1/root and /proc/1/cwd need CAP_SYS_PTRACE.
        const probe = [
          'for f in /proc/1/fd/*; do [ -e "$f" ] && echo "FD $f $(readlink $f)"; done',
          'readlink /proc/1/exe >/dev/null 2>&1 && echo EXE-READABLE',
          'ls /proc/1/root/ >/dev/null 2>&1 && echo ROOT-READABLE',
          'ls /proc/1/cwd/ >/dev/null 2>&1 && echo CWD-READABLE',
          '(echo x >> /proc/1/exe) 2>/dev/null && echo EXE-WRITABLE',
          'echo PROBE-END',
        ].join('; ');
        const e = await runtime(false, ['exec', id, 'sh', '-c', probe]);
        assert.equal(e.code, 0, e.stderr);
        assert.equal(e.stdout, 'PROBE-END\n');
      } finally {
        await runtime(false, ['delete', '--force', id]);
      }
      assertGone(id);
    });
  });
}
