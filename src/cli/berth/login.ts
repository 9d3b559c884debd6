/**
 * `berth login [-u USER] [-p PASSWORD | --password-stdin] [SERVER]` and `berth logout [SERVER]`:
 * check credentials against a registry (anonymous, basic or token auth, as the registry asks)
 * and store them like Docker's config.json (image/registry/credentials.ts). SERVER defaults to
 * Docker Hub; a URL is reduced to its host[:port].
 */
import { bool, str } from '../args.js';
import { login as loginRegistry, logout as logoutRegistry } from '../../image/index.js';
import { BerthError } from '../../util/errors.js';
import type { Command } from './context.js';
import { imageOptions } from './image-output.js';

/** "https://127.0.0.1:5000/v2/" -> "127.0.0.1:5000"; Docker Hub's names -> "docker.io". */
export function registryHost(server: string | undefined): string {
  if (!server) return 'docker.io';
  const host = server.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
  return ['index.docker.io', 'registry-1.docker.io', 'docker.io'].includes(host) ? 'docker.io' : host;
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const c of stdin) text += (c as Buffer).toString();
  return text.replace(/\r?\n$/, '');
}

export const login: Command = {
  name: 'login',
  usage: 'login [OPTIONS] [SERVER]',
  summary: 'log in to a registry',
  flags: [
    { name: 'username', aliases: ['u'], type: 'string', help: 'username' },
    { name: 'password', aliases: ['p'], type: 'string', help: 'password' },
    { name: 'password-stdin', type: 'bool', help: 'take the password from stdin' },
  ],
  args: [0, 1],
  async run(ctx, p) {
    const server = registryHost(p.positional[0]);
    const username = str(p, 'username');
    if (!username) throw new BerthError('EINVALID_ARG', 'login needs a username: use -u USER (berth does not prompt)');
    let password = str(p, 'password');
    if (bool(p, 'password-stdin')) {
      if (password !== undefined) throw new BerthError('EINVALID_ARG', '--password and --password-stdin are mutually exclusive');
      password = await readStdin(ctx.stdin.stream());
    } else if (password !== undefined) {
      ctx.warn('using --password via the CLI is insecure: use --password-stdin');
    }
    if (!password) throw new BerthError('EINVALID_ARG', 'login needs a password: use --password-stdin or -p');
    await loginRegistry(server, username, password, imageOptions(ctx));
    ctx.stdout.write('Login Succeeded\n');
    return 0;
  },
};

export const logout: Command = {
  name: 'logout',
  usage: 'logout [SERVER]',
  summary: 'log out from a registry',
  warm: () => true,
  flags: [],
  args: [0, 1],
  async run(ctx, p) {
    const server = registryHost(p.positional[0]);
    if (await logoutRegistry(server, imageOptions(ctx))) ctx.stdout.write(`Removing login credentials for ${server}\n`);
    else ctx.stdout.write(`Not logged in to ${server}\n`);
    return 0;
  },
};
