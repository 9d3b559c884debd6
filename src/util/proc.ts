/**
 * Small readers of /proc used by the runtime to tell whether a container's process is still the
 * one it started (pids are reused: the start time in /proc/<pid>/stat tells them apart).
 */
import { readFileSync } from 'node:fs';

/** True when a process with this pid exists (zombies included). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or undefined
 * when it does not exist. The command name (field 2) may contain spaces and parentheses, so the
 * fields are counted from the last ')'.
 */
export function pidStartTime(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field 22 is rest[19].
  const value = rest[19];
  return value === undefined ? undefined : Number(value);
}

/** The state letter of a process (R, S, D, Z, T …), or undefined when it is gone. */
export function pidState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/** True when `pid` is alive, not a zombie, and started at `startTime` (so it was not reused). */
export function isSameProcess(pid: number, startTime: number | undefined): boolean {
  const now = pidStartTime(pid);
  if (now === undefined) return false;
  if (startTime !== undefined && now !== startTime) return false;
  return pidState(pid) !== 'Z';
}
