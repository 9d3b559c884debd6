/**
 * When and how long Berth waits before repeating a registry request.
 *
 * The policy, and why:
 * - 5 attempts in all (the first try and 4 retries), as Docker's `maxDownloadAttempts` and
 *   `maxUploadAttempts`: enough to ride out a registry restart or a load balancer's brief 503s,
 *   few enough that a registry that is really down fails within seconds, not minutes.
 * - Exponential backoff from 250 ms, doubling (250, 500, 1000, 2000 ms: under 4 s of waiting in
 *   all), each delay capped at 10 s. Docker waits 5, 10, 15 … s between layer attempts; that is
 *   long for a CLI the user watches, and a registry answering 503 under load says so with
 *   Retry-After, which is honoured (seconds or an HTTP date), up to the cap — a registry cannot
 *   park a pull for an hour.
 * - Retried: connection failures (refused, reset, a body cut short), 408, 429, 500, 502, 503,
 *   504 and other 5xx. Not retried: other 4xx (404, 401 after the auth challenge, 403, 400 …) —
 *   repeating them cannot change the answer.
 * - A blob whose bytes do not match its digest at the right size is downloaded once more (a
 *   middlebox may have flipped a byte) and then fails: a registry storing corrupt content does not
 *   heal, and downloading a large layer five times to learn that wastes the user's time. (Docker
 *   does not retry it at all.) A body shorter or longer than its descriptor is a transfer error.
 *
 * `BERTH_REGISTRY_BACKOFF_MS=BASE[,MAX]` replaces the 250 ms base and 10 s cap (tests use a few
 * milliseconds); `BERTH_REGISTRY_ATTEMPTS=N` the number of attempts. Every retry is published on
 * the diagnostics channel `berth:registry:retry` ({ method, url, attempt, delayMs, reason }), so
 * tests and tools can count them without parsing output.
 */
import { channel } from 'node:diagnostics_channel';
import { BerthError } from '../../util/errors.js';

/** How often and how long to retry. */
export interface RetryPolicy {
  /** Attempts in all, the first included (>= 1). */
  attempts: number;
  /** The first delay, in ms; each next one doubles. */
  baseMs: number;
  /** The longest delay, Retry-After included, in ms. */
  maxMs: number;
}

/** The default policy, adjusted by BERTH_REGISTRY_BACKOFF_MS and BERTH_REGISTRY_ATTEMPTS of the caller's environment `env`. */
export function retryPolicy(env: Readonly<Record<string, string | undefined>> = {}): RetryPolicy {
  const p: RetryPolicy = { attempts: 5, baseMs: 250, maxMs: 10_000 };
  const b = env.BERTH_REGISTRY_BACKOFF_MS;
  if (b) {
    const m = /^(\d+)(?:,(\d+))?$/.exec(b.trim());
    if (!m) throw new BerthError('EINVALID_ARG', `BERTH_REGISTRY_BACKOFF_MS=${JSON.stringify(b)}: want BASE or BASE,MAX in milliseconds, e.g. 250,10000`);
    p.baseMs = Number(m[1]);
    p.maxMs = m[2] !== undefined ? Number(m[2]) : Math.max(p.baseMs * 40, p.baseMs);
  }
  const a = env.BERTH_REGISTRY_ATTEMPTS;
  if (a) {
    if (!/^\d+$/.test(a.trim()) || Number(a) < 1) throw new BerthError('EINVALID_ARG', `BERTH_REGISTRY_ATTEMPTS=${JSON.stringify(a)}: want a whole number >= 1, e.g. 5`);
    p.attempts = Number(a);
  }
  return p;
}

/**
 * The Retry-After header in ms: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined
 * when absent or unreadable.
 */
export function parseRetryAfter(h: string | null | undefined, now = Date.now()): number | undefined {
  if (!h) return undefined;
  const s = h.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/**
 * The wait before attempt `attempt + 1` after attempt `attempt` (1-based) failed: the
 * exponential backoff, or the registry's Retry-After when longer, capped at `maxMs`.
 * @example backoffDelay(3, { attempts: 5, baseMs: 250, maxMs: 10000 }) // 1000
 */
export function backoffDelay(attempt: number, p: RetryPolicy, retryAfterMs?: number): number {
  const exp = p.baseMs * 2 ** Math.max(0, attempt - 1);
  return Math.min(p.maxMs, Math.max(exp, retryAfterMs ?? 0));
}

/** True for an HTTP status worth repeating the request for. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** What a retry notice carries (published on `berth:registry:retry`). */
export interface RetryNotice {
  method: string;
  url: string;
  /** The attempt that failed (1-based). */
  attempt: number;
  delayMs: number;
  reason: string;
}

const retryChannel = channel('berth:registry:retry');

/** Publishes a retry notice and waits its delay. */
export async function waitToRetry(n: RetryNotice): Promise<void> {
  if (retryChannel.hasSubscribers) retryChannel.publish(n);
  await new Promise((r) => setTimeout(r, n.delayMs));
}

/**
 * A failure worth repeating that the request itself did not repeat (a request sent with
 * `retry: false`, or a body cut short): the caller repeats the larger step — the whole blob
 * download, or the whole upload session — that it belongs to.
 */
export class TransientError extends BerthError {
  /** The registry's Retry-After, in ms, when it sent one. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number | undefined }) {
    super('EREGISTRY', message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** True for a `TransientError`. */
export function isTransient(err: unknown): err is TransientError {
  return err instanceof TransientError;
}

/**
 * Runs `fn(attempt)` until it succeeds, `retryable(err, attempt)` says no, or the policy's
 * attempts are used up; calls `onRetry` and waits the backoff between attempts. The last error is thrown, its
 * message saying how many attempts were made when more than one.
 */
export async function withRetries<T>(p: RetryPolicy, what: { method: string; url: string }, fn: (attempt: number) => Promise<T>, retryable: (err: unknown, attempt: number) => boolean = isTransient, onRetry?: (err: unknown) => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!retryable(err, attempt)) throw err;
      if (attempt >= p.attempts) throw gaveUp(err, attempt);
      onRetry?.(err);
      await waitToRetry({ ...what, attempt, delayMs: backoffDelay(attempt, p, isTransient(err) ? err.retryAfterMs : undefined), reason: (err as Error).message });
    }
  }
}

/** `err` with " (gave up after N attempts)" added to its message (a BerthError keeps its code). */
export function gaveUp(err: unknown, attempts: number): unknown {
  if (attempts <= 1 || !(err instanceof BerthError)) return err;
  return new BerthError(err.code, `${err.message} (gave up after ${attempts} attempts)`, { cause: err.cause ?? err });
}
