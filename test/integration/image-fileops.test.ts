/**
 * `berth-helper fileops` (native/fileops.c): mknod and lsetxattr for the layer unpacker, one
 * process answering one message per operation. Driven directly (answers, errors that name the op
 * and the path, EOF ends it with 0) and through the unpacker on a worker thread, where a layer
 * full of whiteouts, devices and xattrs must come out as on the main thread.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstatSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { helperPath } from '../../src/native/helper-path.js';
import { encodeMessage, MessageDecoder, type Field } from '../../src/native/protocol.js';
import { sha256 } from '../../src/archive/digest.js';
import { tarBuffer, type MemoryEntry } from '../../src/archive/tar/writer.js';
import { LayerStore } from '../../src/storage/layers.js';
import { processTag, whyNotRoot } from '../support/bundle.js';

const skip = whyNotRoot();

/** Runs one fileops process over `ops`; returns its answers as strings and its exit status. */
function fileops(ops: Field[][]): { answers: string[][]; status: number | null; stderr: string } {
  const r = spawnSync(helperPath(), ['fileops'], { input: Buffer.concat(ops.map((o) => encodeMessage(o))), timeout: 10_000 });
  const answers = new MessageDecoder().push(r.stdout).map((m) => m.map((f) => f.toString()));
  return { answers, status: r.status, stderr: r.stderr.toString() };
}

/** The value of xattr `name` on `path` itself, via getfattr (attr package) when present. */
function getXattr(path: string, name: string): string | undefined {
  const r = spawnSync('getfattr', ['-h', '--absolute-names', '--only-values', '-n', name, path], { encoding: 'latin1' });
  return r.status === 0 ? r.stdout : undefined;
}

describe('berth-helper fileops', { skip }, () => {
  let work: string;
  before(async () => { work = await mkdtemp(join(tmpdir(), `${processTag()}-fileops-`)); });
  after(async () => { await rm(work, { recursive: true, force: true }); });

  test('mknod and setxattr answer ok, exact modes, on the symlink itself; EOF exits 0', () => {
    writeFileSync(join(work, 'file'), 'x');
    symlinkSync('file', join(work, 'link'));
    const value = Buffer.from([0, 1, 2, 0xff]);
    const r = fileops([
      ['mknod', join(work, 'wh'), 'c', '0', '0', '0'],
      ['mknod', join(work, 'null'), 'c', '4666', '1', '3'],
      ['mknod', join(work, 'fifo'), 'p', '640', '0', '0'],
      ['setxattr', join(work, 'file'), 'user.bin', value],
      ['setxattr', join(work, 'link'), 'trusted.berth', 'on-link'],
    ]);
    assert.deepEqual(r.answers, [['ok'], ['ok'], ['ok'], ['ok'], ['ok']], r.stderr);
    assert.equal(r.status, 0);
    const wh = lstatSync(join(work, 'wh'));
    assert.ok(wh.isCharacterDevice() && wh.rdev === 0 && (wh.mode & 0o7777) === 0);
    const nul = lstatSync(join(work, 'null'));
    assert.ok(nul.isCharacterDevice() && nul.rdev === 0x103);
    assert.equal(nul.mode & 0o7777, 0o4666, 'mode exactly as asked: no umask, setuid kept');
    assert.ok(lstatSync(join(work, 'fifo')).isFIFO());
    assert.equal(lstatSync(join(work, 'fifo')).mode & 0o7777, 0o640);
    const got = getXattr(join(work, 'file'), 'user.bin');
    if (got !== undefined) {
      assert.deepEqual(Buffer.from(got, 'latin1'), value);
      assert.equal(getXattr(join(work, 'link'), 'trusted.berth'), 'on-link');
      assert.equal(getXattr(join(work, 'file'), 'trusted.berth'), undefined, 'the symlink was not followed');
    }
  });

  test('a failed op is answered with the op and the path, and the next op still runs', () => {
    const r = fileops([
      ['mknod', join(work, 'file'), 'c', '0', '0', '0'], // exists (first test)
      ['setxattr', join(work, 'missing'), 'user.a', 'v'],
      ['mknod', join(work, 'x'), 'q', '0', '0', '0'],
      ['mknod', join(work, 'y'), 'c', 'nine'],
      ['frobnicate', '/'],
      ['mknod', join(work, 'after'), 'p', '600', '0', '0'],
    ]);
    assert.equal(r.status, 0);
    assert.deepEqual(r.answers.map((a) => a[0]), ['error', 'error', 'error', 'error', 'error', 'ok']);
    assert.equal(r.answers[0]![1], `mknod ${join(work, 'file')}: File exists`);
    assert.equal(r.answers[1]![1], `setxattr user.a on ${join(work, 'missing')}: No such file or directory`);
    assert.match(r.answers[2]![1]!, /^mknod \(type must be c, b or p\) .*\/x: Invalid argument$/);
    assert.match(r.answers[3]![1]!, /^mknod: want <path>/);
    assert.match(r.answers[4]![1]!, /^unknown op frobnicate/);
  });

  test('whiteouts, devices and xattrs unpack the same on a worker thread', async () => {
    const special: MemoryEntry[] = [{ name: 'd/', type: 'dir', mode: 0o755 }];
    for (let i = 0; i < 50; i++) special.push({ name: `d/.wh.gone${i}`, type: 'file' });
    special.push({ name: 'o/', type: 'dir', mode: 0o755 }, { name: 'o/.wh..wh..opq', type: 'file' });
    special.push({ name: 'dev/', type: 'dir', mode: 0o755 }, { name: 'dev/null', type: 'chardev', devmajor: 1, devminor: 3, mode: 0o666 });
    special.push({ name: 'cap', type: 'file', data: 'x', xattrs: new Map([['user.note', Buffer.from('hi')]]) });
    const bulk: MemoryEntry[] = [{ name: 'bulk/', type: 'dir', mode: 0o755 }];
    for (let i = 0; i < 400; i++) bulk.push({ name: `bulk/f${i}`, type: 'file', data: `${i}\n` });
    const tars = [tarBuffer(bulk), tarBuffer(special)];
    const store = new LayerStore(join(work, 'store'));
    const paths = await Promise.all(tars.map(async (t, i) => { const p = join(work, `blob${i}`); await writeFile(p, gzipSync(t)); return p; }));
    // the first runs on the main thread, the second starts meanwhile and goes to a worker
    const [, dir] = await Promise.all(tars.map((t, i) => store.ensure(paths[i]!, sha256(t), `layer ${i}`)));
    const names = readdirSync(join(dir!, 'd'));
    assert.equal(names.length, 50);
    for (const n of names) assert.ok(lstatSync(join(dir!, 'd', n)).isCharacterDevice(), `${n} is a whiteout`);
    assert.equal(getXattr(join(dir!, 'o'), 'trusted.overlay.opaque') ?? 'y', 'y');
    assert.equal(lstatSync(join(dir!, 'dev/null')).rdev, 0x103);
    assert.equal(getXattr(join(dir!, 'cap'), 'user.note') ?? 'hi', 'hi');
  });
});
