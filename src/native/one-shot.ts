/**
 * The helper's one-shot modes (native/PROTOCOL.md, "One-shot modes"): small privileged jobs that
 * Node cannot do itself but that need no container, run as `berth-helper <mode> <args>`. Only the
 * invocation is here; what to do when a mode fails (poll instead, report unsupported) is the
 * caller's.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { BerthError } from '../util/errors.js';
import { helperPath } from './helper-path.js';

const run = promisify(execFile);

/**
 * Load a BPF_PROG_TYPE_CGROUP_DEVICE program (CgroupManager.deviceFilter()) and attach it to the
 * cgroup v2 directory `dir`, replacing the one attached before without a gap (the new program
 * is attached before the old one is detached). Used by `update` on a running container.
 */
export function attachDeviceFilter(dir: string, program: Uint8Array): void {
  const r = spawnSync(helperPath(), ['bpf-devices', dir], { input: Buffer.from(program), encoding: 'utf8', timeout: 10_000 });
  if (r.error) throw new BerthError('EHELPER', `berth-helper bpf-devices ${dir}: ${r.error.message}`);
  if (r.status !== 0) {
    const msg = (r.stderr ?? '').trim().replace(/^berth-helper: /, '') || `exited with status ${r.status ?? r.signal}`;
    throw new BerthError('EHELPER', msg);
  }
}

/** One line of a uid or gid map, as /proc/<pid>/uid_map has it. */
export interface IdMapRange {
  containerID: number;
  hostID: number;
  size: number;
}

const mapText = (maps: IdMapRange[]): string => maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');

/**
 * `berth-helper idmapped-overlay` (native/idmap.c): mount an overlay at `target` with `options`
 * (lowerdir entries relative to `layersDir`), the lower layers seen through a detached id-mapped
 * mount of `layersDir`. Rejects with an Error whose message is the helper's own.
 */
export async function idmappedOverlay(layersDir: string, options: string, target: string, uidMappings: IdMapRange[], gidMappings: IdMapRange[]): Promise<void> {
  try {
    await run(helperPath(), ['idmapped-overlay', layersDir, mapText(uidMappings), mapText(gidMappings), target, options]);
  } catch (err) {
    throw new Error(((err as { stderr?: string }).stderr ?? '').trim().replace(/^berth-helper: /, '') || String(err));
  }
}

/** What a `berth-helper oom-watch` reports. */
export interface OomWatchEvents {
  /** It holds the eventfd: events come from now on. */
  ready(): void;
  /** One v1 OOM notification (the cgroup hit its limit). */
  oom(): void;
  /** It could not start, or exited (the cgroup was removed, or it failed to register). */
  ended(): void;
}

/**
 * `berth-helper oom-watch DIR`: the v1 OOM notification of memory cgroup `dir`, an eventfd
 * registered through cgroup.event_control, which Node cannot create. It prints "ready", then
 * "oom" per event, and exits by itself when the cgroup is removed. Returns the function that
 * stops it, or undefined when the helper binary is not there (not built).
 */
export function watchOomEvents(dir: string, on: OomWatchEvents): (() => void) | undefined {
  let helper: string;
  try {
    helper = helperPath();
  } catch {
    return undefined; // not built
  }
  if (!existsSync(helper)) return undefined;
  const child = spawn(helper, ['oom-watch', dir], { stdio: ['ignore', 'pipe', 'ignore'] });
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line === 'ready') on.ready();
    else if (line === 'oom') on.oom();
  });
  child.on('error', () => on.ended());
  child.on('exit', () => on.ended());
  return () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
}

/**
 * `berth-helper delay-exec MS COMMAND...`: a process of its own session, no stdio, not waited
 * for, that sleeps `delayMs` and then execs `command` with environment `env`. Returns its pid.
 */
export function startDelayExec(delayMs: number, command: string[], env: Record<string, string>): number {
  const child = spawn(helperPath(), ['delay-exec', String(delayMs), ...command], {
    detached: true, stdio: 'ignore', cwd: '/', env,
  });
  child.unref();
  if (!child.pid) throw new BerthError('EHELPER', `cannot start ${helperPath()} delay-exec`);
  return child.pid;
}
