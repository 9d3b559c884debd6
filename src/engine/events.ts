/**
 * The engine's event log. With no daemon to hold events in memory, every command that changes a
 * container appends a line to `<data-root>/events.log` (one JSON object per line, in the shape of
 * Docker's `GET /events` messages); `berth events` reads it back, filters it and follows it. A
 * line is written with one append(2) on an O_APPEND file, so writers in several processes (the
 * CLI, a detached container's cleanup) never interleave inside a line.
 */
import { appendFileSync, closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EnginePaths, EngineRecord } from './store.js';

/** Docker's event message (type `container`). */
export interface EngineEvent {
  status: string;
  id: string;
  from: string;
  Type: 'container';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  /** Seconds since the epoch. */
  time: number;
  timeNano: number;
}

/** The actions Berth records. */
export type EventAction = 'create' | 'start' | 'die' | 'oom' | 'kill' | 'stop' | 'pause' | 'unpause' | 'destroy' | 'rename' | 'exec_create' | 'exec_start' | 'update' | 'restart';

/** Where the event log lives. */
export function eventsPath(paths: EnginePaths): string {
  return join(paths.dataRoot, 'events.log');
}

/** Record an event about a container; `extra` adds attributes (exitCode, signal, oldName). */
export function appendEvent(paths: EnginePaths, rec: Pick<EngineRecord, 'Id' | 'Name' | 'Config'>, action: EventAction, extra: Record<string, string> = {}): void {
  const ns = BigInt(Date.now()) * 1_000_000n + process.hrtime.bigint() % 1_000_000n;
  const image = rec.Config.Image || 'rootfs';
  const ev: EngineEvent = {
    status: action, id: rec.Id, from: image, Type: 'container', Action: action,
    Actor: { ID: rec.Id, Attributes: { image, name: rec.Name, ...extra } },
    scope: 'local', time: Number(ns / 1_000_000_000n), timeNano: Number(ns),
  };
  try {
    appendFileSync(eventsPath(paths), `${JSON.stringify(ev)}\n`);
  } catch { /* events are informative: a read-only or full data root must not fail the command */ }
}

/** Filters of `berth events --filter`: container (id, prefix or name), event, type, label-less. */
export interface EventFilter {
  since?: number;
  until?: number;
  container?: string[];
  event?: string[];
  type?: string[];
}

/** Does `ev` pass the filter? (Several values of one key are ORed, different keys ANDed.) */
export function eventMatches(ev: EngineEvent, f: EventFilter): boolean {
  const t = ev.timeNano / 1e9;
  if (f.since !== undefined && t < f.since) return false;
  if (f.until !== undefined && t > f.until) return false;
  if (f.type?.length && !f.type.includes(ev.Type)) return false;
  if (f.event?.length && !f.event.includes(ev.Action)) return false;
  if (f.container?.length && !f.container.some((c) => ev.id.startsWith(c) || ev.Actor.Attributes.name === c)) return false;
  return true;
}

/**
 * Read the events from byte `offset` on; returns them and the offset after the last whole line
 * (a line still being written is left for the next read).
 */
export function readEvents(paths: EnginePaths, offset = 0): { events: EngineEvent[]; offset: number } {
  const file = eventsPath(paths);
  if (!existsSync(file)) return { events: [], offset };
  const size = statSync(file).size;
  if (size <= offset) return { events: [], offset: size < offset ? 0 : offset };
  const buf = Buffer.alloc(size - offset);
  const fd = openSync(file, 'r');
  try { readSync(fd, buf, 0, buf.length, offset); } finally { closeSync(fd); }
  const text = buf.toString('utf8');
  const end = text.lastIndexOf('\n') + 1;
  const events: EngineEvent[] = [];
  for (const line of text.slice(0, end).split('\n')) {
    if (!line) continue;
    try { events.push(JSON.parse(line) as EngineEvent); } catch { /* a damaged line is skipped */ }
  }
  return { events, offset: offset + Buffer.byteLength(text.slice(0, end)) };
}

/** Docker's text form: `2026-11-29T02:10:40.123456789Z container die ID (exitCode=0, image=host, name=x)`. */
export function formatEvent(ev: EngineEvent): string {
  const iso = new Date(Math.floor(ev.timeNano / 1e6)).toISOString().replace(/\.\d+Z$/, '');
  const nanos = String(ev.timeNano % 1e9).padStart(9, '0');
  const attrs = Object.entries(ev.Actor.Attributes).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(', ');
  return `${iso}.${nanos}Z ${ev.Type} ${ev.Action} ${ev.id} (${attrs})`;
}
