/**
 * The one declaration of the helper's operations (src/native/ops.ts) against its two other
 * forms: the dispatch table compiled into the helper (`berth-helper --ops`, generated from the
 * declaration by scripts/gen-ops.mjs), and the operations table of native/PROTOCOL.md. Before
 * this, each op lived in three places and a mismatch showed only at run time as "unknown op".
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeOp, OPS, opFields, type Op, type OpName } from '../../src/native/ops.js';
import { repoRoot } from '../support/bundle.js';

const helper = join(repoRoot, 'native/build/berth-helper');

test('the helper was built from the declaration: same ops, sides and field counts', (t) => {
  if (!existsSync(helper)) return t.skip(`${helper} is missing: run npm run build`);
  const compiled = execFileSync(helper, ['--ops'], { encoding: 'utf8' }).trim().split('\n').map((l) => l.split(' '));
  const declared = Object.entries(OPS).map(([name, spec]) => {
    const fixed = spec.fields.filter(([, kind]) => kind !== 'strs');
    const variadic = spec.fields.some(([, kind]) => kind === 'strs' || kind === 'counted');
    const optional = ('optional' in spec ? spec.optional : undefined) ?? 0;
    return [name, spec.side, String(fixed.length - optional), String(variadic ? -1 : fixed.length)];
  });
  assert.deepEqual(compiled, declared);
});

test('native/PROTOCOL.md lists every op, on its side, and no other', () => {
  const text = readFileSync(join(repoRoot, 'native/PROTOCOL.md'), 'utf8');
  const start = text.indexOf('| op | fields | side | meaning |');
  assert.ok(start >= 0, 'PROTOCOL.md has no operations table');
  const lines = text.slice(start).split('\n');
  const rows: [string, string][] = [];
  for (const line of lines.slice(2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
    const side = cells[3] === 'parent or child' ? 'either' : cells[3]!;
    rows.push([cells[1]!.replace(/`/g, ''), side]);
  }
  assert.deepEqual(rows.sort(), Object.entries(OPS).map(([name, spec]) => [name, spec.side]).sort());
});

test('every op goes to the wire in declared order and comes back the same', () => {
  const samples: Op[] = [
    { op: 'mount', source: 'proc', target: '/proc', fstype: 'proc', flags: 14, data: '', mkdir: 'dir', srcflags: '0' },
    { op: 'hook', path: '/h', timeout: 5, args: ['/h', 'a'], env: ['X=1'] },
    { op: 'user', uid: 1000, gid: 1000, additionalGids: [4, 27] },
    { op: 'caps', effective: 0x3n, permitted: 0x3n, inheritable: 0n },
    { op: 'umask', mode: 0o022 },
    { op: 'stdin-fifo', path: '/x/stdin', once: true },
    { op: 'bpf-devices', dir: '/sys/fs/cgroup/x', program: Buffer.from([1, 2, 3]) },
    { op: 'exec', args: ['sh', '-c', 'true'] },
    { op: 'pivot' },
  ];
  assert.deepEqual(opFields(samples[1]!), ['hook', '/h', '5', '2', '/h', 'a', 'X=1']);
  assert.deepEqual(opFields(samples[2]!), ['user', '1000', '1000', '4,27']);
  assert.deepEqual(opFields(samples[4]!), ['umask', '22']);
  for (const o of samples) assert.deepEqual(decodeOp(opFields(o)), o, o.op);
  assert.throws(() => decodeOp(['nope']), /not a helper operation: "nope"/);
  assert.throws(() => opFields({ op: 'setns', type: 'net' } as unknown as Op), /op setns: field path is missing/);
  const names: OpName[] = Object.keys(OPS) as OpName[];
  assert.equal(new Set(names).size, names.length);
});
