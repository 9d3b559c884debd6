/**
 * A fault-injecting HTTP proxy for registry tests: a Node http server on 127.0.0.1 that forwards
 * to a real registry and, by rules the test sets, answers an error status instead (503, 429 with
 * Retry-After, 404 …), resets the connection half-way through a body, sends a body shorter than
 * announced, flips a byte of a body, dribbles a body slowly, or stalls half-way through one. It
 * logs every request, counts blob downloads in flight at once (and can hold them back until N
 * are in flight, to show concurrency as a counted fact, not a timing).
 */
import { request as httpRequest, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a rule does to a matching request. */
export type Fault =
  | { status: number; retryAfter?: string }
  /** Forward, then send the headers and half the body, then destroy the connection. */
  | { reset: true }
  /** Forward, then announce and send only half the body (a well-formed short response). */
  | { truncate: true }
  /** Forward, then flip one byte of the body (same length). */
  | { corrupt: true }
  /** Forward, then send the body `chunk` bytes every `everyMs` ms. */
  | { slow: { chunk: number; everyMs: number } }
  /** Forward, then send the headers and half the body, and nothing more until the proxy stops. */
  | { stall: true };

/** A rule: the first `times` requests matching `method` and `path` get `fault`. */
export interface Rule {
  method?: string;
  /** A substring or pattern of the request path. */
  path?: string | RegExp;
  /** How many matching requests get the fault (default: every one). */
  times?: number;
  fault: Fault;
}

/** One request as the proxy saw it. */
export interface Seen {
  method: string;
  path: string;
  /** The status sent (the fault's or the registry's). */
  status: number;
  /** The fault applied, if any. */
  fault?: string;
}

const isBlobGet = (req: IncomingMessage): boolean => req.method === 'GET' && /\/blobs\/sha256:[a-f0-9]{64}$/.test(req.url ?? '');

/** A running proxy in front of `upstream` (host:port). */
export class FaultProxy {
  readonly seen: Seen[] = [];
  rules: (Rule & { left: number })[] = [];
  /** Blob GETs being answered right now, and the most there were at once. */
  blobsInFlight = 0;
  maxBlobsInFlight = 0;
  /** Bytes of blob bodies sent to clients so far. */
  blobBytesSent = 0;
  /** Responses stalled half-way (the `stall` fault) so far. */
  stalled = 0;
  private hold: { digests: Set<string>; count: number; waiting: (() => void)[]; arrived: number } | undefined;
  private server: Server | undefined;
  host = '';

  constructor(readonly upstream: string) {}

  /** Starts listening on 127.0.0.1:<free port>; `host` is then the proxy's host:port. */
  async start(): Promise<this> {
    const server = createServer((req, res) => { this.handle(req, res).catch(() => res.destroy()); });
    // a client that resets is not an error of the test
    server.on('clientError', (_e, socket) => socket.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.server = server;
    this.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  /** Stops the proxy, closing idle and active connections. */
  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    for (const w of this.hold?.waiting ?? []) w();
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }

  /** Replaces the rules and clears the log and counters. */
  reset(rules: Rule[] = []): void {
    this.rules = rules.map((r) => ({ ...r, left: r.times ?? Infinity }));
    this.seen.length = 0;
    this.maxBlobsInFlight = 0;
    this.blobBytesSent = 0;
    this.hold = undefined;
  }

  /**
   * Holds GETs of the blobs `digests` until `count` of them have arrived (or `timeoutMs` passes,
   * so a client that fetches one at a time is slow, not stuck): with `count` = 3, a client that
   * downloads three layers at once gets them, and `maxBlobsInFlight` reads 3.
   */
  holdBlobs(digests: string[], count: number, timeoutMs = 15_000): void {
    this.hold = { digests: new Set(digests), count, waiting: [], arrived: 0 };
    const h = this.hold;
    setTimeout(() => { for (const w of h.waiting.splice(0)) w(); }, timeoutMs).unref();
  }

  /** Requests seen whose method and path match. */
  count(method: string, path: string | RegExp): number {
    return this.seen.filter((s) => s.method === method && (typeof path === 'string' ? s.path.includes(path) : path.test(s.path))).length;
  }

  private match(req: IncomingMessage): (Rule & { left: number }) | undefined {
    const url = req.url ?? '';
    const r = this.rules.find((r) => r.left > 0 && (!r.method || r.method === req.method)
      && (!r.path || (typeof r.path === 'string' ? url.includes(r.path) : r.path.test(url))));
    if (r) r.left--;
    return r;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rule = this.match(req);
    const entry: Seen = { method: req.method ?? '', path: req.url ?? '', status: 0, ...(rule ? { fault: Object.keys(rule.fault)[0] } : {}) };
    this.seen.push(entry);
    if (rule && 'status' in rule.fault) {
      req.resume();
      entry.status = rule.fault.status;
      const body = JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: `injected ${rule.fault.status}` }] });
      res.writeHead(rule.fault.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(rule.fault.retryAfter ? { 'retry-after': rule.fault.retryAfter } : {}) });
      res.end(body);
      return;
    }
    const blob = isBlobGet(req);
    if (blob) {
      this.blobsInFlight++;
      this.maxBlobsInFlight = Math.max(this.maxBlobsInFlight, this.blobsInFlight);
      res.once('close', () => { this.blobsInFlight--; });
      const h = this.hold;
      const digest = (req.url ?? '').slice(-71);
      if (h && h.digests.has(digest)) {
        h.arrived++;
        if (h.arrived >= h.count) for (const w of h.waiting.splice(0)) w();
        else await new Promise<void>((r) => h.waiting.push(r));
      }
    }
    const up = await this.forward(req);
    entry.status = up.status;
    const headers = { ...up.headers };
    const fault = rule?.fault;
    let body = up.body;
    if (!fault || req.method === 'HEAD') {
      res.writeHead(up.status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
      if (blob) this.blobBytesSent += body.length;
      return;
    }
    if ('corrupt' in fault && body.length > 0) {
      body = Buffer.from(body);
      const i = Math.floor(body.length / 2);
      body[i] = (body[i] ?? 0) ^ 0xff;
    }
    if ('truncate' in fault) {
      body = body.subarray(0, Math.floor(body.length / 2));
      headers['content-length'] = String(body.length);
    }
    res.writeHead(up.status, headers);
    if ('reset' in fault) {
      res.flushHeaders();
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => {
        // let the bytes leave before the reset, so the client sees a body cut short
        setTimeout(() => res.socket?.resetAndDestroy(), 20);
      });
      return;
    }
    if ('stall' in fault) {
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => { this.stalled++; });
      return;
    }
    if ('slow' in fault) {
      const { chunk, everyMs } = fault.slow;
      for (let off = 0; off < body.length && !res.destroyed; off += chunk) {
        res.write(body.subarray(off, off + chunk));
        this.blobBytesSent += Math.min(chunk, body.length - off);
        await new Promise((r) => setTimeout(r, everyMs));
      }
      res.end();
      return;
    }
    res.end(body);
  }

  /** Sends `req` to the registry and reads the whole answer (test blobs are small). */
  private forward(req: IncomingMessage): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
    const [host, port] = this.upstream.split(':');
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: this.upstream };
      const up = httpRequest({ host, port: Number(port), method: req.method, path: req.url, headers }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => {
          const h = { ...r.headers };
          // a Location pointing at the registry must lead back through the proxy
          if (typeof h.location === 'string') h.location = h.location.replace(`//${this.upstream}/`, `//${this.host}/`);
          delete h['transfer-encoding'];
          const body = Buffer.concat(chunks);
          if (req.method !== 'HEAD') h['content-length'] = String(body.length);
          resolve({ status: r.statusCode ?? 502, headers: h, body });
        });
        r.on('error', reject);
      });
      up.on('error', reject);
      req.pipe(up);
    });
  }
}

/** Starts a proxy in front of the registry at `upstream` (host:port). */
export function startProxy(upstream: string): Promise<FaultProxy> {
  return new FaultProxy(upstream).start();
}
