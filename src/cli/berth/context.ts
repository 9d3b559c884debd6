/**
 * What every berth command gets (the engine's paths, a warning printer) and the shape of a
 * command: its flags, usage and action, returning the exit code.
 */
import type { FlagSpec, Parsed } from '../args.js';
import type { EnginePaths } from '../../engine/store.js';

/** Global state of one berth invocation. */
export interface BerthContext {
  paths: EnginePaths;
  /** Docker prints warnings as `WARNING: ...` on stderr. */
  warn(msg: string): void;
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
  run(ctx: BerthContext, p: Parsed): Promise<number> | number;
}
