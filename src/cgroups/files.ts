/**
 * Tiny synchronous helpers for cgroup pseudo-files and the parsers for their formats.
 * Reads return undefined for a missing file (a missing feature, not an error); writes wrap the
 * kernel's errno in an ECGROUP error that names the file and the value, as runc does.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, errnoCode } from '../util/errors.js';

/** Values at or above this are the kernel's "unlimited" (PAGE_COUNTER_MAX × page size ≈ 2^63). */
const UNLIMITED_THRESHOLD = 2 ** 62;

/** Reads dir/file, or undefined when it does not exist. */
export function readOpt(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENODEV' || code === 'EOPNOTSUPP' || code === 'ENOTDIR') return undefined;
    throw new BerthError('ECGROUP', `cannot read ${join(dir, file)}: ${code ?? String(err)}`, { cause: err });
  }
}

/** Whether dir/file exists. */
export function hasFile(dir: string, file: string): boolean {
  return existsSync(join(dir, file));
}

/**
 * Writes one value to dir/file in a single write(2), which is how the kernel wants cgroup files
 * written (each write is parsed as one command). Throws ECGROUP naming the file, value and errno.
 */
export function writeValue(dir: string, file: string, value: string | number): void {
  const text = String(value);
  try {
    writeFileSync(join(dir, file), text);
  } catch (err) {
    const code = errnoCode(err) ?? String(err);
    throw new BerthError('ECGROUP', `cannot write ${JSON.stringify(text)} to ${join(dir, file)}: ${code}`, { cause: err });
  }
}

/** Parses a single-number file; "max" and ≥ 2^62 give Infinity. undefined if absent/unparsable. */
export function parseNumber(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t === 'max') return Infinity;
  if (!/^-?\d+$/.test(t)) return undefined;
  const n = Number(t);
  return n >= UNLIMITED_THRESHOLD ? Infinity : n;
}

/** Reads a single-number file (see parseNumber). */
export function readNumber(dir: string, file: string): number | undefined {
  return parseNumber(readOpt(dir, file));
}

/** Infinity → undefined (how stats report "unlimited"). */
export function finite(n: number | undefined): number | undefined {
  return n === undefined || !Number.isFinite(n) ? undefined : n;
}

/**
 * Parses a flat-keyed file ("key value" per line: memory.stat, cpu.stat, memory.events,
 * memory.oom_control, cpuacct.stat). Every key is kept, known or not. Numbers stay as the kernel
 * wrote them: these maps are printed as stats `raw` (JSON), where the unlimited mapping of
 * parseNumber would turn v1's hierarchical_memory_limit 9223372036854771712 into null.
 */
export function parseFlatKeyed(text: string | undefined): Record<string, number> | undefined {
  if (text === undefined) return undefined;
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(\S+)\s*$/.exec(line);
    if (!m) continue;
    const v = m[2] === 'max' ? Infinity : /^-?\d+$/.test(m[2]!) ? Number(m[2]) : undefined;
    if (v !== undefined) out[m[1]!] = v;
  }
  return out;
}

/**
 * Parses a nested-keyed file ("8:0 rbytes=1 wbytes=2 ..." per line: io.stat, io.max, rdma.max)
 * into key → (subkey → number or string).
 */
export function parseNestedKeyed(text: string | undefined): Record<string, Record<string, number | string>> | undefined {
  if (text === undefined) return undefined;
  const out: Record<string, Record<string, number | string>> = {};
  for (const line of text.split('\n')) {
    const [key, ...pairs] = line.trim().split(/\s+/);
    if (!key) continue;
    const entry: Record<string, number | string> = {};
    for (const pair of pairs) {
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const raw = pair.slice(eq + 1);
      entry[pair.slice(0, eq)] = parseNumber(raw) ?? raw;
    }
    out[key] = entry;
  }
  return out;
}

/** Parses a space-separated list of numbers (cpuacct.usage_percpu). */
export function parseNumberList(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  return text.trim().split(/\s+/).filter((s) => s !== '').map(Number).filter((n) => Number.isFinite(n));
}

/** Parses the pids of cgroup.procs. */
export function parsePids(text: string | undefined): number[] {
  if (text === undefined) return [];
  return text.split('\n').filter((l) => /^\d+$/.test(l.trim())).map((l) => Number(l));
}
