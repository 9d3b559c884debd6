/** Docker's detach key format and escape filter (src/engine/detach-keys.ts). */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { DetachFilter, parseDetachKeys } from '../../../src/engine/detach-keys.js';

test('detach keys: ctrl-<value> and single characters, as Docker parses them', () => {
  assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [0x10, 0x11]);
  assert.deepEqual([...parseDetachKeys('ctrl-a,x')], [0x01, 0x78]);
  assert.deepEqual([...parseDetachKeys('ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_')], [0, 27, 28, 29, 30, 31]);
  assert.throws(() => parseDetachKeys('ctrl-zz'), /invalid detach keys "ctrl-zz": unknown key "ctrl-zz"/);
  assert.throws(() => parseDetachKeys(''), /invalid detach keys/);
});

test('detach filter: a partial match is held back and passed on when broken; the full one detaches', () => {
  const f = new DetachFilter(Buffer.from([0x10, 0x11]));
  assert.deepEqual(f.push(Buffer.from('ab\x10')), { pass: Buffer.from('ab'), detach: false });
  assert.deepEqual(f.push(Buffer.from('c')), { pass: Buffer.from('\x10c'), detach: false });
  assert.deepEqual(f.push(Buffer.from('\x10\x10')), { pass: Buffer.from('\x10'), detach: false });
  assert.deepEqual(f.push(Buffer.from('\x11tail')), { pass: Buffer.from(''), detach: true });
});
