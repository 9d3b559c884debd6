/**
 * What every berth command gets (its caller, the engine's paths, a warning printer) and the
 * shape of a command: its flags, usage and action, returning the exit code.
 */
import type { FlagSpec, Parsed } from '../args.js';
import type { CommandIO } from '../io.js';
import type { EngineCaller } from '../../engine/caller.js';
import type { EnginePaths } from '../../engine/store.js';

export { CALLER_GONE } from '../io.js';

/**
 * One berth invocation: its caller (CommandIO: directory, environment, umask, stdio, cgroup,
 * signals, the helper launcher, `gone`) and what the global flags and the environment make of it.
 */
export interface BerthContext extends CommandIO {
  paths: EnginePaths;
  /** What the engine takes from the caller (its cgroup, image and storage settings). */
  caller: EngineCaller;
  /** Docker prints warnings as `WARNING: ...` on stderr. */
  warn(msg: string): void;
  /** A path of the command line, made absolute against the caller's directory. */
  path(p: string): string;
  /** The command's own arguments as typed, after its name (`run` splits image and command by them). */
  argv: string[];
}

/** A berth command. */
export interface Command {
  name: string;
  /** Docker's other names (`container rm`, `rm`). */
  aliases?: string[];
  usage: string;
  summary: string;
  flags: FlagSpec[];
  /** Minimum and maximum number of positional arguments (max -1 = any). */
  args: [number, number];
  /** Stop flag parsing at the first positional argument (the image, for run and create). */
  stopAtPositional?: boolean;
  hidden?: boolean;
  /**
   * Whether this invocation may run in the warm server (src/server/engine-worker.ts) rather than
   * in a process of its own: true when it reads nothing from the caller's stdin or terminal in
   * Node (the worker has only the caller's output, relayed). Absent: never (the cold path).
   */
  warm?(p: Parsed): boolean;
  run(ctx: BerthContext, p: Parsed): Promise<number> | number;
}
