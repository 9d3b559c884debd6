/**
 * Hooks the runtime runs itself, in the runtime's namespaces: prestart and createRuntime
 * (after the container's namespaces exist, before its root is pivoted), poststart (after
 * start) and poststop (at delete). createContainer and startContainer hooks run inside the
 * container and are done by the helper (plan ops `hook`).
 *
 * Each hook gets the OCI state on stdin. A hook with `timeout` is killed when it runs longer.
 */
import { spawn } from 'node:child_process';
import { HELPER_WAIT_MS } from '../native/helper-session.js';
import type { Hook, State } from '../oci/spec.js';
import { BerthError } from '../util/errors.js';

/**
 * The bound for the helper's "ready": HELPER_WAIT_MS plus the time the createContainer hooks may
 * take (a hook with no timeout of its own counts as HOOK_WITHOUT_TIMEOUT_MS: the OCI spec sets no
 * default, but the wait must end).
 */
export function readyWaitMs(hooks: { timeout?: number }[] | undefined): number {
  return HELPER_WAIT_MS + (hooks ?? []).reduce((sum, h) => sum + (h.timeout ? h.timeout * 1000 : HOOK_WITHOUT_TIMEOUT_MS), 0);
}

/** See readyWaitMs. */
export const HOOK_WITHOUT_TIMEOUT_MS = 600_000;

/** Run one hook; resolves when it exits 0, rejects with EHOOK naming the hook otherwise. */
export function runHook(kind: string, hook: Hook, state: State): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = hook.args ?? [hook.path];
    const env: Record<string, string> = {};
    for (const kv of hook.env ?? []) {
      const i = kv.indexOf('=');
      if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
    }
    // Its own process group, so a timeout kills what the hook started too: a child left behind
    // (`sh -c 'sleep 30'`) would keep the stderr pipe, and with it this process, alive.
    const child = spawn(hook.path, args.slice(1), { argv0: args[0], env, stdio: ['pipe', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => { if (stderr.length < 4096) stderr += d.toString(); });
    let timer: NodeJS.Timeout | undefined;
    if (hook.timeout && hook.timeout > 0) {
      timer = setTimeout(() => {
        try { process.kill(-child.pid!, 'SIGKILL'); } catch { child.kill('SIGKILL'); }
        child.stderr?.destroy();
        reject(new BerthError('EHOOK', `${kind} hook ${hook.path} timed out after ${hook.timeout}s`));
      }, hook.timeout * 1000);
    }
    child.stdin?.on('error', () => { /* a hook need not read its stdin */ });
    child.stdin?.end(JSON.stringify(state));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new BerthError('EHOOK', `${kind} hook ${hook.path}: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const why = signal ? `was killed by ${signal}` : `exited with status ${code}`;
      const tail = stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : '';
      reject(new BerthError('EHOOK', `${kind} hook ${hook.path} ${why}${tail}`));
    });
  });
}

/** Run hooks in order, stopping at the first failure. */
export async function runHooks(kind: string, hooks: Hook[] | undefined, state: State): Promise<void> {
  for (const hook of hooks ?? []) await runHook(kind, hook, state);
}

/** Run hooks in order, turning failures into warnings (poststart, poststop: the spec's rule). */
export async function runHooksWarn(kind: string, hooks: Hook[] | undefined, state: State, warn: (msg: string) => void): Promise<void> {
  for (const hook of hooks ?? []) {
    try {
      await runHook(kind, hook, state);
    } catch (err) {
      warn((err as Error).message);
    }
  }
}
