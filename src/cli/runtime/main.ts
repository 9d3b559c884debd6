/**
 * berth-runtime: a runc-compatible OCI runtime. Global flags come before the command, as in
 * runc: `berth-runtime [--root DIR] [--log FILE] [--log-format text|json] [--debug] COMMAND ...`.
 * Errors are printed as one line on stderr and, with --log, logged at level "error" (containerd
 * quotes the last JSON line of the log in its own error).
 */
import { parseArgs, bool, str, type FlagSpec } from '../args.js';
import { DEFAULT_ROOT } from '../../runtime/store.js';
import { BerthError } from '../../util/errors.js';
import { resolve } from 'node:path';
import { earlyLogger } from './early-log.js';
import { makeLogger, type Command, type RuntimeContext } from './context.js';
import type { CommandIO } from '../io.js';
import { COMMAND_TABLE, loadAll } from './commands.js';

export const VERSION = '0.1.0';

const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'debug', type: 'bool', help: 'enable debug logging' },
  { name: 'log', type: 'string', help: 'set the log file to write runtime logs to (default: stderr)' },
  { name: 'log-format', type: 'string', help: 'set the log format (text or json)' },
  { name: 'root', type: 'string', help: `root directory for storage of container state (default: ${DEFAULT_ROOT})` },
  { name: 'criu', type: 'string', hidden: true },
  { name: 'systemd-cgroup', type: 'bool', help: 'not supported: Berth manages cgroups through cgroupfs' },
  { name: 'rootless', type: 'string', help: 'ignore cgroup permission errors (true, false or auto)' },
  { name: 'version', aliases: ['v'], type: 'bool', help: 'print the version' },
  { name: 'help', aliases: ['h'], type: 'bool', help: 'show help' },
];

async function usage(): Promise<string> {
  const lines = ['usage: berth-runtime [global options] command [command options] [arguments...]', '', 'commands:'];
  for (const c of await loadAll()) lines.push(`   ${c.name.padEnd(10)} ${c.summary}`);
  lines.push('', 'global options:');
  for (const f of GLOBAL_FLAGS) if (!f.hidden) lines.push(`   --${f.name.padEnd(16)} ${f.help ?? ''}`);
  return lines.join('\n') + '\n';
}

function commandHelp(c: Command): string {
  const lines = [`usage: berth-runtime ${c.usage}`, '', c.summary];
  if (c.flags.length) lines.push('', 'options:');
  for (const f of c.flags) if (!f.hidden) lines.push(`   --${f.name.padEnd(20)} ${f.help ?? ''}`);
  return lines.join('\n') + '\n';
}

/** What `main` returns in the runtime server for a command that must run cold (Command.coldOnly). */
export const COLD = -1;

/**
 * Run berth-runtime with these arguments for the caller `io`; resolves to the exit code. `io` is
 * this process's own in bin/berth-runtime.js (processIO), a client's in the runtime server
 * (src/server/), where the result may also be COLD (`io.served`).
 *
 * @example
 *   const code = await main(['--root', '/run/x', 'state', 'c1'], processIO());
 */
export async function main(argv: string[], io: CommandIO): Promise<number> {
  const noLog: RuntimeContext['log'] = () => {};
  let log = noLog;
  const at = (p: string) => resolve(io.cwd, p);
  const out = (text: string) => { io.stdout.write(text); };
  const errOut = (text: string) => { io.stderr.write(text); };
  try {
    const g = parseArgs(argv, GLOBAL_FLAGS, { stopAtPositional: true });
    const format = str(g, 'log-format') ?? 'text';
    if (format !== 'text' && format !== 'json') {
      throw new BerthError('EINVALID_ARG', `invalid log-format ${JSON.stringify(format)}: use text or json`);
    }
    const logFile = str(g, 'log');
    log = makeLogger(logFile === undefined ? undefined : at(logFile), format, bool(g, 'debug'), errOut, io.umask);
    if (bool(g, 'version')) {
      out(`berth-runtime version ${VERSION}\nspec: 1.2.0\n`);
      return 0;
    }
    const [name, ...rest] = g.positional;
    if (!name || bool(g, 'help') || name === 'help') {
      out(await usage());
      return name || bool(g, 'help') ? 0 : 1;
    }
    if (bool(g, 'systemd-cgroup')) {
      throw new BerthError('EUNSUPPORTED', '--systemd-cgroup is not supported: Berth manages cgroups through cgroupfs');
    }
    const entry = COMMAND_TABLE.find((c) => c.name === name);
    if (!entry) throw new BerthError('EINVALID_ARG', `no such command ${JSON.stringify(name)}: see berth-runtime --help`);
    const cmd = await entry.load();
    const helpFlag: FlagSpec = { name: 'help', aliases: ['h'], type: 'bool' };
    const p = parseArgs(rest, [...cmd.flags, helpFlag], {
      command: cmd.name, stopAtPositional: cmd.name === 'exec' || cmd.name === 'kill',
    });
    if (bool(p, 'help')) {
      out(commandHelp(cmd));
      return 0;
    }
    // exec and kill stop at the id; flags may still follow it for exec's own options.
    if (cmd.name === 'exec' || cmd.name === 'kill') {
      const [id, ...more] = p.positional;
      const again = parseArgs(more, [...cmd.flags, helpFlag], { command: cmd.name, stopAtPositional: true });
      p.positional = [id!, ...again.positional].filter((x) => x !== undefined);
      Object.assign(p.flags, again.flags);
    }
    const [min, max] = cmd.args;
    if (p.positional.length < min || (max >= 0 && p.positional.length > max)) {
      const what = min === 1 && max === 1 ? 'exactly 1 argument' : max < 0 ? `at least ${min} argument(s)` : `${min}..${max} arguments`;
      throw new BerthError('EINVALID_ARG', `${cmd.name}: "berth-runtime ${cmd.usage}" requires ${what}`);
    }
    const ctx: RuntimeContext = {
      ...io,
      root: at(str(g, 'root') ?? DEFAULT_ROOT),
      debug: bool(g, 'debug'),
      path: at,
      out,
      err: errOut,
      log,
      warn: (msg) => { log('warning', msg); errOut(`warning: ${msg}\n`); },
    };
    if (io.served && cmd.coldOnly?.(p, ctx)) return COLD;
    log('debug', `${cmd.name} ${rest.join(' ')}`);
    return await cmd.run(ctx, p);
  } catch (err) {
    const msg = err instanceof BerthError ? err.message : `internal error: ${(err as Error)?.stack ?? String(err)}`;
    // The global flags themselves may be what failed: find --log by hand (early-log.ts).
    if (log === noLog) log = earlyLogger(argv, at, errOut, io.umask) ?? noLog;
    log('error', msg);
    errOut(`berth-runtime: ${msg}\n`);
    return 1;
  }
}
