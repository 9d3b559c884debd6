/**
 * Running berth-runtime as a user (or containerd) does: the real binary, a private --root, and
 * a way to capture its output and exit status.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { processTag, repoRoot } from './bundle.js';

export const runtimeBin = join(repoRoot, 'bin/berth-runtime.js');

const named = process.env.BERTH_TEST_RUNTIME || undefined;

/**
 * `BERTH_TEST_RUNTIME=<checkout>/native/build/berth-runtime` (a file named berth-runtime) drives
 * Berth through its C client, i.e. through the runtime server named by BERTH_RUNTIME_SOCKET
 * (or the cold path when none runs). It is Berth all the same: `otherRuntime` stays unset.
 */
export const berthClient = named && basename(named) === 'berth-runtime' ? named : undefined;

/**
 * `BERTH_TEST_RUNTIME=/usr/sbin/runc` runs the same tests against another runc-compatible
 * runtime (to check the tests themselves); unset, the tests drive Berth's own CLI.
 */
export const otherRuntime = berthClient ? undefined : named;

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** A private runtime root for one test file; `cleanup()` removes it. */
export function makeRoot(): { root: string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), `${processTag()}-root-`));
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Run `berth-runtime --root ROOT ARGS...` and collect its output. */
export function runtime(root: string, args: string[], opts: { input?: string; timeoutMs?: number; cwd?: string } = {}): Promise<Result> {
  const direct = otherRuntime ?? berthClient;
  const [cmd, pre] = direct ? [direct, []] : [process.execPath, [runtimeBin]];
  const child = spawn(cmd, [...pre, '--root', root, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'], cwd: opts.cwd,
  });
  return collect(child, `berth-runtime ${args.join(' ')}`, opts);
}

/**
 * The exit code and output of a runtime process. A created container keeps the runtime's
 * stdout and stderr open (they are its stdio), so 'close' may come much later than 'exit':
 * the pipes get a moment to drain, no more.
 */
export function collect(child: ChildProcess, what: string, opts: { input?: string; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} timed out; stderr: ${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    // A fast runtime (the C client) may exit before its stdin is written: EPIPE is not a failure.
    child.stdin!.on('error', () => { /* see above */ });
    child.stdin!.end(opts.input ?? '');
    child.on('error', reject);
    let closed = false;
    child.on('close', () => { closed = true; });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const done = () => resolve({ code: code ?? 128 + (signal ? 9 : 0), stdout, stderr });
      if (closed) done();
      else {
        const t = setTimeout(done, 50);
        child.on('close', () => { clearTimeout(t); done(); });
      }
    });
  });
}
