/**
 * berth: Docker-like commands over Berth's engine, daemonless (each command works on the state on
 * disk). Global flags come before the command: `berth [--data-root DIR] [--root DIR] COMMAND ...`.
 * Errors are one line on stderr (`berth: ...`); a failing `run`/`create` exits 125 as Docker's
 * does when the engine, not the container, failed.
 */
import { parseArgs, bool, str, type FlagSpec } from '../args.js';
import { defaultDataRoot, defaultRuntimeRoot } from '../../engine/store.js';
import { BerthError } from '../../util/errors.js';
import type { BerthContext, Command } from './context.js';
import { run, rawArgv } from './run.js';
import { create } from './create.js';
import { start } from './start.js';
import { kill } from './kill.js';
import { rm } from './rm.js';
import { ps } from './ps.js';
import { inspect } from './inspect.js';
import { monitor } from './monitor.js';
import { stop } from './stop.js';
import { logs } from './logs.js';
import { wait } from './wait.js';
import { exec } from './exec.js';
import { attach } from './attach.js';
import { update } from './update.js';
import { pause, unpause } from './pause.js';
import { stats, top } from './stats.js';
import { events } from './events.js';
import { rename, port } from './rename.js';
import { prune } from './prune.js';
import { system } from './system.js';
import { IMAGE_COMMANDS } from './image-commands.js';

export const VERSION = '0.1.0';
const COMMANDS: Command[] = [run, create, start, stop, kill, rm, ps, inspect, logs, wait, exec, attach, update, pause, unpause,
  top, stats, events, rename, port, prune, system, monitor, ...IMAGE_COMMANDS];

const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'data-root', type: 'string', help: 'where containers are kept (default /var/lib/berth, or $BERTH_DATA_ROOT)' },
  { name: 'root', type: 'string', help: 'runtime state directory (default /run/berth/engine, or $BERTH_RUNTIME_ROOT)' },
  { name: 'version', aliases: ['v'], type: 'bool', help: 'print the version' },
  { name: 'help', type: 'bool', help: 'show help' },
];

function usage(): string {
  const lines = ['usage: berth [OPTIONS] COMMAND', '', 'commands:'];
  for (const c of COMMANDS) if (!c.hidden) lines.push(`  ${c.name.padEnd(10)} ${c.summary}`);
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
function findCommand(words: string[]): { cmd: Command; rest: string[] } | undefined {
  const [a, b, ...more] = words;
  if ((a === 'container' || a === 'image' || a === 'system') && b) {
    const cmd = COMMANDS.find((c) => c.aliases?.includes(`${a} ${b}`));
    if (cmd) return { cmd, rest: more };
  }
  const cmd = COMMANDS.find((c) => c.name === a);
  return cmd ? { cmd, rest: words.slice(1) } : undefined;
}

/** Run berth with these arguments; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let failCode = 1;
  try {
    const g = parseArgs(argv, GLOBAL_FLAGS, { stopAtPositional: true });
    if (bool(g, 'version')) {
      process.stdout.write(`berth version ${VERSION}\n`);
      return 0;
    }
    if (!g.positional.length || bool(g, 'help') || g.positional[0] === 'help') {
      process.stdout.write(usage());
      return g.positional.length || bool(g, 'help') ? 0 : 1;
    }
    const found = findCommand(g.positional);
    if (!found) throw new BerthError('EINVALID_ARG', `unknown command ${JSON.stringify(g.positional[0])}: see berth --help`);
    const { cmd, rest } = found;
    if (cmd.name === 'run' || cmd.name === 'create') failCode = 125;
    const p = parseArgs(rest, [...cmd.flags, { name: 'help', type: 'bool' }], { command: cmd.name, stopAtPositional: cmd.stopAtPositional });
    if (bool(p, 'help')) {
      process.stdout.write(commandHelp(cmd));
      return 0;
    }
    const [min, max] = cmd.args;
    if (p.positional.length < min || (max >= 0 && p.positional.length > max)) {
      throw new BerthError('EINVALID_ARG', `"berth ${cmd.name}" requires ${max < 0 ? `at least ${min} argument${min === 1 ? '' : 's'}` : max === 0 ? 'no arguments' : `${min} to ${max} arguments`}: usage: berth ${cmd.usage}`);
    }
    rawArgv.value = rest;
    const ctx: BerthContext = {
      paths: { dataRoot: str(g, 'data-root') ?? defaultDataRoot(), runtimeRoot: str(g, 'root') ?? defaultRuntimeRoot() },
      warn: (msg) => process.stderr.write(`WARNING: ${msg}\n`),
    };
    return await cmd.run(ctx, p);
  } catch (err) {
    const msg = err instanceof BerthError ? err.message : `internal error: ${(err as Error)?.stack ?? String(err)}`;
    process.stderr.write(`berth: ${msg}\n`);
    return failCode;
  }
}
