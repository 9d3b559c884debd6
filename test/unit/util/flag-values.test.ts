/**
 * The one set of flag accessors (src/util/flag-values.ts), used by both command lines and by the
 * engine's `docker run` flags: a value of another type reads as absent.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { bool, int, intText, list, str } from '../../../src/util/flag-values.js';

const p = { flags: { name: 'c1', rm: true, proxy: false, cpus: 2, env: ['A=1', 'B=2'], quota: '-1', bad: '1.5' } };

test('each accessor reads its own type and nothing else', () => {
  assert.equal(str(p, 'name'), 'c1');
  assert.equal(str(p, 'rm'), undefined);
  assert.equal(bool(p, 'rm'), true);
  assert.equal(bool(p, 'name'), false);
  assert.equal(bool(p, 'missing'), false);
  assert.equal(bool(p, 'missing', true), true);
  assert.equal(bool(p, 'proxy', true), false);
  assert.equal(int(p, 'cpus'), 2);
  assert.equal(int(p, 'name'), undefined);
  assert.deepEqual(list(p, 'env'), ['A=1', 'B=2']);
  assert.deepEqual(list(p, 'missing'), []);
});

test('intText reads a string flag as an integer and names a bad one', () => {
  assert.equal(intText(p, 'quota'), -1);
  assert.equal(intText(p, 'missing'), undefined);
  assert.throws(() => intText(p, 'bad'), /invalid value "1.5" for --bad: must be an integer/);
});
