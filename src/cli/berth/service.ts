/**
 * `berth system service [--host unix:///run/berth/docker.sock] [--time SECS] [--group NAME]`:
 * serve Docker's Engine API (src/api/) until SECS pass without a request (0: never; Podman's
 * default, 5, otherwise), or until SIGINT/SIGTERM. docs/engine-api.md says what it serves.
 */
import { str } from '../args.js';
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
  summary: 'serve Docker\'s Engine API on a unix socket',
  // A server runs for as long as it is used: never in a warm worker, which serves one command.
  warm: () => false,
  flags: [
    { name: 'host', aliases: ['H'], type: 'string', help: `the socket to listen on, unix://PATH (default unix://${DEFAULT_API_SOCKET})` },
    { name: 'time', aliases: ['t'], type: 'string', help: 'seconds without a request before the server exits; 0: never (default 5)' },
    { name: 'group', type: 'string', help: 'the socket\'s group (root-equivalent, like Docker\'s docker group)' },
  ],
  args: [0, 0],
  async run(ctx, p) {
    const host = str(p, 'host') ?? `unix://${DEFAULT_API_SOCKET}`;
    if (!host.startsWith('unix://') || host.length <= 'unix://'.length) {
      throw new BerthError('EINVALID_ARG', `invalid --host ${JSON.stringify(host)}: Berth serves on a unix socket only (unix:///path/to/socket); TCP with TLS is not served yet`);
    }
    const timeText = str(p, 'time') ?? '5';
    if (!/^\d+$/.test(timeText)) throw new BerthError('EINVALID_ARG', `invalid --time ${JSON.stringify(timeText)}: a whole number of seconds (0: never time out)`);
    const socket = host.slice('unix://'.length);
    const { server, closed } = await startApiServer({
      socket, paths: ctx.paths, caller: ctx.caller, info: { version: VERSION }, group: str(p, 'group'), idleSeconds: Number(timeText),
      log: (line) => ctx.stderr.write(`berth: ${line}\n`),
    });
    ctx.stderr.write(`berth: serving the Docker Engine API on unix://${socket}${Number(timeText) ? ` (until ${timeText} s without a request)` : ''}\n`);
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
