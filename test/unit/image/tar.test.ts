/** The streaming tar parser and writer: formats, extensions, corruption. */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, symlinkSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { encodeBlock, parsePax, encodePax } from '../../../src/archive/tar/header.js';
import { readTar } from '../../../src/archive/tar/reader.js';
import { fullHeader, tarBuffer } from '../../../src/archive/tar/writer.js';

async function entries(data: Buffer, chunk = 7): Promise<{ name: string; type: string; data: string; linkname: string; mode: number; uid: number; xattrs: Map<string, Buffer> }[]> {
  // feed in small odd-sized chunks so every boundary case of the reader runs
  async function* src(): AsyncGenerator<Buffer> { for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk); }
  const out = [];
  for await (const e of readTar(src())) {
    const parts: Buffer[] = [];
    for await (const c of e.chunks()) parts.push(c);
    out.push({ name: e.header.name, type: e.header.type, data: Buffer.concat(parts).toString(), linkname: e.header.linkname, mode: e.header.mode, uid: e.header.uid, xattrs: e.header.xattrs });
  }
  return out;
}

test('round trip through the writer, including a long name, a big uid and xattrs', async () => {
  const long = `${'d'.repeat(120)}/${'f'.repeat(150)}`;
  const buf = tarBuffer([
    { name: 'a/', type: 'dir', mode: 0o750 },
    { name: 'a/file', type: 'file', data: 'hello', mode: 0o4755 },
    { name: long, type: 'file', data: 'x'.repeat(1000), uid: 3_000_000 },
    { name: 'a/link', type: 'symlink', linkname: 'L'.repeat(200) },
    { name: 'caps', type: 'file', data: '', xattrs: new Map([['security.capability', Buffer.from([1, 0, 0, 2])]]) },
  ]);
  const got = await entries(buf);
  assert.deepEqual(got.map((e) => e.name), ['a/', 'a/file', long, 'a/link', 'caps']);
  assert.equal(got[1]?.mode, 0o4755);
  assert.equal(got[2]?.data.length, 1000);
  assert.equal(got[2]?.uid, 3_000_000);
  assert.equal(got[3]?.linkname, 'L'.repeat(200));
  assert.deepEqual(got[4]?.xattrs.get('security.capability'), Buffer.from([1, 0, 0, 2]));
});

test('reads GNU tar output: long names (gnu format), hardlinks, symlinks, pax', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-test-tar-'));
  try {
    const deep = join(dir, 'src', 'x'.repeat(90), 'y'.repeat(90));
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, 'file'), 'content');
    symlinkSync('file', join(deep, 'sym'));
    execFileSync('ln', [join(deep, 'file'), join(deep, 'hard')]);
    for (const format of ['gnu', 'posix', 'ustar']) {
      const out = join(dir, `${format}.tar`);
      const args = ['--format', format, '--sort=name', '-C', join(dir, 'src'), '-cf', out, '.'];
      try { execFileSync('tar', args, { stdio: 'pipe' }); } catch { assert.equal(format, 'ustar'); continue; } // ustar cannot hold 190-byte names
      const got = await entries(readFileSync(out), 4096);
      const names = got.map((e) => e.name.replace(/^\.\//, ''));
      const base = `${'x'.repeat(90)}/${'y'.repeat(90)}`;
      assert.ok(names.includes(`${base}/file`), `${format}: ${names.join(',')}`);
      const hard = got.find((e) => e.type === 'hardlink');
      const sym = got.find((e) => e.type === 'symlink');
      assert.equal(sym?.linkname, 'file');
      assert.ok(hard && /\/(file|hard)$/.test(hard.linkname), `${format}: hardlink ${hard?.linkname}`);
      assert.equal(got.filter((e) => e.type === 'file' && e.data === 'content').length, 1);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('base-256 numbers are read', async () => {
  const b = encodeBlock({ ...fullHeader({ name: 'big', type: 'file' }) });
  b[108] = 0x80; b.fill(0, 109, 116); b[115] = 0x10; // uid 16 in base-256
  b.fill(0x20, 148, 156);
  let sum = 0; for (const x of b) sum += x;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  const got = await entries(Buffer.concat([b, Buffer.alloc(1024)]));
  assert.equal(got[0]?.uid, 16);
});

test('a bad checksum, a truncated entry and an unsupported type are errors', async () => {
  const good = tarBuffer([{ name: 'f', type: 'file', data: 'x'.repeat(600) }]);
  const bad = Buffer.from(good); bad[0] = 0x41;
  await assert.rejects(entries(bad), /checksum mismatch/);
  await assert.rejects(entries(good.subarray(0, 700)), /unexpected end of archive in tar entry "f"/);
  const sparse = encodeBlock(fullHeader({ name: 'sp', type: 'file' }), 'S');
  await assert.rejects(entries(Buffer.concat([sparse, Buffer.alloc(1024)])), /tar entry "sp": unsupported entry type "S"/);
});

test('pax records round-trip, lengths counting their own digits', () => {
  for (const v of ['x', 'y'.repeat(94), 'z'.repeat(995)]) {
    assert.deepEqual(parsePax(encodePax([['path', v]])).get('path')?.toString(), v);
  }
  assert.throws(() => parsePax(Buffer.from('99 path=x\n')), /malformed record/);
});

test('unread data is skipped and an early end (one zero block, or none) is accepted', async () => {
  const buf = tarBuffer([{ name: 'a', type: 'file', data: 'A'.repeat(3000) }, { name: 'b', type: 'file', data: 'B' }]);
  const names: string[] = [];
  for await (const e of readTar(Readable.from([buf.subarray(0, buf.length - 1024)]))) names.push(e.header.name);
  assert.deepEqual(names, ['a', 'b']);
});
