/**
 * Support for the engine's end-to-end tests: `berth` as a user types it, against a data root and
 * a runtime root of the test's own (temporary directories named after the test process), with
 * containers' cgroups below the test's own cgroup (--cgroup-parent, relative).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processTag, repoRoot, testCgroupParent } from '../support/bundle.js';
import type { Result } from '../support/runtime.js';

const bin = join(repoRoot, 'bin/berth.js');
const clientBin = join(repoRoot, 'native/build/berth');

/** One engine instance (data root + runtime root) for a test file. */
export class BerthCli {
  readonly data: string;
  readonly run: string;
  /** `--cgroup-parent` below the test's own cgroup. */
  readonly cg = ['--cgroup-parent', testCgroupParent()];

  /**
   * `netns`: run every command inside that network namespace (a path such as /run/netns/NAME), as
   * the networking tests do: their bridges, rules and forwards then exist only there.
   */
  constructor(label: string, readonly opts: { netns?: string; env?: Record<string, string> } = {}) {
    this.data = mkdtempSync(join(tmpdir(), `${processTag()}-${label}-data-`));
    this.run = mkdtempSync(join(tmpdir(), `${processTag()}-${label}-run-`));
  }

  /** Run `berth ARGS`; `input` is written to its stdin (closed otherwise); `env` is added to its environment. */
  exec(args: string[], opts: { timeoutMs?: number; input?: string; env?: Record<string, string> } = {}): Promise<Result> {
    return new Promise((resolve, reject) => {
      // BERTH_TEST_ENGINE_SOCKET: run every command through the C client and the warm engine
      // workers of the server on that socket (started by whoever runs the tests) instead of cold.
      const socket = process.env.BERTH_TEST_ENGINE_SOCKET;
      const argv = ['--data-root', this.data, '--root', this.run, ...args];
      const [cmd, cmdArgs] = socket ? [clientBin, argv] : [process.execPath, [bin, ...argv]];
      const ns = this.opts.netns;
      // Outside a namespace of the test's own, containers get no network by default (no bridge
      // on the machine's interfaces: Docker's `dockerd --bridge none`); inside one, Berth's default.
      const env: NodeJS.ProcessEnv = { ...process.env, BERTH_DEFAULT_NETWORK: 'none', ...(socket ? { BERTH_RUNTIME_SOCKET: socket } : {}) };
      if (ns) delete env.BERTH_DEFAULT_NETWORK;
      Object.assign(env, this.opts.env, opts.env);
      const child = spawn(ns ? 'nsenter' : cmd, ns ? [`--net=${ns}`, '--', cmd, ...cmdArgs] : cmdArgs, { stdio: ['pipe', 'pipe', 'pipe'], env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.stdin.end(opts.input ?? '');
      const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`berth ${args.join(' ')} timed out: ${stderr}`)); }, opts.timeoutMs ?? 30_000);
      child.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? -1, stdout, stderr }); });
    });
  }

  /** `berth inspect -f TEMPLATE REF`, trimmed. */
  async inspect(ref: string, template: string): Promise<string> {
    return (await this.exec(['inspect', '-f', template, ref])).stdout.trim();
  }

  /** Container ids on disk. */
  containers(): string[] {
    try { return readdirSync(join(this.data, 'containers')); } catch { return []; }
  }

  /** Pids and command lines of processes that name this instance's data root (monitor cleanups, waiters). */
  processes(): string[] {
    const found: string[] = [];
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      let cmd = '';
      try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '); } catch { continue; }
      if (cmd.includes(this.data)) found.push(`${pid}: ${cmd}`);
    }
    return found;
  }

  /** Wait (up to `ms`) until no process names this instance's data root: the short cleanups ended. */
  async settle(ms = 10_000): Promise<void> {
    await until(() => this.processes().length === 0, ms);
  }

  /** Remove every container (rm -f) and both roots. */
  async cleanup(): Promise<void> {
    for (const id of this.containers()) await this.exec(['rm', '-f', id]);
    rmSync(this.data, { recursive: true, force: true });
    rmSync(this.run, { recursive: true, force: true });
  }
}

/** Resolves after `ms` milliseconds. */
export const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` until it returns a truthy value or `ms` passes; returns the last value. */
export async function until<T>(fn: () => T | Promise<T>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > deadline) return v;
    await delay(20);
  }
}
