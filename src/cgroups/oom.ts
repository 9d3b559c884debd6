/**
 * OOM kill counters and events.
 * v1: memory.oom_control "oom_kill N" (linux ≥ 4.13). v2: memory.events "oom_kill N", which is
 * hierarchical (counts kills in sub-cgroups too) unless the hierarchy is mounted with
 * memory_localevents; memory.events.local is the fallback when memory.events is absent.
 */
import { watch } from 'node:fs';
import { join } from 'node:path';
import { readOpt, parseFlatKeyed } from './files.js';

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
 * v1 OOM events by polling oom_kill every 100 ms. The kernel's v1 notification needs an eventfd
 * registered through cgroup.event_control ("<eventfd> <fd of memory.oom_control>"), and Node
 * cannot create an eventfd; the native helper will provide one later and this becomes a read on it.
 */
export function watchOomV1(dir: string | undefined, onOom: (count: number) => void, intervalMs = 100): () => void {
  if (!dir) return () => {};
  let last = oomKillCountV1(dir);
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
