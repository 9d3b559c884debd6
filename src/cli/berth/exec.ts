/**
 * `berth exec [-i] [-d] [-e K=V] [-u USER] [-w DIR] CONTAINER COMMAND [ARG...]`: run a command
 * in a running container; exits with its code (126/127 when it cannot be run, like Docker).
 */
import { bool, list, str } from '../args.js';
import { findContainer } from '../../engine/containers.js';
import { execEngine } from '../../engine/exec.js';
import { readEnvFile } from '../../engine/flags.js';
import { startFailureCode } from '../../engine/launch.js';
import { BerthError } from '../../util/errors.js';
import { containerStdio } from '../io.js';
import type { Command } from './context.js';

export const exec: Command = {
  name: 'exec',
  aliases: ['container exec'],
  usage: 'exec [OPTIONS] CONTAINER COMMAND [ARG...]',
  summary: 'execute a command in a running container',
  // In the warm server the client becomes the helper, so the process gets the caller's own
  // stdio (and terminal, with -t); -d would hand it the caller's stdout, which docker discards.
  warm: (p) => !bool(p, 'detach'),
  flags: [
    { name: 'interactive', aliases: ['i'], type: 'bool', help: 'keep stdin open' },
    { name: 'tty', aliases: ['t'], type: 'bool', help: 'allocate a pseudo-tty' },
    { name: 'detach', aliases: ['d'], type: 'bool', help: 'detached mode: run command in the background' },
    { name: 'env', aliases: ['e'], type: 'list', help: 'set environment variables' },
    { name: 'env-file', type: 'list', help: 'read in a file of environment variables' },
    { name: 'user', aliases: ['u'], type: 'string', help: 'username or uid (format: name|uid[:group|gid])' },
    { name: 'workdir', aliases: ['w'], type: 'string', help: 'working directory inside the container' },
    { name: 'privileged', type: 'bool', help: 'give extended privileges to the command (not supported yet)' },
  ],
  args: [2, -1],
  stopAtPositional: true,
  async run(ctx, p) {
    if (bool(p, 'tty') && bool(p, 'detach')) throw new BerthError('EUNSUPPORTED', '-t with -d is not supported by exec yet');
    if (bool(p, 'privileged')) throw new BerthError('EUNSUPPORTED', '--privileged is not supported by exec yet');
    const [ref, ...cmd] = p.positional;
    const rec = await findContainer(ctx.paths, ref!);
    const env = [...list(p, 'env-file').flatMap((f) => readEnvFile(ctx.path(f), ctx.env, f)), ...list(p, 'env').map((e) => (e.includes('=') ? e : `${e}=${ctx.env[e] ?? ''}`))];
    const detach = bool(p, 'detach');
    try {
      return await execEngine(ctx.paths, rec, {
        cmd, env, user: str(p, 'user'), workdir: str(p, 'workdir'), detach, tty: bool(p, 'tty'),
        stdio: containerStdio(ctx, [(bool(p, 'interactive') || bool(p, 'tty')) && !detach, !detach, !detach]),
        launch: ctx.launch, consoleSize: ctx.stdout.columns ? { rows: ctx.stdout.rows ?? 0, columns: ctx.stdout.columns } : undefined,
      });
    } catch (err) {
      if (!(err instanceof BerthError) || err.code !== 'EHELPER') throw err;
      ctx.stderr.write(`berth: exec failed: ${err.message}\n`);
      return startFailureCode(err);
    }
  },
};
