/**
 * An OCI distribution API client: one registry, one repository, anonymous, basic or bearer-token
 * authentication (the token flow of the Docker registry auth spec: a 401 names a realm, service
 * and scope, a token is fetched from the realm with basic credentials if any), retries with
 * exponential backoff on network errors, 408, 429 and 5xx (retry.ts says how many and why).
 *
 * Transport: HTTPS, except plain HTTP for a loopback registry (127.0.0.0/8, ::1, localhost) or one
 * listed as insecure — as Docker allows, and never silently for anything else.
 */
import { Readable } from 'node:stream';
import { BerthError } from '../../util/errors.js';
import type { Credentials } from './credentials.js';
import { TransientError, backoffDelay, gaveUp, isRetryableStatus, parseRetryAfter, retryPolicy, waitToRetry, withRetries, type RetryPolicy } from './retry.js';

/** Options for a client. */
export interface ClientOptions {
  credentials?: Credentials;
  /** Registries (host[:port]) allowed over plain HTTP besides loopback ones. */
  insecure?: string[];
  /** Retry policy (default `retryPolicy()`: 5 attempts, backoff from 250 ms; see retry.ts). */
  retry?: RetryPolicy;
}

/** True for a registry on the loopback interface. */
export function isLoopback(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Parses a WWW-Authenticate header: scheme and parameters. */
export function parseChallenge(h: string): { scheme: string; params: Record<string, string> } {
  const m = /^(\w+)\s*(.*)$/.exec(h.trim());
  const params: Record<string, string> = {};
  for (const p of (m?.[2] ?? '').matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) params[(p[1] ?? '').toLowerCase()] = p[2] ?? p[3] ?? '';
  return { scheme: (m?.[1] ?? '').toLowerCase(), params };
}

/** A client for `registry`/`repository`. */
export class RegistryClient {
  readonly base: string;
  /** How requests (and the callers' larger steps) are retried. */
  readonly policy: RetryPolicy;
  private auth: string | undefined; // the Authorization header that worked last

  constructor(readonly registry: string, readonly repository: string, private readonly opts: ClientOptions = {}) {
    const plain = isLoopback(registry) || (opts.insecure ?? []).includes(registry);
    const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
    this.base = `${plain ? 'http' : 'https'}://${host}`;
    this.policy = opts.retry ?? retryPolicy();
  }

  /** The URL of a path below /v2/<repository>/ (or an absolute Location from the registry). */
  url(path: string): string {
    if (/^https?:\/\//.test(path)) return path;
    if (path.startsWith('/')) return `${this.base}${path}`;
    return `${this.base}/v2/${this.repository}/${path}`;
  }

  /** Fetches a bearer token for a 401 challenge, or returns a basic header. */
  private async authorize(challenge: string, scopeHint: string): Promise<string | undefined> {
    const { scheme, params } = parseChallenge(challenge);
    const c = this.opts.credentials;
    const basic = c ? `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}` : undefined;
    if (scheme === 'basic') return basic;
    if (scheme !== 'bearer' || !params.realm) return undefined;
    const u = new URL(params.realm);
    if (params.service) u.searchParams.set('service', params.service);
    u.searchParams.set('scope', params.scope ?? scopeHint);
    if (u.protocol === 'http:' && !isLoopback(u.host) && !(this.opts.insecure ?? []).includes(u.host)) {
      throw new BerthError('EREGISTRY', `token realm ${params.realm} of ${this.registry} is plain HTTP; refusing to send credentials`);
    }
    // the token server is retried like the registry: it is often a separate, busy service
    const body = await withRetries(this.policy, { method: 'GET', url: u.toString() }, async () => {
      let res: Response;
      try {
        res = await fetch(u, { headers: basic ? { authorization: basic } : {} });
      } catch (err) {
        throw new TransientError(`${this.registry}: token server ${u.origin}: ${String((err as Error).cause ?? (err as Error).message)}`, { cause: err });
      }
      if (res.status === 401 || res.status === 403) throw new BerthError('EAUTH', `${this.registry}: authentication failed (token server said ${res.status}); check berth login`);
      if (isRetryableStatus(res.status)) {
        await res.body?.cancel();
        throw new TransientError(`${this.registry}: token server ${u.origin} answered ${res.status}`, { retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) });
      }
      if (!res.ok) throw new BerthError('EREGISTRY', `${this.registry}: token server ${u.origin} answered ${res.status}`);
      try {
        return (await res.json()) as { token?: string; access_token?: string };
      } catch (err) {
        throw new TransientError(`${this.registry}: token server ${u.origin} sent an unreadable answer (${(err as Error).message})`, { cause: err });
      }
    });
    const token = body.token ?? body.access_token;
    if (!token) throw new BerthError('EREGISTRY', `${this.registry}: token server gave no token`);
    return `Bearer ${token}`;
  }

  /**
   * Sends a request with authentication and retries (see retry.ts for the policy). `body` must
   * be re-creatable for retries (a Buffer, or a function returning a fresh stream). Returns the
   * response for any status below 400 and for 404 (the caller decides); other statuses throw
   * EREGISTRY / EAUTH. With `retry: false` a failure worth repeating — a connection error, 408,
   * 429, 5xx — throws a `TransientError` at once, for a caller that must repeat a larger step
   * (an upload session cannot always take the same PATCH or PUT twice).
   */
  async request(method: string, path: string, init: { headers?: Record<string, string>; body?: Buffer | (() => Readable); push?: boolean; retry?: boolean } = {}): Promise<Response> {
    const attempts = init.retry === false ? 1 : this.policy.attempts;
    const scope = `repository:${this.repository}:${init.push ? 'pull,push' : 'pull'}`;
    const url = this.url(path);
    let authTried = false;
    for (let attempt = 1; ; attempt++) {
      const headers: Record<string, string> = { ...(init.headers ?? {}) };
      if (this.auth) headers.authorization = this.auth;
      let res: Response;
      try {
        const body = typeof init.body === 'function' ? (Readable.toWeb(init.body()) as ReadableStream) : init.body;
        res = await fetch(url, { method, headers, body, redirect: 'follow', ...(typeof init.body === 'function' ? { duplex: 'half' } : {}) } as RequestInit);
      } catch (err) {
        const reason = (err as Error).cause ? String((err as Error).cause) : (err as Error).message;
        const e = new TransientError(`${method} ${url}: ${reason}`, { cause: err });
        if (init.retry === false) throw e;
        if (attempt >= attempts) throw gaveUp(new BerthError('EREGISTRY', e.message, { cause: err }), attempt);
        await waitToRetry({ method, url, attempt, delayMs: backoffDelay(attempt, this.policy), reason });
        continue;
      }
      if (res.status === 401 && !authTried) {
        authTried = true;
        const challenge = res.headers.get('www-authenticate');
        await res.body?.cancel();
        const auth = challenge ? await this.authorize(challenge, scope) : undefined;
        if (auth) { this.auth = auth; attempt--; continue; }
      }
      if (res.status < 400 || res.status === 404) return res;
      const text = (await res.text().catch(() => '')).slice(0, 300);
      let detail = text;
      try { detail = ((JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors ?? []).map((e) => `${e.code}: ${e.message}`).join('; ') || text; } catch { /* not JSON */ }
      if (!detail && res.status === 401) detail = 'unauthorized (berth login may be needed)';
      const message = `${method} ${url}: ${res.status} ${detail || res.statusText}`.replace(/\s+/g, ' ').trim();
      if (isRetryableStatus(res.status)) {
        const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
        if (init.retry === false) throw new TransientError(message, { retryAfterMs });
        if (attempt < attempts) {
          const delayMs = backoffDelay(attempt, this.policy, retryAfterMs);
          await waitToRetry({ method, url, attempt, delayMs, reason: `${res.status}` });
          continue;
        }
        throw gaveUp(new BerthError('EREGISTRY', message), attempt);
      }
      throw new BerthError(res.status === 401 || res.status === 403 ? 'EAUTH' : 'EREGISTRY', message);
    }
  }

  /** Checks that the registry speaks the v2 API and accepts our credentials (`berth login`). */
  async ping(): Promise<void> {
    const res = await this.request('GET', '/v2/');
    await res.body?.cancel();
    if (res.status === 404) throw new BerthError('EREGISTRY', `${this.registry} does not serve the registry API at /v2/`);
  }
}
