/**
 * Field readers for config.json validation (private to src/oci/validate*.ts).
 *
 * Each reader takes the parent object, the key and the parent's path, and either returns the
 * typed value or throws EINVALID_CONFIG naming the full field path, the value found, and what is
 * valid: `config.json: process.user.uid "0" must be an integer from 0 to 4294967295`.
 * JSON `null` counts as absent, as it does for runc's Go decoder.
 */
import { invalidConfig, type BerthError } from '../util/errors.js';

/** A JSON object from config.json. */
export type Obj = Record<string, unknown>;

export const U32_MAX = 0xffff_ffff;
export const I64_MIN = -(2 ** 63);
export const I64_MAX = 2 ** 63 - 1;
/** 2^64-1 as a double is 2^64; a config's RLIM_INFINITY or "-1 as uint64" arrives that way. */
export const U64_MAX = 2 ** 64;

/** The value as it would appear in config.json, shortened for a one-line message. */
export function show(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** `config.json: <path> <value> <problem>`. */
export function bad(path: string, value: unknown, problem: string): BerthError {
  return invalidConfig(path, `${show(value)} ${problem}`);
}

/** `config.json: <path> is required`. */
export function missing(path: string, hint = ''): BerthError {
  return invalidConfig(path, hint ? `is required ${hint}` : 'is required');
}

/** The path of a child: `join('process', 'cwd')` → "process.cwd", `join('mounts', 2)` → "mounts[2]". */
export function join(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}

/** The own property `key` of `o`, with null turned into undefined. */
export function get(o: Obj, key: string): unknown {
  if (!Object.prototype.hasOwnProperty.call(o, key)) return undefined;
  const v = o[key];
  return v === null ? undefined : v;
}

/** True for a JSON object (not an array, not null). */
export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v` as an object, or throw naming `path`. */
export function asObj(v: unknown, path: string): Obj {
  if (!isObj(v)) throw bad(path, v, 'must be an object');
  return v;
}

/** An optional object field. */
export function optObj(o: Obj, key: string, parent: string): Obj | undefined {
  const v = get(o, key);
  return v === undefined ? undefined : asObj(v, join(parent, key));
}

/** An optional array field. */
export function optArr(o: Obj, key: string, parent: string): unknown[] | undefined {
  const v = get(o, key);
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw bad(join(parent, key), v, 'must be an array');
  return v;
}

/** An optional array of objects; each element is checked. */
export function optObjArr(o: Obj, key: string, parent: string): Obj[] | undefined {
  const a = optArr(o, key, parent);
  return a?.map((e, i) => asObj(e, join(join(parent, key), i)));
}

/** A string value, or throw naming `path`. */
export function asStr(v: unknown, path: string): string {
  if (typeof v !== 'string') throw bad(path, v, 'must be a string');
  if (v.includes('\0')) throw bad(path, v, 'must not contain a NUL byte');
  return v;
}

/** An optional string field. */
export function optStr(o: Obj, key: string, parent: string): string | undefined {
  const v = get(o, key);
  return v === undefined ? undefined : asStr(v, join(parent, key));
}

/** A required string field. */
export function reqStr(o: Obj, key: string, parent: string): string {
  const v = get(o, key);
  if (v === undefined) throw missing(join(parent, key));
  return asStr(v, join(parent, key));
}

/** An optional array of strings. */
export function optStrArr(o: Obj, key: string, parent: string): string[] | undefined {
  const a = optArr(o, key, parent);
  return a?.map((e, i) => asStr(e, join(join(parent, key), i)));
}

/** An optional boolean field. */
export function optBool(o: Obj, key: string, parent: string): boolean | undefined {
  const v = get(o, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw bad(join(parent, key), v, 'must be true or false');
  return v;
}

/** An integer within [min, max], or throw with the range in the message. */
export function asInt(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw bad(path, v, rangeText(min, max));
  }
  return v;
}

/** The "must be …" phrase for an integer range, using words for the 64-bit bounds. */
function rangeText(min: number, max: number): string {
  if (min === 0 && max >= U64_MAX) return 'must be a non-negative integer';
  if (min <= I64_MIN && max >= I64_MAX) return 'must be an integer';
  if (max >= I64_MAX) return `must be an integer of at least ${min}`;
  return `must be an integer from ${min} to ${max}`;
}

/** An optional integer field within [min, max]. */
export function optInt(o: Obj, key: string, parent: string, min: number, max: number): number | undefined {
  const v = get(o, key);
  return v === undefined ? undefined : asInt(v, join(parent, key), min, max);
}

/** A required integer field within [min, max]. */
export function reqInt(o: Obj, key: string, parent: string, min: number, max: number): number {
  const v = get(o, key);
  if (v === undefined) throw missing(join(parent, key));
  return asInt(v, join(parent, key), min, max);
}

/** `s` must be one of `allowed`: `"pidd" is not one of pid, network, …`. */
export function oneOf(s: string, path: string, allowed: readonly string[]): string {
  if (!allowed.includes(s)) throw bad(path, s, `is not one of ${allowed.join(', ')}`);
  return s;
}

/** `s` must be an absolute path. */
export function absolute(s: string, path: string): string {
  if (!s.startsWith('/')) throw bad(path, s, 'must be an absolute path');
  return s;
}

/**
 * A cpu or memory-node list in the kernel's cpuset syntax ("0-2,4"); the empty string means unset.
 * Ranges must run upwards ("3-1" is rejected, as the kernel does).
 */
export function cpuList(s: string, path: string): string {
  if (s === '') return s;
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m || (m[2] !== undefined && Number(m[2]) < Number(m[1]))) {
      throw bad(path, s, 'is not a cpu list like "0-2,4"');
    }
  }
  return s;
}
