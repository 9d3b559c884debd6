/**
 * berth: Docker-like commands over Berth's engine, daemonless (each command works on the state on
 * disk). Global flags come before the command: `berth [--data-root DIR] [--root DIR] COMMAND ...`.
 * Errors are one line on stderr (`berth: ...`); a failing `run`/`create` exits 125 as Docker's
 * does when the engine, not the container, failed. A command's module is imported only when it
 * is the one run (commands.ts), so starting berth costs little more than starting Node.
 */
import { resolve } from 'node:path';
import { parseArgs, bool, str, type FlagSpec } from '../args.js';
import type { CommandIO } from '../io.js';
import { callerFromEnv } from '../../engine/caller.js';
import { defaultDataRoot, defaultRuntimeRoot } from '../../engine/store.js';
import { BerthError } from '../../util/errors.js';
import type { BerthContext, Command } from './context.js';
import { COMMAND_TABLE, loadAll, type CommandEntry } from './commands.js';

import { VERSION } from './version.js';

export { VERSION };

const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'data-root', type: 'string', help: 'where containers are kept (default /var/lib/berth, or $BERTH_DATA_ROOT)' },
  { name: 'root', type: 'string', help: 'runtime state directory (default /run/berth/engine, or $BERTH_RUNTIME_ROOT)' },
  { name: 'version', aliases: ['v'], type: 'bool', help: 'print the version' },
  { name: 'help', type: 'bool', help: 'show help' },
];

async function usage(): Promise<string> {
  const lines = ['usage: berth [OPTIONS] COMMAND', '', 'commands:'];
  for (const c of await loadAll()) if (!c.hidden) lines.push(`  ${c.name.padEnd(10)} ${c.summary}`);
  lines.push('', 'global options:');
  for (const f of GLOBAL_FLAGS) lines.push(`  --${f.name.padEnd(12)} ${f.help ?? ''}`);
  return lines.join('\n') + '\n';
}

function commandHelp(c: Command): string {
  const lines = [`usage: berth ${c.usage}`, '', c.summary];
  if (c.flags.length) lines.push('', 'options:');
  for (const f of c.flags) {
    if (f.hidden) continue;
    const short = f.aliases?.find((a) => a.length === 1);
    lines.push(`  ${short ? `-${short}, ` : '    '}--${f.name.padEnd(22)} ${f.help ?? ''}`);
  }
  return lines.join('\n') + '\n';
}

/** Find a command by name, allowing Docker's `container <verb>` forms. */
function findCommand(words: string[]): { entry: CommandEntry; rest: string[] } | undefined {
  const [a, b, ...more] = words;
  if ((a === 'container' || a === 'image' || a === 'system' || a === 'network' || a === 'volume') && b) {
    const entry = COMMAND_TABLE.find((c) => c.aliases?.includes(`${a} ${b}`));
    if (entry) return { entry, rest: more };
  }
  const entry = COMMAND_TABLE.find((c) => c.name === a);
  return entry ? { entry, rest: words.slice(1) } : undefined;
}

/** Returned by main() in the warm server for an invocation that must run cold (Command.warm). */
export const COLD = -1;

/**
 * Run berth with these arguments for the caller `io`; resolves to the exit code, or COLD for an
 * invocation a served caller (`io.served`, the warm server) must run in a process of its own.
 * Everything the command takes from outside comes from `io`: several main() calls may run at
 * once in one process for different callers.
 *
 * @example
 *   process.exitCode = await main(process.argv.slice(2), processIO()); // bin/berth.js
 */
export async function main(argv: string[], io: CommandIO): Promise<number> {
  let failCode = 1;
  try {
    const g = parseArgs(argv, GLOBAL_FLAGS, { stopAtPositional: true });
    if (bool(g, 'version')) {
      io.stdout.write(`berth version ${VERSION}\n`);
      return 0;
    }
    if (!g.positional.length || bool(g, 'help') || g.positional[0] === 'help') {
      io.stdout.write(await usage());
      return g.positional.length || bool(g, 'help') ? 0 : 1;
    }
    const found = findCommand(g.positional);
    if (!found) throw new BerthError('EINVALID_ARG', `unknown command ${JSON.stringify(g.positional[0])}: see berth --help`);
    const { entry, rest } = found;
    const cmd = await entry.load();
    if (cmd.name === 'run' || cmd.name === 'create') failCode = 125;
    const p = parseArgs(rest, [...cmd.flags, { name: 'help', type: 'bool' }], { command: cmd.name, stopAtPositional: cmd.stopAtPositional });
    if (bool(p, 'help')) {
      io.stdout.write(commandHelp(cmd));
      return 0;
    }
    if (io.served && !cmd.warm?.(p)) return COLD;
    const [min, max] = cmd.args;
    if (p.positional.length < min || (max >= 0 && p.positional.length > max)) {
      throw new BerthError('EINVALID_ARG', `"berth ${cmd.name}" requires ${max < 0 ? `at least ${min} argument${min === 1 ? '' : 's'}` : max === 0 ? 'no arguments' : `${min} to ${max} arguments`}: usage: berth ${cmd.usage}`);
    }
    const at = (path: string) => resolve(io.cwd, path);
    // The caller's properties as they are (the cold path's stdout is a getter: taken on first use).
    const ctx: BerthContext = Object.assign(Object.defineProperties({}, Object.getOwnPropertyDescriptors(io)) as CommandIO, {
      paths: { dataRoot: at(str(g, 'data-root') ?? defaultDataRoot(io.env)), runtimeRoot: at(str(g, 'root') ?? defaultRuntimeRoot(io.env)) },
      caller: { ...callerFromEnv(io.env), ...(io.callerPid !== undefined ? { cgroupOf: io.callerPid } : {}) },
      warn: (msg: string) => { io.stderr.write(`WARNING: ${msg}\n`); },
      path: at,
      argv: rest,
    });
    return await cmd.run(ctx, p);
  } catch (err) {
    const msg = err instanceof BerthError ? err.message : `internal error: ${(err as Error)?.stack ?? String(err)}`;
    io.stderr.write(`berth: ${msg}\n`);
    return failCode;
  }
}
