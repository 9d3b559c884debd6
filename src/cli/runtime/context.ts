/**
 * What every berth-runtime command gets: the global options and the logger.
 */
import { appendFileSync } from 'node:fs';
import type { FlagSpec, Parsed } from '../args.js';

export interface RuntimeContext {
  /** `--root`: the directory holding container state. */
  root: string;
  debug: boolean;
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
}

/** A logger like runc's logrus: `--log-format json` writes {"level","msg","time"} lines. */
export function makeLogger(file: string | undefined, format: string, debug: boolean): RuntimeContext['log'] {
  return (level, msg) => {
    if (level === 'debug' && !debug) return;
    if (!file) {
      if (debug) process.stderr.write(`${level}: ${msg}\n`);
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
