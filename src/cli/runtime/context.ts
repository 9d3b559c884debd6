/**
 * What every berth-runtime command gets: its caller (../io.ts), the global options and the logger.
 */
import type { FlagSpec, Parsed } from '../args.js';
import { appendForCaller, type CommandIO } from '../io.js';

/** A berth-runtime invocation: its caller (CommandIO) and its global options. */
export interface RuntimeContext extends CommandIO {
  /** `--root`: the directory holding container state. */
  root: string;
  debug: boolean;
  /** Text to the caller's stdout and stderr. */
  out(text: string): void;
  err(text: string): void;
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

/**
 * A logger like runc's logrus: `--log-format json` writes {"level","msg","time"} lines. A log
 * file it makes gets the caller's umask.
 */
export function makeLogger(file: string | undefined, format: string, debug: boolean, err: (text: string) => void, umask: number): RuntimeContext['log'] {
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
      appendForCaller({ umask }, file, line + '\n');
    } catch {
      // A log that cannot be written must not hide the error being logged.
    }
  };
}
