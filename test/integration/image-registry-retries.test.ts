/**
 * Retries of pull and push against a real registry (Debian's docker-registry on loopback) behind
 * a fault-injecting proxy (test/support/registry-proxy.ts): 503 and 429 (with Retry-After) for
 * the first requests, a connection reset half-way through a blob, a body cut short, a corrupted
 * body, a registry that always fails, 404 and 401; a token server answering 503 and 429.
 * Attempts are counted by the proxy and retry delays read from the `berth:registry:retry`
 * diagnostics channel; the backoff is shrunk with BERTH_REGISTRY_BACKOFF_MS, so nothing here
 * depends on timing. Also: the three layers of an image are downloaded at once (the proxy sees
 * three blob requests in flight together).
 */
import * as assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { listImages, load, pull, push, resolveImage } from '../../src/image/index.js';
import { retryPolicy, type RetryNotice } from '../../src/image/registry/retry.js';
import { processTag, whyNotRoot } from '../support/bundle.js';
import { startRegistry, whyNoRegistry, type TestRegistry } from '../support/registry.js';
import { startProxy, type FaultProxy } from '../support/registry-proxy.js';
import { startTokenServer } from '../support/token-server.js';
import { saveCredentials } from '../../src/image/registry/credentials.js';
import { writeThreeLayerImage } from '../fixtures/image/build.js';
import { BerthCli } from './engine-cli.js';

const skip = whyNotRoot() ?? whyNoRegistry();
const noOpenssl = existsSync('/usr/bin/openssl') ? undefined : 'openssl not installed (apt-get install openssl)';
// backoff 2 ms doubling, each wait at most 50 ms (Retry-After included): five attempts take
// well under a second, and a Retry-After that is honoured shows as a 50 ms wait
// (in-process calls take it as an option; BerthCli's commands from their environment)
process.env.BERTH_REGISTRY_BACKOFF_MS = '2,50';
const retry = retryPolicy({ BERTH_REGISTRY_BACKOFF_MS: '2,50' });

describe('registry retries', { skip }, () => {
  let reg: TestRegistry;
  let proxy: FaultProxy;
  let work: string;
  let layers: string[];
  let config: string;
  let n = 0;
  let root: string;
  const notices: RetryNotice[] = [];
  const onRetry = (m: unknown): void => { notices.push(m as RetryNotice); };
  /** The image's name through the proxy. */
  const ref = (): string => `${proxy.host}/berth-test/three:v1`;
  /** True when the store below `r` holds no temporary file and no image. */
  async function storeIsClean(r: string): Promise<void> {
    const dir = join(r, 'blobs', 'sha256');
    assert.deepEqual((existsSync(dir) ? readdirSync(dir) : []).filter((f) => f.startsWith('.tmp')), []);
    assert.deepEqual(await listImages({ root: r }), []);
  }

  before(async () => {
    reg = await startRegistry();
    proxy = await startProxy(reg.host);
    work = await mkdtemp(join(tmpdir(), `${processTag()}-retries-`));
    const name = `${reg.host}/berth-test/three:v1`;
    await writeThreeLayerImage(join(work, 'layout'), name);
    await load(join(work, 'layout'), { root: join(work, 'src') });
    await push(name, { retry, root: join(work, 'src') });
    const img = await resolveImage(name, { root: join(work, 'src') });
    layers = img.layers.map((l) => l.digest);
    config = img.id;
    subscribe('berth:registry:retry', onRetry);
  });
  beforeEach(() => {
    proxy.reset();
    notices.length = 0;
    root = join(work, `data-${++n}`);
  });
  after(async () => {
    unsubscribe('berth:registry:retry', onRetry);
    await proxy?.stop();
    await reg?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('the three layers download at once', async () => {
    proxy.holdBlobs(layers, 3);
    const img = await pull(ref(), { retry, root });
    assert.equal(img.layers.length, 3);
    assert.equal(proxy.maxBlobsInFlight, 3, 'three layer requests in flight together');
    for (const l of layers) assert.equal(proxy.count('GET', `/blobs/${l}`), 1);
  });

  test('503 and 429 for the first requests are retried with backoff, Retry-After honoured', async () => {
    proxy.reset([
      { method: 'GET', path: '/manifests/', times: 2, fault: { status: 503 } },
      { method: 'GET', path: `/blobs/${config}`, times: 1, fault: { status: 429, retryAfter: '30' } },
      { method: 'GET', path: `/blobs/${layers[0]}`, times: 3, fault: { status: 502 } },
    ]);
    const img = await pull(ref(), { retry, root });
    assert.equal(img.id, config);
    assert.equal(proxy.count('GET', '/manifests/v1'), 3);
    assert.equal(proxy.count('GET', `/blobs/${config}`), 2);
    assert.equal(proxy.count('GET', `/blobs/${layers[0]}`), 4);
    const delays = (what: string): number[] => notices.filter((x) => x.url.endsWith(what)).map((x) => x.delayMs);
    assert.deepEqual(delays('/manifests/v1'), [2, 4]); // exponential
    assert.deepEqual(delays(`/blobs/${layers[0]}`), [2, 4, 8]);
    assert.deepEqual(delays(`/blobs/${config}`), [50]); // Retry-After: 30, capped at the maximum
  });

  test('a connection reset half-way through a manifest or a blob, or a body cut short, fetches it again', async () => {
    proxy.reset([
      { method: 'GET', path: '/manifests/', times: 1, fault: { reset: true } },
      { method: 'GET', path: `/blobs/${layers[0]}`, times: 2, fault: { reset: true } },
      { method: 'GET', path: `/blobs/${layers[1]}`, times: 1, fault: { truncate: true } },
    ]);
    const events: string[] = [];
    const img = await pull(ref(), { retry, root, progress: (e) => events.push(`${e.id}:${e.action}`) });
    assert.equal(img.layers.length, 3);
    assert.equal(proxy.count('GET', '/manifests/v1'), 2);
    assert.equal(proxy.count('GET', `/blobs/${layers[0]}`), 3);
    assert.equal(proxy.count('GET', `/blobs/${layers[1]}`), 2);
    assert.equal(events.filter((e) => e === `${layers[0]?.slice(7, 19)}:retrying`).length, 2);
    const reasons = notices.map((x) => x.reason).join(' | ');
    assert.match(reasons, new RegExp(`blob ${layers[0]}: connection lost after \\d+ of \\d+ bytes`));
    assert.match(reasons, new RegExp(`blob ${layers[1]}: the registry sent \\d+ of its \\d+ bytes`));
    assert.match(reasons, /manifest v1: connection lost while reading/);
  });

  test('a registry that always fails gives a clear error after five attempts', async () => {
    proxy.reset([{ fault: { status: 503 } }]);
    await assert.rejects(pull(ref(), { retry, root }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'EREGISTRY');
      assert.match(err.message, /^GET http:\/\/127\.0\.0\.1:\d+\/v2\/berth-test\/three\/manifests\/v1: 503 UNAVAILABLE: injected 503 \(gave up after 5 attempts\)$/);
      return true;
    });
    assert.equal(proxy.seen.length, 5);
    await storeIsClean(root);
    // through the CLI too: one line on stderr
    const cli = new BerthCli('retries-cli');
    try {
      proxy.reset([{ fault: { status: 503 } }]);
      const r = await cli.exec(['pull', ref()]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /^berth: .*manifests\/v1: 503 .*\(gave up after 5 attempts\)\n$/);
      assert.equal(proxy.seen.length, 5);
      // a blob that keeps failing: its own five attempts, the other layers are fine
      proxy.reset([{ method: 'GET', path: `/blobs/${layers[2]}`, fault: { reset: true } }]);
      const r2 = await cli.exec(['pull', ref()]);
      assert.notEqual(r2.code, 0);
      assert.match(r2.stderr, new RegExp(`blob ${layers[2]}: connection lost .*\\(gave up after 5 attempts\\)`));
      assert.equal(proxy.count('GET', `/blobs/${layers[2]}`), 5);
      assert.equal((await cli.exec(['images', '-q'])).stdout, '');
    } finally {
      await cli.cleanup();
    }
  });

  test('404, 401 and 403 are not retried', async () => {
    for (const status of [404, 401, 403]) {
      proxy.reset([{ method: 'GET', path: '/manifests/', fault: { status } }]);
      await assert.rejects(pull(ref(), { retry, root }), status === 404 ? /manifest .* not found/ : new RegExp(`: ${status} `));
      assert.equal(proxy.seen.length, 1, `${status}: ${JSON.stringify(proxy.seen)}`);
    }
    proxy.reset([{ method: 'GET', path: `/blobs/${layers[1]}`, fault: { status: 404 } }]);
    await assert.rejects(pull(ref(), { retry, root }), new RegExp(`blob ${layers[1]} not found`));
    assert.equal(proxy.count('GET', `/blobs/${layers[1]}`), 1);
    assert.deepEqual(notices, []);
    await storeIsClean(root);
  });

  test('a blob whose content does not match its digest is fetched once more, then fails, and is not stored', async () => {
    const bad = layers[1] as string;
    proxy.reset([{ method: 'GET', path: `/blobs/${bad}`, fault: { corrupt: true } }]);
    await assert.rejects(pull(ref(), { retry, root }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'EDIGEST_MISMATCH');
      assert.match(err.message, new RegExp(`^blob ${bad}: content has digest sha256:[a-f0-9]{64}`));
      return true;
    });
    assert.equal(proxy.count('GET', `/blobs/${bad}`), 2);
    assert.equal(existsSync(join(root, 'blobs', 'sha256', bad.slice(7))), false);
    await storeIsClean(root);
    // once only: a good second copy is accepted
    proxy.reset([{ method: 'GET', path: `/blobs/${bad}`, times: 1, fault: { corrupt: true } }]);
    const img = await pull(ref(), { retry, root });
    assert.equal(img.id, config);
    assert.equal(proxy.count('GET', `/blobs/${bad}`), 2);
  });

  test('push retries 5xx: the upload session is started over, HEAD and the manifest PUT repeated', async () => {
    const src = join(work, 'src');
    const target = `${proxy.host}/berth-test/pushed:v1`;
    proxy.reset([
      { method: 'HEAD', path: `/blobs/${layers[0]}`, times: 1, fault: { status: 503 } },
      { method: 'POST', path: '/blobs/uploads/', times: 2, fault: { status: 503 } },
      { method: 'PUT', path: `digest=${encodeURIComponent(layers[1] as string)}`, times: 1, fault: { status: 500 } },
      { method: 'PATCH', path: '/blobs/uploads/', times: 1, fault: { status: 502 } },
      { method: 'PUT', path: '/manifests/v1', times: 1, fault: { status: 503 } },
    ]);
    // 256 KiB chunks: the busybox layer goes in PATCHes, the small ones whole
    const pushed = await push(`${reg.host}/berth-test/three:v1`, { retry, root: src, as: target, chunkSize: 256 << 10 });
    assert.equal(pushed.uploaded.length, 4);
    assert.equal(proxy.count('PUT', '/manifests/v1'), 2);
    assert.equal(proxy.count('POST', '/blobs/uploads/'), 4 + 2 + 1 + 1); // 4 blobs, 2 refused, restarts after the PUT and the PATCH
    assert.ok(notices.length >= 6, JSON.stringify(notices));
    // what the registry has is the image
    const img = await pull(`${reg.host}/berth-test/pushed:v1`, { retry, root });
    assert.equal(img.id, config);
  });

  test('push to a registry that always fails stops after five attempts', async () => {
    proxy.reset([{ method: 'POST', fault: { status: 503 } }]);
    await assert.rejects(push(`${reg.host}/berth-test/three:v1`, { retry, root: join(work, 'src'), as: `${proxy.host}/berth-test/down:v1` }), /503 .*\(gave up after 5 attempts\)/);
    // the three layers go at once, five attempts each; the config is not tried
    assert.equal(proxy.count('POST', '/blobs/uploads/'), 15);
    assert.equal(proxy.count('PUT', '/manifests/'), 0);
  });
});

describe('token server retries', { skip: skip ?? noOpenssl }, () => {
  test('a token server answering 503, then 429 with Retry-After, is retried; 401 is not', async () => {
    const work = await mkdtemp(join(tmpdir(), `${processTag()}-token-retries-`));
    const tokens = await startTokenServer(work, { bob: 'hunter2' });
    const tproxy = await startProxy(new URL(tokens.realm).host);
    const reg = await startRegistry({ token: { ...tokens, realm: `http://${tproxy.host}/token` } });
    const notices: RetryNotice[] = [];
    const onRetry = (m: unknown): void => { notices.push(m as RetryNotice); };
    subscribe('berth:registry:retry', onRetry);
    try {
      const name = `${reg.host}/berth-test/three:v1`;
      await writeThreeLayerImage(join(work, 'layout'), name);
      await load(join(work, 'layout'), { root: join(work, 'src') });
      const configDir = join(work, 'cfg');
      await saveCredentials(reg.host, { username: 'bob', password: 'hunter2' }, configDir);
      tproxy.reset([{ path: '/token', times: 2, fault: { status: 503 } }, { path: '/token', times: 1, fault: { status: 429, retryAfter: '1' } }]);
      const pushed = await push(name, { retry, root: join(work, 'src'), configDir });
      assert.equal(pushed.uploaded.length, 4);
      assert.ok(tproxy.count('GET', '/token') >= 4, JSON.stringify(tproxy.seen));
      // three layers start at once, each meeting the challenge: their token requests interleave
      const t = notices.filter((x) => x.url.includes('/token'));
      assert.deepEqual(t.map((x) => x.reason.replace(/.* answered /, '')).sort(), ['429', '503', '503']);
      assert.equal(t.find((x) => x.reason.endsWith('429'))?.delayMs, 50); // Retry-After: 1, capped
      // refused credentials: one token request, no retry
      await saveCredentials(reg.host, { username: 'bob', password: 'nope' }, configDir);
      tproxy.reset();
      await assert.rejects(pull(name, { retry, root: join(work, 'data'), configDir }), /authentication failed \(token server said 401\)/);
      assert.equal(tproxy.count('GET', '/token'), 1);
    } finally {
      unsubscribe('berth:registry:retry', onRetry);
      await reg.stop();
      await tproxy.stop();
      await tokens.stop();
      await rm(work, { recursive: true, force: true });
    }
  });
});
