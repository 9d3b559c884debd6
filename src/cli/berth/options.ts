/**
 * Option values several commands parse alike: KEY=VALUE lists (--label, --opt), --filter
 * KEY=VALUE maps, `label=` prune filters, and Docker's "Are you sure?" prompt of the prune commands.
 */
import { createInterface } from 'node:readline/promises';
import { BerthError } from '../../util/errors.js';
import type { BerthContext } from './context.js';

/** KEY=VALUE list → object; with `requireKey`, a value without KEY= is an error naming `flag`. */
export function keyValues(items: string[], flag: string, requireKey = false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of items) {
    const eq = kv.indexOf('=');
    if (requireKey && eq <= 0) throw new BerthError('EINVALID_ARG', `invalid ${flag} ${JSON.stringify(kv)}: use KEY=VALUE`);
    out[eq < 0 ? kv : kv.slice(0, eq)] = eq < 0 ? '' : kv.slice(eq + 1);
  }
  return out;
}

/** --filter KEY=VALUE… → Docker's filter map, keys checked against `allowed`. */
export function filterMap(items: string[], allowed: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const f of items) {
    const eq = f.indexOf('=');
    const key = f.slice(0, eq);
    if (eq <= 0 || !allowed.includes(key)) throw new BerthError('EINVALID_ARG', `invalid --filter ${JSON.stringify(f)}: use KEY=VALUE, with KEY one of ${allowed.join(', ')}`);
    (out[key] ??= []).push(f.slice(eq + 1));
  }
  return out;
}

/** A prune's `--filter label=KEY[=VALUE]` values → the label filters. */
export function labelFilters(items: string[]): string[] {
  return items.map((f) => {
    if (!/^label=[^=]/.test(f)) throw new BerthError('EINVALID_ARG', `invalid --filter ${JSON.stringify(f)}: use label=KEY or label=KEY=VALUE`);
    return f.slice('label='.length);
  });
}

/** Docker's prune prompt: `warning`, then "Are you sure you want to continue? [y/N]"; true for yes. */
export async function confirm(ctx: BerthContext, warning: string): Promise<boolean> {
  const rl = createInterface({ input: ctx.stdin.stream(), output: ctx.stdout });
  const answer = await rl.question(`WARNING! ${warning}\nAre you sure you want to continue? [y/N] `);
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}
