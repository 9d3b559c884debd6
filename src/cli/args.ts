/**
 * A small command-line parser with the conventions of runc's (urfave/cli) and Docker's:
 * `--flag value`, `--flag=value`, `-flag value` (single dash long names, as urfave/cli accepts),
 * short aliases (`-d`), boolean flags that take `=false`, repeatable flags, and `--` to end
 * flags. Parsing stops at the first positional argument when `stopAtPositional` is set (the
 * command name after global flags, or the container's command after `exec ID`).
 */
import { BerthError } from '../util/errors.js';
import type { FlagValues } from '../util/flag-values.js';

export interface FlagSpec {
  /** Long name without dashes. */
  name: string;
  /** Other names: single letters or other long names. */
  aliases?: string[];
  type: 'bool' | 'string' | 'int' | 'list';
  /** Hidden flags are accepted but not listed in help. */
  hidden?: boolean;
  help?: string;
}

export interface Parsed {
  flags: FlagValues;
  positional: string[];
}

/** Parse `argv` against `specs`. Unknown flags are errors naming the flag. */
export function parseArgs(argv: string[], specs: FlagSpec[], opts: { stopAtPositional?: boolean; command?: string } = {}): Parsed {
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) {
    byName.set(s.name, s);
    for (const a of s.aliases ?? []) byName.set(a, s);
  }
  const flags: Parsed['flags'] = {};
  const positional: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') { i++; break; }
    if (!arg.startsWith('-') || arg === '-') {
      if (opts.stopAtPositional) break;
      positional.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    let spec = byName.get(name);
    // Combined short booleans, e.g. `-it`.
    if (!spec && !arg.startsWith('--') && name.length > 1 && eq < 0 && [...name].every((ch) => byName.get(ch)?.type === 'bool')) {
      for (const ch of name) flags[byName.get(ch)!.name] = true;
      continue;
    }
    if (!spec) {
      const where = opts.command ? ` for ${opts.command}` : '';
      throw new BerthError('EINVALID_ARG', `unknown flag ${arg}${where}`);
    }
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (spec.type === 'bool') {
      if (value === undefined) { flags[spec.name] = true; continue; }
      if (value !== 'true' && value !== 'false') {
        throw new BerthError('EINVALID_ARG', `invalid value ${JSON.stringify(value)} for flag --${spec.name}: use true or false`);
      }
      flags[spec.name] = value === 'true';
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new BerthError('EINVALID_ARG', `flag --${spec.name} needs a value`);
      value = argv[++i]!;
    }
    if (spec.type === 'int') {
      if (!/^-?\d+$/.test(value)) {
        throw new BerthError('EINVALID_ARG', `invalid value ${JSON.stringify(value)} for flag --${spec.name}: must be an integer`);
      }
      flags[spec.name] = Number(value);
    } else if (spec.type === 'list') {
      const prev = flags[spec.name];
      flags[spec.name] = [...(Array.isArray(prev) ? prev : []), value];
    } else {
      flags[spec.name] = value;
    }
  }
  positional.push(...argv.slice(i));
  return { flags, positional };
}

/** Typed accessors for parsed flags (one implementation, shared with the engine's flags). */
export { bool, int, list, str } from '../util/flag-values.js';
