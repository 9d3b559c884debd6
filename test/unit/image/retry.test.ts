/** The registry retry policy: backoff, Retry-After, which statuses retry, the env overrides. */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError } from '../../../src/util/errors.js';
import { TransientError, backoffDelay, isRetryableStatus, parseRetryAfter, retryPolicy, withRetries } from '../../../src/image/registry/retry.js';

test('the default policy is five attempts, 250 ms doubling, 10 s cap', () => {
  const p = retryPolicy({});
  assert.deepEqual(p, { attempts: 5, baseMs: 250, maxMs: 10_000 });
  assert.deepEqual([1, 2, 3, 4].map((a) => backoffDelay(a, p)), [250, 500, 1000, 2000]);
  assert.equal(backoffDelay(10, p), 10_000);
});

test('Retry-After wins when longer than the backoff, up to the cap', () => {
  const p = retryPolicy({});
  assert.equal(backoffDelay(1, p, 3000), 3000);
  assert.equal(backoffDelay(3, p, 100), 1000);
  assert.equal(backoffDelay(1, p, 3_600_000), 10_000);
  assert.equal(parseRetryAfter('7'), 7000);
  assert.equal(parseRetryAfter(new Date(60_000).toUTCString(), 30_000), 30_000);
  assert.equal(parseRetryAfter(new Date(0).toUTCString(), 30_000), 0);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter(null), undefined);
});

test('only 408, 429 and 5xx are retryable statuses', () => {
  for (const s of [408, 429, 500, 502, 503, 504]) assert.equal(isRetryableStatus(s), true, String(s));
  for (const s of [400, 401, 403, 404, 405, 416]) assert.equal(isRetryableStatus(s), false, String(s));
});

test('BERTH_REGISTRY_BACKOFF_MS and BERTH_REGISTRY_ATTEMPTS adjust the policy, and bad values are named', () => {
  assert.deepEqual(retryPolicy({ BERTH_REGISTRY_BACKOFF_MS: '2,50' }), { attempts: 5, baseMs: 2, maxMs: 50 });
  assert.deepEqual(retryPolicy({ BERTH_REGISTRY_BACKOFF_MS: '10' }), { attempts: 5, baseMs: 10, maxMs: 400 });
  assert.deepEqual(retryPolicy({ BERTH_REGISTRY_ATTEMPTS: '2' }), { attempts: 2, baseMs: 250, maxMs: 10_000 });
  assert.throws(() => retryPolicy({ BERTH_REGISTRY_BACKOFF_MS: 'fast' }), /BERTH_REGISTRY_BACKOFF_MS="fast": want BASE or BASE,MAX/);
  assert.throws(() => retryPolicy({ BERTH_REGISTRY_ATTEMPTS: '0' }), /BERTH_REGISTRY_ATTEMPTS="0": want a whole number >= 1/);
});

test('withRetries repeats transient failures only, and says how many attempts it made', async () => {
  const p = { attempts: 3, baseMs: 0, maxMs: 0 };
  const what = { method: 'GET', url: 'x' };
  let n = 0;
  assert.equal(await withRetries(p, what, async () => { if (++n < 3) throw new TransientError('flaky'); return 'ok'; }), 'ok');
  assert.equal(n, 3);
  n = 0;
  await assert.rejects(withRetries(p, what, async () => { n++; throw new TransientError('down'); }), (e: BerthError) => e.code === 'EREGISTRY' && e.message === 'down (gave up after 3 attempts)');
  assert.equal(n, 3);
  n = 0;
  await assert.rejects(withRetries(p, what, async () => { n++; throw new BerthError('ENOT_FOUND', 'gone'); }), /^BerthError: gone$/);
  assert.equal(n, 1);
});
