/**
 * `berth system service`: Docker's Engine API on a unix socket, over the same engine the CLI
 * uses (Podman's `podman system service`). Berth stays daemonless: the server is only what its
 * caller starts, and it exits after `idleSeconds` without a request (0: never).
 *
 * Who may connect: the socket is mode 0660, owner root, group root or the group named (Docker's
 * `docker` group, root-equivalent like it: whoever can create a container can mount the host's
 * root into it). Everything the engine makes runs as the server's caller would have run it.
 */
import { chmodSync, chownSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { EngineCaller } from '../engine/caller.js';
import type { EnginePaths } from '../engine/store.js';
import { BerthError } from '../util/errors.js';
import {
  containerLogs, createContainer, deleteContainer, inspectContainer, killContainer, listContainers, pauseContainer, pruneContainersApi, renameContainer,
  resizeContainer, restartContainer, startContainer, stopContainer, streamAttach, updateContainer, waitContainer, type ApiContext,
} from './containers.js';
import { API_VERSION, ApiError, readJson, sendJson, statusOf, versionOf } from './http.js';
import { createExec, inspectExec, startExec } from './exec.js';
import { containerStats, containerTop } from './stats.js';
import { streamEvents } from './events.js';
import { createImageApi, inspectImageApi, listImagesApi, removeImageApi, tagImageApi } from './images.js';
import { connectNetworkApi, createNetworkApi, disconnectNetworkApi, inspectNetworkApi, listNetworksApi, pruneNetworksApi, removeNetworkApi } from './networks.js';
import { info, ping, pingHeaders, version, type ServerInfo } from './system.js';

/** Options of the server. */
export interface ApiServerOptions {
  /** The unix socket's path (from --host unix://PATH). */
  socket: string;
  paths: EnginePaths;
  caller: EngineCaller;
  info: ServerInfo;
  /** The socket's group (name or gid); root's by default. */
  group?: string;
  /** Exit after this many seconds without a request in flight; 0: never. */
  idleSeconds: number;
  /** Told what failed on the server's side (a 500, a broken attach): the service's log. */
  log?: (line: string) => void;
}

type Handler = (c: ApiContext) => Promise<void> | void;

/** Method + path pattern (the container's id or name captured) → handler. */
function routes(o: ApiServerOptions): [string, RegExp, Handler][] {
  const id = '([^/]+)';
  return [
    ['GET', /^\/_ping$/, ping],
    ['HEAD', /^\/_ping$/, ping],
    ['GET', /^\/version$/, (c) => version(c, o.info)],
    ['GET', /^\/info$/, (c) => info(c, o.info)],
    ['GET', /^\/events$/, streamEvents],
    ['GET', /^\/containers\/json$/, listContainers],
    ['POST', /^\/containers\/create$/, createContainer],
    ['GET', new RegExp(`^/containers/${id}/json$`), inspectContainer],
    ['POST', new RegExp(`^/containers/${id}/start$`), startContainer],
    ['POST', new RegExp(`^/containers/${id}/stop$`), stopContainer],
    ['POST', new RegExp(`^/containers/${id}/kill$`), killContainer],
    ['POST', new RegExp(`^/containers/${id}/wait$`), waitContainer],
    ['GET', new RegExp(`^/containers/${id}/logs$`), containerLogs],
    ['DELETE', new RegExp(`^/containers/${id}$`), deleteContainer],
    ['POST', new RegExp(`^/containers/${id}/attach$`), async (c) => {
      await streamAttach(c.paths, c.params[0]!, c.query, c.res, c.gone, (type) => { c.res.writeHead(200, { 'Content-Type': type }); c.res.flushHeaders(); });
      c.res.end();
    }],
    ['GET', new RegExp(`^/containers/${id}/stats$`), containerStats],
    ['GET', new RegExp(`^/containers/${id}/top$`), containerTop],
    ['POST', new RegExp(`^/containers/${id}/exec$`), createExec],
    ['GET', /^\/exec\/([^/]+)\/json$/, inspectExec],
    ['POST', /^\/exec\/([^/]+)\/start$/, async (c) => {
      await startExec(c, c.params[0]!, await readJson(c.req), c.res, (type) => { c.res.writeHead(200, { 'Content-Type': type }); c.res.flushHeaders(); }, (detached) => {
        if (detached) c.res.writeHead(200, { 'Content-Length': '0' });
      });
      c.res.end();
    }],
    ['POST', new RegExp(`^/containers/${id}/pause$`), (c) => pauseContainer(c, true)],
    ['POST', new RegExp(`^/containers/${id}/unpause$`), (c) => pauseContainer(c, false)],
    ['POST', new RegExp(`^/containers/${id}/rename$`), renameContainer],
    ['POST', new RegExp(`^/containers/${id}/resize$`), resizeContainer],
    ['POST', new RegExp(`^/containers/${id}/restart$`), restartContainer],
    ['POST', new RegExp(`^/containers/${id}/update$`), updateContainer],
    ['POST', /^\/containers\/prune$/, pruneContainersApi],
    ['GET', /^\/images\/json$/, listImagesApi],
    ['POST', /^\/images\/create$/, createImageApi],
    ['GET', /^\/images\/(.+)\/json$/, inspectImageApi],
    ['POST', /^\/images\/(.+)\/tag$/, tagImageApi],
    ['DELETE', /^\/images\/(.+)$/, removeImageApi],
    ['GET', /^\/networks$/, listNetworksApi],
    ['POST', /^\/networks\/create$/, createNetworkApi],
    ['POST', /^\/networks\/prune$/, pruneNetworksApi],
    ['GET', new RegExp(`^/networks/${id}$`), inspectNetworkApi],
    ['DELETE', new RegExp(`^/networks/${id}$`), removeNetworkApi],
    ['POST', new RegExp(`^/networks/${id}/connect$`), connectNetworkApi],
    ['POST', new RegExp(`^/networks/${id}/disconnect$`), disconnectNetworkApi],
  ];
}

/** The gid of group `g` (a name from /etc/group, or a number). */
function gidOf(g: string): number {
  if (/^\d+$/.test(g)) return Number(g);
  const line = readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.split(':')[0] === g);
  if (!line) throw new BerthError('EINVALID_ARG', `invalid --group ${JSON.stringify(g)}: no such group in /etc/group`);
  return Number(line.split(':')[2]);
}

/** Whether a server answers on `socket` already (a live one is not replaced). */
function inUse(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(socket);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Start serving; resolves once listening, with the server and a promise of its end (idle or closed). */
export async function startApiServer(o: ApiServerOptions): Promise<{ server: Server; closed: Promise<void> }> {
  const gid = o.group !== undefined ? gidOf(o.group) : 0;
  if (await inUse(o.socket)) throw new BerthError('EEXISTS', `another server already listens on ${o.socket}`);
  rmSync(o.socket, { force: true });
  const table = routes(o);
  let inFlight = 0;
  let idle: NodeJS.Timeout | undefined;
  const server = createServer((req, res) => {
    inFlight++;
    if (idle) clearTimeout(idle);
    res.once('close', () => {
      inFlight--;
      armIdle();
    });
    void handle(o, table, req, res);
  });
  const armIdle = () => {
    if (o.idleSeconds > 0 && inFlight === 0) idle = setTimeout(() => server.close(), o.idleSeconds * 1000);
  };
  // Attach hijacks the connection (Upgrade: tcp): Node hands such requests here, not to the handler.
  server.on('upgrade', (req: IncomingMessage, sock: Socket, head: Buffer) => {
    inFlight++;
    if (idle) clearTimeout(idle);
    sock.once('close', () => { inFlight--; armIdle(); });
    void upgrade(o, req, sock, head);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // The socket exists with the process's umask until the chmod: make it private from the start.
    const old = process.umask(0o177);
    server.listen(o.socket, () => { process.umask(old); resolve(); });
  });
  chownSync(o.socket, 0, gid);
  chmodSync(o.socket, 0o660);
  const ours = statSync(o.socket).ino;
  armIdle();
  // The socket file goes with the server, unless another server has put its own there since.
  const closed = new Promise<void>((resolve) => server.once('close', () => {
    try { if (statSync(o.socket).ino === ours) rmSync(o.socket, { force: true }); } catch { /* gone already */ }
    resolve();
  }));
  return { server, closed };
}

/** The hijacked attach: a 101 UPGRADED, then the raw stream until the container stops. */
/**
 * An upgraded request's JSON body: Node parses none, so its Content-Length bytes are what came
 * with the headers (`head`) and what the socket reads next.
 */
function upgradeBody(req: IncomingMessage, sock: Socket, head: Buffer): Promise<Record<string, unknown>> {
  const length = Number(req.headers['content-length'] ?? 0);
  return new Promise((resolve, reject) => {
    let got = head;
    const finish = () => {
      sock.off('data', onData);
      // Held until the exec's stdin is there to take what follows (startExec resumes it).
      sock.pause();
      const text = got.subarray(0, length).toString().trim();
      try { resolve(text ? JSON.parse(text) as Record<string, unknown> : {}); } catch { reject(new ApiError(400, 'invalid JSON body')); }
    };
    const onData = (d: Buffer) => { got = Buffer.concat([got, d]); if (got.length >= length) finish(); };
    if (got.length >= length) return finish();
    sock.on('data', onData);
    sock.once('end', () => reject(new ApiError(400, 'the request body ended early')));
  });
}

async function upgrade(o: ApiServerOptions, req: IncomingMessage, sock: Socket, head: Buffer): Promise<void> {
  const gone = new AbortController();
  sock.once('close', () => gone.abort());
  sock.on('error', () => gone.abort());
  let upgraded = false;
  try {
    const url = new URL(req.url ?? '/', 'http://berth');
    const { route } = versionOf(decodeURIComponent(url.pathname));
    const attach = /^\/containers\/([^/]+)\/attach$/.exec(route);
    const exec = /^\/exec\/([^/]+)\/start$/.exec(route);
    if ((!attach && !exec) || req.method !== 'POST') throw new ApiError(404, `page not found: ${route} cannot be upgraded (only POST /containers/{id}/attach and /exec/{id}/start)`);
    const begin = (type: string) => {
      sock.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${type}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nApi-Version: ${API_VERSION}\r\n\r\n`);
      upgraded = true;
    };
    if (attach) await streamAttach(o.paths, attach[1]!, url.searchParams, sock, gone.signal, begin, { stream: sock, head });
    else {
      const length = Number(req.headers['content-length'] ?? 0);
      await startExec({ paths: o.paths }, exec![1]!, await upgradeBody(req, sock, head), sock, begin, (detached) => {
        if (detached) sock.write(`HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n`);
      }, { stream: sock, head: head.subarray(Math.min(length, head.length)) });
    }
    sock.end();
  } catch (err) {
    if (upgraded) {
      o.log?.(`attach ${req.url}: ${err instanceof Error ? err.message : String(err)}`);
      sock.destroy();
      return;
    }
    const text = JSON.stringify({ message: err instanceof Error ? err.message : String(err) });
    sock.end(`HTTP/1.1 ${statusOf(err)} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
  }
}

async function handle(o: ApiServerOptions, table: [string, RegExp, Handler][], req: IncomingMessage, res: ServerResponse): Promise<void> {
  for (const [k, v] of Object.entries(pingHeaders())) res.setHeader(k, v);
  const gone = new AbortController();
  res.once('close', () => gone.abort());
  try {
    const url = new URL(req.url ?? '/', 'http://berth');
    const { route } = versionOf(decodeURIComponent(url.pathname));
    let methodMatched = false;
    for (const [method, re, handler] of table) {
      const m = re.exec(route);
      if (!m) continue;
      if (method !== req.method) { methodMatched = true; continue; }
      await handler({ paths: o.paths, caller: o.caller, req, res, query: url.searchParams, params: m.slice(1), gone: gone.signal });
      return;
    }
    throw methodMatched ? new ApiError(405, `method ${req.method} not allowed on ${route}`) : new ApiError(404, `page not found: ${route} is not part of Berth's Engine API (docs/engine-api.md)`);
  } catch (err) {
    const status = statusOf(err);
    const message = err instanceof Error ? err.message : String(err);
    if (status === 500) o.log?.(`${req.method} ${req.url}: ${err instanceof Error && !(err instanceof BerthError) ? err.stack : message}`);
    if (res.headersSent) { res.destroy(); return; }
    sendJson(res, status, { message: status === 500 && !(err instanceof BerthError) ? `internal error: ${message}` : message });
  }
}
