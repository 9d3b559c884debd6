/**
 * `berth system service [--host unix:///run/berth/docker.sock | --host tcp://HOST:PORT --tlsverify
 * --tlscacert CA --tlscert CERT --tlskey KEY] [--time SECS] [--group NAME]`: serve Docker's Engine
 * API (src/api/) until SECS pass without a request (0: never; Podman's default, 5, otherwise),
 * or until SIGINT/SIGTERM. TCP only with TLS and client certificates (dockerd's --tlsverify):
 * the API is root on this host. docs/engine-api.md says what it serves.
 */
import { readFileSync } from 'node:fs';
import { bool, str } from '../args.js';
import { startApiServer } from '../../api/server.js';
import { BerthError } from '../../util/errors.js';
import type { Command } from './context.js';
import { VERSION } from './version.js';

/** Where the socket goes by default (Docker's is /run/docker.sock). */
export const DEFAULT_API_SOCKET = '/run/berth/docker.sock';

export const systemService: Command = {
  name: 'system service',
  aliases: ['system service'],
  usage: 'system service [OPTIONS]',
  summary: 'serve Docker\'s Engine API on a unix socket (or TCP with TLS client certificates)',
  // A server runs for as long as it is used: never in a warm worker, which serves one command.
  warm: () => false,
  flags: [
    { name: 'host', aliases: ['H'], type: 'string', help: `where to listen: unix://PATH (default unix://${DEFAULT_API_SOCKET}), or tcp://HOST:PORT with --tlsverify` },
    { name: 'time', aliases: ['t'], type: 'string', help: 'seconds without a request before the server exits; 0: never (default 5)' },
    { name: 'group', type: 'string', help: 'the socket\'s group (root-equivalent, like Docker\'s docker group)' },
    { name: 'tlsverify', type: 'bool', help: 'with --host tcp://: require client certificates signed by --tlscacert (required)' },
    { name: 'tlscacert', type: 'string', help: 'the CA whose client certificates are trusted' },
    { name: 'tlscert', type: 'string', help: 'the server\'s TLS certificate' },
    { name: 'tlskey', type: 'string', help: 'the server\'s TLS key' },
  ],
  args: [0, 0],
  async run(ctx, p) {
    const host = str(p, 'host') ?? `unix://${DEFAULT_API_SOCKET}`;
    let listen: { socket: string } | { tcp: { host: string; port: number; key: Buffer; cert: Buffer; ca: Buffer } };
    if (host.startsWith('unix://') && host.length > 'unix://'.length) {
      listen = { socket: host.slice('unix://'.length) };
    } else if (host.startsWith('tcp://')) {
      const m = /^tcp:\/\/(\[[0-9a-fA-F:]+\]|[^:/]+):(\d{1,5})$/.exec(host);
      if (!m || Number(m[2]) > 65535) throw new BerthError('EINVALID_ARG', `invalid --host ${JSON.stringify(host)}: use tcp://HOST:PORT, e.g. tcp://127.0.0.1:2376`);
      const files = { tlscacert: str(p, 'tlscacert'), tlscert: str(p, 'tlscert'), tlskey: str(p, 'tlskey') };
      const missing = Object.entries(files).filter(([, v]) => !v).map(([k]) => `--${k}`);
      if (!bool(p, 'tlsverify') || missing.length) {
        throw new BerthError('EINVALID_ARG', `--host ${host}: TCP is served only with TLS and client certificates (whoever reaches the API is root here): add --tlsverify${missing.length ? ` and ${missing.join(', ')}` : ''}`);
      }
      const read = (flag: string, path: string) => {
        try { return readFileSync(ctx.path(path)); } catch (err) { throw new BerthError('EINVALID_ARG', `--${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`); }
      };
      listen = { tcp: { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]), ca: read('tlscacert', files.tlscacert!), cert: read('tlscert', files.tlscert!), key: read('tlskey', files.tlskey!) } };
    } else {
      throw new BerthError('EINVALID_ARG', `invalid --host ${JSON.stringify(host)}: use unix:///path/to/socket, or tcp://HOST:PORT with --tlsverify`);
    }
    const timeText = str(p, 'time') ?? '5';
    if (!/^\d+$/.test(timeText)) throw new BerthError('EINVALID_ARG', `invalid --time ${JSON.stringify(timeText)}: a whole number of seconds (0: never time out)`);
    const { server, closed } = await startApiServer({
      ...listen, paths: ctx.paths, caller: ctx.caller, info: { version: VERSION }, group: str(p, 'group'), idleSeconds: Number(timeText),
      log: (line) => ctx.stderr.write(`berth: ${line}\n`),
    });
    ctx.stderr.write(`berth: serving the Docker Engine API on ${'socket' in listen ? `unix://${listen.socket}` : `${host} (TLS, client certificates required)`}${Number(timeText) ? ` (until ${timeText} s without a request)` : ''}\n`);
    // Requests in flight (a wait, a followed log) end with the server.
    const stop = () => { server.close(); server.closeAllConnections(); };
    const offs = [ctx.signals.on('SIGINT', stop), ctx.signals.on('SIGTERM', stop)];
    try {
      await closed;
    } finally {
      for (const off of offs) off();
    }
    return 0;
  },
};
