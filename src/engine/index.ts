/**
 * Berth's engine as a TypeScript API: the same code the `berth` CLI runs.
 *
 * @example
 *   import { runContainer } from './src/engine/index.js'; // from a checkout; examples/run-limited.ts
 *   const report = await runContainer({ cmd: ['sh', '-c', 'echo hi'], memory: '64m', onStdout: (b) => process.stdout.write(b) });
 *   console.log(report.summary); // "exited with code 0"
 */
import { finished } from 'node:stream';
import { parseSize } from '../util/size.js';
import { defaultContainerConfig, defaultHostConfig, type CreateRequest } from './config.js';
import { createAndStart } from './run.js';
import { launch } from './launch.js';
import { sparingLauncher } from '../native/helper-pool.js';
import type { Report } from './report.js';
import { callerFromEnv } from './caller.js';
import { defaultDataRoot, defaultRuntimeRoot, type EnginePaths } from './store.js';

export type { Report } from './report.js';
export type { ContainerConfig, HostConfig, CreateRequest } from './config.js';
export type { EnginePaths, EngineRecord, ContainerState, DockerContainerFields, Bookkeeping } from './store.js';
export type { DockerInspect, InspectMount } from './inspect.js';
export { createEngineContainer } from './create.js';
export { createAndStart, type CreatedAndStarted, type CreateOptions } from './run.js';
export { launch, killEngineContainer, type Launched, type LaunchOptions } from './launch.js';
export { startDetached } from './monitor.js';
export { readLog, parseTimeArg, type LogEntry, type LogOptions } from './logs.js';
export { execEngine, type ExecRequest } from './exec.js';
export { pauseEngineContainer, renameEngineContainer, updateEngineContainer, pruneContainers, type UpdateFields } from './control.js';
export { sampleStats, statsRow, type StatsSample } from './stats.js';
export { findContainer, listEngineContainers, removeEngineContainer, inspectDocument, stopEngineContainer, waitNotRunning } from './containers.js';
export { reapExited, shouldRestart } from './reap.js';
export { appendEvent, readEvents, type EngineEvent } from './events.js';
export { requestFromFlags } from './flags.js';
export { formatReport } from './report.js';
export { dropSpareHelpers } from '../native/helper-pool.js';

/** Options of runContainer. Sizes take numbers (bytes) or Docker's strings ('64m'). */
export interface RunOptions {
  /** `host` (default): the host's own system directories, read-only. */
  image?: string;
  /** An unpacked root filesystem instead. */
  rootfs?: string;
  cmd: string[];
  name?: string;
  env?: string[];
  workdir?: string;
  user?: string;
  memory?: number | string;
  /** CPUs, e.g. 0.5. */
  cpus?: number;
  pidsLimit?: number;
  /** Relative paths go below the calling process's own cgroup. */
  cgroupParent?: string;
  /** Kill the container after this many milliseconds (the report says `timeout`). */
  timeoutMs?: number;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /** Further Docker HostConfig fields (e.g. { ReadonlyRootfs: true, CapDrop: ['ALL'] }); NetworkMode is 'none' unless given. */
  hostConfig?: Partial<CreateRequest['hostConfig']>;
  /** Where records and runtime state live (defaults: BERTH_DATA_ROOT or /var/lib/berth, /run/berth/engine). */
  paths?: Partial<EnginePaths>;
  /**
   * The environment the defaults come from (BERTH_DATA_ROOT, BERTH_RUNTIME_ROOT, and for an
   * image BERTH_STORAGE_DRIVER, BERTH_CONFIG_DIR, BERTH_REGISTRY_*): this process's by default.
   * (`env` is the container's.)
   */
  settingsEnv?: Readonly<Record<string, string | undefined>>;
}

/** Run a container to completion, removing it afterwards; resolves with what happened. */
export async function runContainer(opts: RunOptions): Promise<Report> {
  const paths = runPaths(opts);
  const r = await createAndStart(paths, runRequest(opts),
    (rec) => launch(paths, rec.Id, { stdio: ['ignore', 'pipe', 'pipe'], timeoutMs: opts.timeoutMs, launcher: sparingLauncher, log: false }),
    { caller: callerFromEnv(apiEnv(opts)) });
  if (r.failed) throw r.failed.error;
  const launched = r.started;
  const drained = [drain(launched.stdout, opts.onStdout), drain(launched.stderr, opts.onStderr)];
  const report = await launched.exited;
  // The exit can be seen before the last output has been read from the pipes: wait for their
  // end (every writer is gone once the cgroup is empty), but never for long.
  await Promise.race([Promise.all(drained), new Promise((r) => setTimeout(r, 1000).unref())]);
  return report;
}

/**
 * The environment of the TypeScript API's defaults: the caller's `settingsEnv` option, else this
 * process's (the API is a front end, as the command lines are: its caller is the program it runs in).
 */
function apiEnv(opts: Pick<RunOptions, 'settingsEnv'>): Readonly<Record<string, string | undefined>> {
  return opts.settingsEnv ?? process.env;
}

/** Where runContainer keeps records and runtime state. */
export function runPaths(opts: Pick<RunOptions, 'paths' | 'settingsEnv'>): EnginePaths {
  const env = apiEnv(opts);
  return { dataRoot: opts.paths?.dataRoot ?? defaultDataRoot(env), runtimeRoot: opts.paths?.runtimeRoot ?? defaultRuntimeRoot(env) };
}

/** The create request runContainer makes of its options (the benchmark runs crun on its spec). */
export function runRequest(opts: RunOptions): CreateRequest {
  const config = defaultContainerConfig();
  // A sandbox: no network unless asked (hostConfig.NetworkMode 'bridge' or a network's name),
  // unlike `berth run`, whose default is Docker's bridge.
  const hc = { ...defaultHostConfig(), NetworkMode: 'none', ...opts.hostConfig };
  config.Image = opts.image ?? 'host';
  config.Cmd = [...opts.cmd];
  config.Env = [...(opts.env ?? [])];
  config.WorkingDir = opts.workdir ?? '';
  config.User = opts.user ?? '';
  if (opts.memory !== undefined) hc.Memory = typeof opts.memory === 'number' ? opts.memory : parseSize(opts.memory, 'memory');
  if (opts.cpus !== undefined) hc.NanoCpus = Math.round(opts.cpus * 1e9);
  if (opts.pidsLimit !== undefined) hc.PidsLimit = opts.pidsLimit;
  if (opts.cgroupParent !== undefined) hc.CgroupParent = opts.cgroupParent;
  hc.AutoRemove = true;
  return { name: opts.name, rootfs: opts.rootfs, config, hostConfig: hc };
}

/**
 * Pass a stream's chunks to `on` and resolve at its end (or at once when there is none).
 * stream.finished() also resolves for a stream that ended or closed before this was called:
 * waiting for an 'end' or 'close' already emitted would hang until the timeout above.
 */
function drain(stream: NodeJS.ReadableStream | null, on: ((chunk: Buffer) => void) | undefined): Promise<void> {
  if (!stream) return Promise.resolve();
  return new Promise((resolve) => {
    stream.on('data', (b: Buffer) => on?.(b));
    finished(stream, () => resolve());
  });
}
