/** Docker's restart back-off (its restart manager): 100 ms, doubling, reset by a 10 s run. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { restartDelay } from '../../../src/engine/reap.js';

test('restart back-off: 100 ms first, doubled while runs are short, capped at a minute', () => {
  assert.equal(restartDelay(5, undefined), 100);
  assert.equal(restartDelay(5, 100), 200);
  assert.equal(restartDelay(9_999, 400), 800);
  assert.equal(restartDelay(5, 51_200), 60_000);
  assert.equal(restartDelay(5, 60_000), 60_000);
});

test('restart back-off: a run of 10 s or more resets it to 100 ms', () => {
  assert.equal(restartDelay(10_000, 60_000), 100);
  assert.equal(restartDelay(25_000, 800), 100);
  // and it doubles from there again
  assert.equal(restartDelay(5, restartDelay(10_000, 60_000)), 200);
});
