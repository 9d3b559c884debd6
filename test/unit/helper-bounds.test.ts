/**
 * Issue 10's bounds, without a kernel: a helper that sends nothing fails `expect` after its bound,
 * `abort` (delete --force from another request of the same server) fails a pending wait, the
 * "ready" bound counts the createContainer hooks, and a lock held past its wait is ELOCKED,
 * naming the lock and its owner.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { HELPER_WAIT_MS, HelperSession } from '../../src/native/helper-session.js';
import { HOOK_WITHOUT_TIMEOUT_MS, readyWaitMs } from '../../src/runtime/hooks.js';
import { abortLockHolder, lockDirAsync, onLockAbort } from '../../src/util/lock.js';
import { MessageDecoder } from '../../src/native/protocol.js';
import { BerthError } from '../../src/util/errors.js';

/** A session over a connection whose far end never answers (a stopped client). */
function silentSession(): HelperSession {
  const socket = new Duplex({ read() {}, write(_c, _e, cb) { cb(); } });
  return new HelperSession({ socket: socket as unknown as Socket, decoder: new MessageDecoder(), preserveFds: 0 });
}

describe('helper waits are bounded (issue 10)', () => {
  it('expect fails after its bound, naming the message and the time', async () => {
    await assert.rejects(silentSession().expect('pid', 30), (err: BerthError) =>
      err.code === 'EHELPER' && /no "pid" from the container's helper within 0\.03 s/.test(err.message));
  });

  it('abort fails the pending wait and every later one with its error', async () => {
    const s = silentSession();
    const pending = s.expect('ready', 10_000);
    const err = new BerthError('EBAD_STATE', 'container x was removed by delete --force while it was being created');
    s.abort(err);
    await assert.rejects(pending, err);
    await assert.rejects(s.expect('ready', 10_000), err);
  });

  it('the "ready" bound adds each createContainer hook\'s timeout (a long one for a hook without)', () => {
    assert.equal(readyWaitMs(undefined), HELPER_WAIT_MS);
    assert.equal(readyWaitMs([{ timeout: 5 }, {}]), HELPER_WAIT_MS + 5000 + HOOK_WITHOUT_TIMEOUT_MS);
  });
});

describe('container lock', () => {
  it('a lock held by a live owner past the wait is ELOCKED, naming the lock and its owner', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-unit-lock-'));
    try {
      const release = await lockDirAsync(dir);
      await assert.rejects(lockDirAsync(dir, 20), (err: BerthError) =>
        err.code === 'ELOCKED' && err.message.includes(join(dir, 'lock')) && err.message.includes(`held by pid ${process.pid}`));
      release();
      (await lockDirAsync(dir, 20))();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('abortLockHolder reaches the command of this process that registered, until it unregisters', () => {
    let calls = 0;
    const unregister = onLockAbort('/run/x/c1', () => { calls++; });
    abortLockHolder('/run/x/c1');
    abortLockHolder('/run/x/other');
    unregister();
    abortLockHolder('/run/x/c1');
    assert.equal(calls, 1);
  });
});
