/**
 * `berth system service`: Docker's Engine API on a unix socket, over the same engine the CLI
 * uses (Podman's `podman system service`). Berth stays daemonless: the server is only what its
 * caller starts, and it exits after `idleSeconds` without a request (0: never).
 *
 * Who may connect: the socket is mode 0660, owner root, group root or the group named (Docker's
 * `docker` group, root-equivalent like it: whoever can create a container can mount the host's
 * root into it). Everything the engine makes runs as the server's caller would have run it.
 */
import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { createConnection, type Socket } from 'node:net';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { EngineCaller } from '../engine/caller.js';
import type { EnginePaths } from '../engine/store.js';
import { BerthError } from '../util/errors.js';
import {
  containerLogs, createContainer, deleteContainer, inspectContainer, killContainer, listContainers, pauseContainer, pruneContainersApi, renameContainer,
  resizeContainer, restartContainer, startContainer, stopContainer, streamAttach, updateContainer, waitContainer, type ApiContext, type StreamContext,
} from './containers.js';
import { API_VERSION, ApiError, readJson, sendJson, statusOf, versionOf } from './http.js';
import { createExec, inspectExec, resizeExec, startExec } from './exec.js';
import { containerStats, containerTop } from './stats.js';
import { streamEvents } from './events.js';
import { authApi, historyApi, loadImagesApi, pushImageApi, saveImagesApi } from './image-transfer.js';
import { commitApi, createImageApi, inspectImageApi, listImagesApi, removeImageApi, tagImageApi } from './images.js';
import { changesApi, exportApi, getArchive, putArchive, statArchive } from './archive.js';
import { createVolumeApi, inspectVolumeApi, listVolumesApi, pruneVolumesApi, removeVolumeApi } from './volumes.js';
import { connectNetworkApi, createNetworkApi, disconnectNetworkApi, inspectNetworkApi, listNetworksApi, pruneNetworksApi, removeNetworkApi } from './networks.js';
import { info, ping, pingHeaders, pruneImagesApi, systemDf, version, type ServerInfo } from './system.js';

/** Options of the server. */
export interface ApiServerOptions {
  /** The unix socket's path (from --host unix://PATH); or `tcp`. */
  socket?: string;
  /**
   * TCP (--host tcp://HOST:PORT), only with TLS and client certificates (Docker's --tlsverify):
   * the server's key and certificate, and the CA whose client certificates are let in. Anyone
   * with such a certificate is root on this host, as with the socket.
   */
  tcp?: { host: string; port: number; key: Buffer; cert: Buffer; ca: Buffer };
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

/** A route: method and path (the container's id or name captured); `hijack`: a client may take the connection over (Upgrade: tcp). */
type Route = { method: string; path: RegExp } & ({ run: Handler; hijack?: undefined } | { run: (c: StreamContext) => Promise<void>; hijack: true });

/** Every route of the API. */
function routes(o: ApiServerOptions): Route[] {
  const id = '([^/]+)';
  const r = (method: string, path: string | RegExp, run: Handler): Route => ({ method, path: typeof path === 'string' ? new RegExp(`^${path.replace('{id}', id)}$`) : path, run });
  return [
    r('GET', '/_ping', ping),
    r('HEAD', '/_ping', ping),
    r('GET', '/version', (c) => version(c, o.info)),
    r('GET', '/info', (c) => info(c, o.info)),
    r('GET', '/system/df', systemDf),
    r('GET', '/events', streamEvents),
    r('GET', '/containers/json', listContainers),
    r('POST', '/containers/create', createContainer),
    r('POST', '/containers/prune', pruneContainersApi),
    r('GET', '/containers/{id}/json', inspectContainer),
    r('POST', '/containers/{id}/start', startContainer),
    r('POST', '/containers/{id}/stop', stopContainer),
    r('POST', '/containers/{id}/kill', killContainer),
    r('POST', '/containers/{id}/wait', waitContainer),
    r('GET', '/containers/{id}/logs', containerLogs),
    r('DELETE', '/containers/{id}', deleteContainer),
    { method: 'POST', path: new RegExp(`^/containers/${id}/attach$`), run: streamAttach, hijack: true },
    r('GET', '/containers/{id}/stats', containerStats),
    r('GET', '/containers/{id}/top', containerTop),
    r('POST', '/containers/{id}/exec', createExec),
    r('GET', '/exec/{id}/json', inspectExec),
    r('POST', '/exec/{id}/resize', resizeExec),
    { method: 'POST', path: new RegExp(`^/exec/${id}/start$`), run: startExec, hijack: true },
    r('POST', '/containers/{id}/pause', (c) => pauseContainer(c, true)),
    r('POST', '/containers/{id}/unpause', (c) => pauseContainer(c, false)),
    r('POST', '/containers/{id}/rename', renameContainer),
    r('POST', '/containers/{id}/resize', resizeContainer),
    r('POST', '/containers/{id}/restart', restartContainer),
    r('POST', '/containers/{id}/update', updateContainer),
    r('GET', '/images/json', listImagesApi),
    r('POST', '/images/create', createImageApi),
    r('POST', '/images/prune', pruneImagesApi),
    r('POST', '/commit', commitApi),
    r('POST', '/images/load', loadImagesApi),
    r('GET', '/images/get', saveImagesApi),
    r('POST', '/auth', authApi),
    // Image names hold slashes.
    r('GET', /^\/images\/(.+)\/json$/, inspectImageApi),
    r('GET', /^\/images\/(.+)\/get$/, saveImagesApi),
    r('GET', /^\/images\/(.+)\/history$/, historyApi),
    r('POST', /^\/images\/(.+)\/push$/, pushImageApi),
    r('POST', /^\/images\/(.+)\/tag$/, tagImageApi),
    r('DELETE', /^\/images\/(.+)$/, removeImageApi),
    r('HEAD', '/containers/{id}/archive', statArchive),
    r('GET', '/containers/{id}/archive', getArchive),
    r('PUT', '/containers/{id}/archive', putArchive),
    r('GET', '/containers/{id}/export', exportApi),
    r('GET', '/containers/{id}/changes', changesApi),
    r('GET', '/volumes', listVolumesApi),
    r('POST', '/volumes/create', createVolumeApi),
    r('POST', '/volumes/prune', pruneVolumesApi),
    r('GET', '/volumes/{id}', inspectVolumeApi),
    r('DELETE', '/volumes/{id}', removeVolumeApi),
    r('GET', '/networks', listNetworksApi),
    r('POST', '/networks/create', createNetworkApi),
    r('POST', '/networks/prune', pruneNetworksApi),
    r('GET', '/networks/{id}', inspectNetworkApi),
    r('DELETE', '/networks/{id}', removeNetworkApi),
    r('POST', '/networks/{id}/connect', connectNetworkApi),
    r('POST', '/networks/{id}/disconnect', disconnectNetworkApi),
  ];
}

/**
 * The route of a request: its path without the version prefix (versionOf's 400s), matched
 * against the table; 404 for an unknown path, 405 for a known one with another method.
 */
function findRoute(table: Route[], req: IncomingMessage): { route: Route; params: string[]; query: URLSearchParams } {
  const url = new URL(req.url ?? '/', 'http://berth');
  let pathname: string;
  try { pathname = decodeURIComponent(url.pathname); } catch { throw new ApiError(400, `invalid path ${JSON.stringify(url.pathname)}: a malformed percent-encoding`); }
  const { route } = versionOf(pathname);
  let methodMatched = false;
  for (const r of table) {
    const m = r.path.exec(route);
    if (!m) continue;
    if (r.method === req.method) return { route: r, params: m.slice(1), query: url.searchParams };
    methodMatched = true;
  }
  throw methodMatched ? new ApiError(405, `method ${req.method} not allowed on ${route}`) : new ApiError(404, `page not found: ${route} is not part of Berth's Engine API (docs/engine-api.md)`);
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
  if (!o.socket === !o.tcp) throw new BerthError('EINVALID_ARG', 'the API server needs a unix socket or a TCP address with TLS, one of them');
  const gid = o.group !== undefined ? gidOf(o.group) : 0;
  if (o.socket) {
    if (await inUse(o.socket)) throw new BerthError('EEXISTS', `another server already listens on ${o.socket}`);
    mkdirSync(dirname(o.socket), { recursive: true, mode: 0o711 });
    rmSync(o.socket, { force: true });
  }
  const table = routes(o);
  let inFlight = 0;
  let idle: NodeJS.Timeout | undefined;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    if (idle) clearTimeout(idle);
    res.once('close', () => {
      inFlight--;
      armIdle();
    });
    void handle(o, table, req, res);
  };
  // TCP: TLS with client certificates required and checked against the CA (Docker's --tlsverify).
  const server: Server = o.tcp
    // allowHalfOpen: a hijacking client without stdin closes its side (Go's CloseWrite sends a
    // TLS close_notify) and still reads the output, as on the unix socket.
    ? createHttpsServer({ key: o.tcp.key, cert: o.tcp.cert, ca: o.tcp.ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2', allowHalfOpen: true }, onRequest) as unknown as Server
    : createServer(onRequest);
  const armIdle = () => {
    if (o.idleSeconds > 0 && inFlight === 0) idle = setTimeout(() => server.close(), o.idleSeconds * 1000);
  };
  // Attach hijacks the connection (Upgrade: tcp): Node hands such requests here, not to the handler.
  server.on('upgrade', (req: IncomingMessage, sock: Socket, head: Buffer) => {
    inFlight++;
    if (idle) clearTimeout(idle);
    sock.once('close', () => { inFlight--; armIdle(); });
    void upgrade(o, table, req, sock, head);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (o.tcp) {
      server.listen(o.tcp.port, o.tcp.host, () => resolve());
      return;
    }
    // The socket exists with the process's umask until the chmod: make it private from the start.
    const old = process.umask(0o177);
    server.listen(o.socket, () => { process.umask(old); resolve(); });
  });
  if (!o.socket) {
    armIdle();
    return { server, closed: new Promise<void>((resolve) => server.once('close', () => resolve())) };
  }
  const socket = o.socket;
  chownSync(socket, 0, gid);
  chmodSync(socket, 0o660);
  const ours = statSync(socket).ino;
  armIdle();
  // The socket file goes with the server, unless another server has put its own there since.
  const closed = new Promise<void>((resolve) => server.once('close', () => {
    try { if (statSync(socket).ino === ours) rmSync(socket, { force: true }); } catch { /* gone already */ }
    resolve();
  }));
  return { server, closed };
}

/**
 * An upgraded request's JSON body: Node parses none, so its Content-Length bytes are what came
 * with the headers (`head`) and what the socket reads next (within 30 s). Returns the body and
 * what followed it (a hijacking client's first stdin bytes).
 */
function upgradeBody(req: IncomingMessage, sock: Socket, head: Buffer): Promise<{ body: Record<string, unknown>; rest: Buffer }> {
  const length = Number(req.headers['content-length'] ?? 0);
  return new Promise((resolve, reject) => {
    let got = head;
    const timer = setTimeout(() => fail(new ApiError(408, 'the request body did not come within 30 s')), 30_000);
    const fail = (err: ApiError) => { clearTimeout(timer); sock.off('data', onData); reject(err); };
    const finish = () => {
      clearTimeout(timer);
      sock.off('data', onData);
      // Held until a stdin reader is there to take what follows (feedStdin, startExec resume it).
      sock.pause();
      const text = got.subarray(0, length).toString().trim();
      try { resolve({ body: text ? JSON.parse(text) as Record<string, unknown> : {}, rest: got.subarray(length) }); } catch { reject(new ApiError(400, 'invalid JSON body')); }
    };
    const onData = (d: Buffer) => { got = Buffer.concat([got, d]); if (got.length >= length) finish(); };
    if (got.length >= length) return finish();
    sock.on('data', onData);
    sock.once('end', () => fail(new ApiError(400, 'the request body ended early')));
  });
}

/** A hijacked request: its 101 UPGRADED when the handler begins its stream, then the raw stream on the connection. */
async function upgrade(o: ApiServerOptions, table: Route[], req: IncomingMessage, sock: Socket, head: Buffer): Promise<void> {
  const gone = new AbortController();
  sock.once('close', () => gone.abort());
  sock.on('error', () => gone.abort());
  let upgraded = false;
  try {
    const { route, params, query } = findRoute(table, req);
    if (!route.hijack) throw new ApiError(400, `${req.url} cannot be upgraded (only POST /containers/{id}/attach and /exec/{id}/start)`);
    const { body, rest } = await upgradeBody(req, sock, head);
    await route.run({
      paths: o.paths, caller: o.caller, query, params, gone: gone.signal, body: async () => body, input: { stream: sock, head: rest },
      stream: (type) => {
        sock.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${type}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nApi-Version: ${API_VERSION}\r\n\r\n`);
        upgraded = true;
        return sock;
      },
    });
    // A handler that did not stream (exec start with Detach) answers an empty 200.
    if (upgraded) sock.end();
    else sock.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  } catch (err) {
    if (upgraded) {
      o.log?.(`${req.method} ${req.url}: ${err instanceof Error ? err.message : String(err)}`);
      sock.destroy();
      return;
    }
    const text = JSON.stringify({ message: err instanceof Error ? err.message : String(err) });
    sock.end(`HTTP/1.1 ${statusOf(err)} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
  }
}

async function handle(o: ApiServerOptions, table: Route[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  for (const [k, v] of Object.entries(pingHeaders())) res.setHeader(k, v);
  const gone = new AbortController();
  res.once('close', () => gone.abort());
  try {
    const { route, params, query } = findRoute(table, req);
    await route.run({
      paths: o.paths, caller: o.caller, req, res, query, params, gone: gone.signal, body: () => readJson(req),
      stream: (type) => { res.writeHead(200, { 'Content-Type': type }); res.flushHeaders(); return res; },
    });
    // A streaming handler's end, or an empty 200 when it did not stream (exec start with Detach).
    if (!res.writableEnded) {
      if (!res.headersSent) res.writeHead(200, { 'Content-Length': '0' });
      res.end();
    }
  } catch (err) {
    const status = statusOf(err);
    const message = err instanceof Error ? err.message : String(err);
    if (status === 500) o.log?.(`${req.method} ${req.url}: ${err instanceof Error && !(err instanceof BerthError) ? err.stack : message}`);
    if (res.headersSent) { res.destroy(); return; }
    sendJson(res, status, { message: status === 500 && !(err instanceof BerthError) ? `internal error: ${message}` : message });
  }
}
