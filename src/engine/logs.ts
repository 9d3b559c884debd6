/**
 * Reading a detached container's json-file log (written by the native monitor, one JSON object
 * per line: {"log","stream","time"}), with Docker's `logs` options: --tail, --since/--until, and
 * following the file until the container has stopped.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { BerthError } from '../util/errors.js';
import { pause } from '../util/pause.js';

/** One log entry. */
export interface LogEntry {
  log: string;
  stream: 'stdout' | 'stderr';
  time: string;
}

/** Options of `readLog`. */
export interface LogOptions {
  /** Only the last N entries (of those that pass since/until); undefined = all. */
  tail?: number;
  /** Seconds since the epoch (fractional). */
  since?: number;
  until?: number;
  /** Keep reading new entries until `done()` says the container has stopped. */
  follow?: boolean;
  done?: () => Promise<boolean>;
  /** Stop following when aborted (the warm client went away: BerthContext.gone). */
  signal?: AbortSignal;
  /**
   * Read through this open descriptor of the log instead of its path: a follower that must
   * outlive the file's removal (an attach to a --rm container that ends between two reads).
   */
  fd?: number;
}

/**
 * Docker's time arguments (--since, --until): RFC 3339 dates (with or without time), Unix
 * timestamps (`1700000000.5`), or a duration before now (`10m`, `1h30m`, `2.5s`).
 */
export function parseTimeArg(text: string, flag: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const dur = /^((\d+(\.\d+)?)(h|ms|m|s|us|ns))+$/.test(text) ? text.match(/\d+(\.\d+)?(h|ms|m|s|us|ns)/g) : null;
  if (dur) {
    const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, ns: 1e-9 };
    const secs = dur.reduce((acc, part) => acc + parseFloat(part) * unit[part.replace(/^[\d.]+/, '')]!, 0);
    return now / 1000 - secs;
  }
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) {
    throw new BerthError('EINVALID_ARG', `invalid value for --${flag} ${JSON.stringify(text)}: use a date (2006-01-02T15:04:05Z), a unix timestamp or a duration (10m)`);
  }
  return ms / 1000;
}

/** Seconds since the epoch of an RFC 3339 time with up to nanosecond precision. */
export function entrySeconds(time: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return Date.parse(time) / 1000;
  return Date.parse(`${m[1]}${m[3]}`) / 1000 + (m[2] ? Number(`0${m[2]}`) : 0);
}

/** Docker's `logs -t` timestamp: RFC 3339 with exactly nine fraction digits. */
export function fixedNanos(time: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(time);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}Z` : time;
}

function parseLines(text: string): LogEntry[] {
  const out: LogEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try { out.push(JSON.parse(line) as LogEntry); } catch { /* a damaged line is skipped */ }
  }
  return out;
}

/** Read bytes [from, size) of a file (by path, or an open descriptor), cut at the last newline; returns text and the new offset. */
function readFrom(path: string, from: number, open?: number): { text: string; offset: number } {
  if (open === undefined && !existsSync(path)) return { text: '', offset: from };
  const size = open === undefined ? statSync(path).size : fstatSync(open).size;
  if (size <= from) return { text: '', offset: from };
  const buf = Buffer.alloc(size - from);
  const fd = open ?? openSync(path, 'r');
  try { readSync(fd, buf, 0, buf.length, from); } finally { if (open === undefined) closeSync(fd); }
  const end = buf.lastIndexOf(0x0a) + 1;
  return { text: buf.subarray(0, end).toString('utf8'), offset: from + end };
}

/** Call `emit` for each entry of the log at `path` that passes the options (following if asked). */
export async function readLog(path: string, opts: LogOptions, emit: (e: LogEntry) => void): Promise<void> {
  const pass = (e: LogEntry) => {
    const t = entrySeconds(e.time);
    return (opts.since === undefined || t >= opts.since) && (opts.until === undefined || t <= opts.until);
  };
  let { text, offset } = readFrom(path, 0, opts.fd);
  let entries = parseLines(text).filter(pass);
  if (opts.tail !== undefined) entries = opts.tail <= 0 ? [] : entries.slice(-opts.tail);
  entries.forEach(emit);
  if (!opts.follow) return;
  for (;;) {
    // Check "done" before reading: the monitor writes the last line before the exit file, so
    // a read after the container was seen stopped gets everything.
    const finished = opts.done ? await opts.done() : false;
    ({ text, offset } = readFrom(path, offset, opts.fd));
    parseLines(text).filter(pass).forEach(emit);
    if (finished) return;
    if (opts.until !== undefined && Date.now() / 1000 > opts.until) return;
    await pause(100, opts.signal);
    if (opts.signal?.aborted) return;
  }
}
