/**
 * OOM kill counters and events.
 * v1: memory.oom_control "oom_kill N" (linux ≥ 4.13). v2: memory.events "oom_kill N", which is
 * hierarchical (counts kills in sub-cgroups too) unless the hierarchy is mounted with
 * memory_localevents; memory.events.local is the fallback when memory.events is absent.
 */
import { existsSync, watch } from 'node:fs';
import { join } from 'node:path';
import { readOpt, parseFlatKeyed } from './files.js';
import { watchOomEvents } from '../native/one-shot.js';

/** OOM kills recorded by a v1 memory cgroup (0 when the counter is missing). */
export function oomKillCountV1(dir: string | undefined): number {
  if (!dir) return 0;
  return parseFlatKeyed(readOpt(dir, 'memory.oom_control'))?.['oom_kill'] ?? 0;
}

/** OOM kills recorded by a v2 cgroup (0 when the counter is missing). */
export function oomKillCountV2(dir: string | undefined): number {
  if (!dir) return 0;
  const ev = parseFlatKeyed(readOpt(dir, 'memory.events')) ?? parseFlatKeyed(readOpt(dir, 'memory.events.local'));
  return ev?.['oom_kill'] ?? 0;
}

/**
 * v1 OOM events. The kernel's v1 notification is an eventfd registered through
 * cgroup.event_control ("<eventfd> <fd of memory.oom_control>"); Node cannot create an eventfd,
 * so `berth-helper oom-watch <dir>` holds it and prints "oom" per event (see watchOomV1Events).
 * Without the helper binary, or when it cannot register, oom_kill is polled every `intervalMs`.
 */
export function watchOomV1(dir: string | undefined, onOom: (count: number) => void, intervalMs = 100): () => void {
  if (!dir) return () => {};
  return watchOomV1Events(dir, onOom, intervalMs) ?? pollOomV1(dir, onOom, intervalMs);
}

/** Polls oom_kill every `intervalMs` and reports growth. */
function pollOomV1(dir: string, onOom: (count: number) => void, intervalMs: number, from = oomKillCountV1(dir)): () => void {
  let last = from;
  const timer = setInterval(() => {
    const n = oomKillCountV1(dir);
    if (n > last) {
      last = n;
      onOom(n);
    }
  }, intervalMs);
  return () => clearInterval(timer);
}

/**
 * Event-driven v1 watcher. The notification comes when the cgroup hits its limit, just before
 * the OOM killer picks a victim, so the oom_kill counter is re-read a few times until it has
 * grown (for up to 0.75 s); onOom keeps its meaning "the kill counter grew" (an OOM that kills
 * nothing, e.g. with oom_kill_disable, is not reported, as with polling). The helper exits by itself when
 * the cgroup is removed; if it fails before its "ready" line, polling takes over. Undefined
 * without the helper binary (native/one-shot.ts `watchOomEvents`).
 */
function watchOomV1Events(dir: string, onOom: (count: number) => void, intervalMs: number): (() => void) | undefined {
  let last = oomKillCountV1(dir);
  let stopped = false;
  let stopPoll: (() => void) | undefined;
  const timers = new Set<NodeJS.Timeout>();
  const check = (tries: number): void => {
    if (stopped) return;
    const n = oomKillCountV1(dir);
    if (n > last) {
      last = n;
      onOom(n);
    } else if (tries > 0) {
      const t = setTimeout(() => { timers.delete(t); check(tries - 1); }, 50 * (6 - tries));
      timers.add(t);
    }
  };
  let ready = false;
  const stopWatch = watchOomEvents(dir, {
    ready: () => { ready = true; },
    oom: () => check(5),
    ended: () => {
      if (!ready && !stopped && !stopPoll && existsSync(dir)) stopPoll = pollOomV1(dir, onOom, intervalMs, last);
    },
  });
  if (!stopWatch) return undefined;
  return () => {
    stopped = true;
    for (const t of timers) clearTimeout(t);
    stopPoll?.();
    stopWatch();
  };
}

/**
 * v2 OOM events: the kernel calls fsnotify on memory.events whenever a counter changes
 * (cgroup_file_notify), so fs.watch (inotify IN_MODIFY) wakes exactly then — what containerd
 * and runc do. The watcher ends by itself when the cgroup is removed (IN_IGNORED).
 */
export function watchOomV2(dir: string | undefined, onOom: (count: number) => void): () => void {
  if (!dir || readOpt(dir, 'memory.events') === undefined) return () => {};
  let last = oomKillCountV2(dir);
  const check = (): void => {
    const n = oomKillCountV2(dir);
    if (n > last) {
      last = n;
      onOom(n);
    }
  };
  const watcher = watch(join(dir, 'memory.events'), { persistent: true }, check);
  watcher.on('error', () => watcher.close());
  return () => watcher.close();
}
