/**
 * The first message of a runtime-server client (src/server/connection.ts, native/PROTOCOL.md
 * "The runtime server" and "Engine requests"): berth-runtime's "request" and berth's "engine",
 * with garbage refused rather than half-read.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRequest } from '../../../src/server/connection.js';

test('a berth-runtime request: cwd, pid, argv', () => {
  assert.deepEqual(parseRequest(['request', '/work', '42', '--root', '/r', 'state', 'c1']), { cwd: '/work', pid: 42, argv: ['--root', '/r', 'state', 'c1'] });
});

test('an engine request: umask, terminals, size, argv counted, then the environment', () => {
  const r = parseRequest(['engine', '/home/u', '7', '22', '011', '120', '40', '3', 'run', '--rm', 'x=y', 'PATH=/bin', 'A=b=c']);
  assert.deepEqual(r, {
    cwd: '/home/u', pid: 7, argv: ['run', '--rm', 'x=y'],
    engine: { umask: 0o22, ttys: [false, true, true], columns: 120, rows: 40, env: ['PATH=/bin', 'A=b=c'] },
  });
  assert.deepEqual(parseRequest(['engine', '/', '1', '0', '000', '0', '0', '0'])?.argv, []);
});

test('garbage is refused', () => {
  for (const bad of [
    ['request', 'relative', '1'],
    ['request', '/', 'x'],
    ['other', '/', '1'],
    ['engine', '/', '1', '9', '000', '0', '0', '0'],      // umask not octal
    ['engine', '/', '1', '22', '01', '0', '0', '0'],      // ttys not three flags
    ['engine', '/', '1', '22', '000', '0', '0', '2', 'run'], // fewer args than counted
    ['engine', '/', '1', '22', '000', '0', '0', '-1'],
  ]) assert.equal(parseRequest(bad), undefined, JSON.stringify(bad));
});
