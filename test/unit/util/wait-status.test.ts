/**
 * The one decoder of raw wait statuses (src/util/wait-status.ts), which the helper session, the
 * engine's reports and the runtime's error messages all use.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { decodeWaitStatus, exitStatus } from '../../../src/util/wait-status.js';

test('a normal exit decodes to its code, a signal to 128 + the signal', () => {
  assert.deepEqual(decodeWaitStatus(0), { exitCode: 0 });
  assert.deepEqual(decodeWaitStatus(1 << 8), { exitCode: 1 });
  assert.deepEqual(decodeWaitStatus(255 << 8), { exitCode: 255 });
  assert.deepEqual(decodeWaitStatus(9), { exitCode: 137, signal: 9 });
  assert.deepEqual(decodeWaitStatus(0x80 | 11), { exitCode: 139, signal: 11 }); // core dumped
});

test('exitStatus round-trips a code through decodeWaitStatus', () => {
  for (const c of [0, 1, 125, 137, 255]) assert.deepEqual(decodeWaitStatus(exitStatus(c)), { exitCode: c });
});
