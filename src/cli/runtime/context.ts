/**
 * What every berth-runtime command gets: the global options and the logger.
 */
import { appendFileSync } from 'node:fs';
import type { HelperLauncher } from '../../runtime/helper.js';
import type { FlagSpec, Parsed } from '../args.js';

/**
 * Where a command runs: the caller's working directory and output, and, in the runtime server
 * (src/server/), the caller's pid and the launcher that turns the caller's client into the helper.
 */
export interface RuntimeIO {
  /** The caller's working directory: relative paths on the command line are relative to it. */
  cwd: string;
  out(text: string): void;
  err(text: string): void;
  /** Set in the runtime server: the client's pid (its cgroup is the caller's). */
  callerPid?: number;
  /** Set in the runtime server: the helper is the client itself (HelperSession over the connection). */
  launch?: HelperLauncher;
}

/** The IO of a berth-runtime process run directly (the cold path). */
export function processIO(): RuntimeIO {
  return {
    cwd: process.cwd(),
    out: (text) => { process.stdout.write(text); },
    err: (text) => { process.stderr.write(text); },
  };
}

export interface RuntimeContext extends RuntimeIO {
  /** `--root`: the directory holding container state. */
  root: string;
  debug: boolean;
  /** True in the runtime server: the process is shared, signals are not the caller's. */
  server: boolean;
  /** A command-line path made absolute against the caller's working directory. */
  path(p: string): string;
  /** Write a log entry to `--log` in the chosen format (and nothing when no log is set). */
  log(level: 'debug' | 'info' | 'warning' | 'error', msg: string): void;
  /** A warning: to the log and to stderr. */
  warn(msg: string): void;
}

/** A berth-runtime command: its flags, usage line and action. Returns the exit code. */
export interface Command {
  name: string;
  usage: string;
  summary: string;
  flags: FlagSpec[];
  /** Minimum and maximum number of positional arguments (max -1 = any). */
  args: [number, number];
  run(ctx: RuntimeContext, p: Parsed): Promise<number> | number;
  /**
   * True when this invocation cannot run in the runtime server (it needs the caller's stdin, or
   * runs until the container stops): the server then sends the client to the cold path.
   */
  coldOnly?(p: Parsed, ctx: RuntimeContext): boolean;
}

/** A logger like runc's logrus: `--log-format json` writes {"level","msg","time"} lines. */
export function makeLogger(file: string | undefined, format: string, debug: boolean, err: RuntimeIO['err']): RuntimeContext['log'] {
  return (level, msg) => {
    if (level === 'debug' && !debug) return;
    if (!file) {
      if (debug) err(`${level}: ${msg}\n`);
      return;
    }
    const time = new Date().toISOString();
    const line = format === 'json'
      ? JSON.stringify({ level, msg, time })
      : `time="${time}" level=${level} msg=${JSON.stringify(msg)}`;
    try {
      appendFileSync(file, line + '\n');
    } catch {
      // A log that cannot be written must not hide the error being logged.
    }
  };
}
