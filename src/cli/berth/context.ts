/**
 * What every berth command gets (the engine's paths, a warning printer) and the shape of a
 * command: its flags, usage and action, returning the exit code.
 */
import type { FlagSpec, Parsed } from '../args.js';
import type { EnginePaths } from '../../engine/store.js';
import type { HelperLauncher } from '../../runtime/helper.js';

/** Global state of one berth invocation. */
export interface BerthContext {
  paths: EnginePaths;
  /** Docker prints warnings as `WARNING: ...` on stderr. */
  warn(msg: string): void;
  /**
   * Set in the warm server (src/server/engine-worker.ts): the berth client becomes the helper of
   * a foreground container, whose stdio is then the client's own.
   */
  launch?: HelperLauncher;
  /**
   * Set in the warm server: aborted when the berth client went away (killed, or Ctrl-C). A
   * command ends at its next wait for something outside (new events, log lines, a container's
   * end) as a process of its own would end on the signal; it never stops half-way through a
   * change. A cold command is its own process and just dies with the caller's signal.
   */
  gone?: AbortSignal;
}

/** The exit code of a command that ended because its client went away: 128 + SIGINT, as for Ctrl-C. */
export const CALLER_GONE = 130;

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
