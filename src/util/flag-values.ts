/**
 * Parsed flag values and the one way they are read: as a string, a boolean, a number or a list.
 * Both command lines (cli/args.ts parses into this shape) and the engine's `docker run` flags
 * (engine/flags.ts, which any front end may call with flag-like values) read them through these.
 * A value of another type than the one asked for reads as absent.
 */
import { BerthError } from './errors.js';

/** Flag values keyed by long flag name (`memory`, `cpu-shares`, `env` …). */
export type FlagValues = Record<string, string | boolean | number | string[] | undefined>;

/** Anything holding parsed flags (cli/args.ts `Parsed`). */
export interface Flags {
  flags: FlagValues;
}

/** A string flag's value, or undefined. */
export function str(p: Flags, name: string): string | undefined {
  const v = p.flags[name];
  return typeof v === 'string' ? v : undefined;
}

/** A boolean flag's value; `fallback` (default false) when it was not given. */
export function bool(p: Flags, name: string, fallback = false): boolean {
  const v = p.flags[name];
  return typeof v === 'boolean' ? v : fallback;
}

/** An int flag's value, or undefined. */
export function int(p: Flags, name: string): number | undefined {
  const v = p.flags[name];
  return typeof v === 'number' ? v : undefined;
}

/** A repeatable flag's values, in order (empty when not given). */
export function list(p: Flags, name: string): string[] {
  const v = p.flags[name];
  return Array.isArray(v) ? v : [];
}

/**
 * A string flag read as an integer (runc's update flags, whose values are passed on as typed):
 * undefined when not given, an error naming the flag and the value when not an integer.
 */
export function intText(p: Flags, name: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw new BerthError('EINVALID_ARG', `invalid value ${JSON.stringify(v)} for --${name}: must be an integer`);
  return Number(v);
}
