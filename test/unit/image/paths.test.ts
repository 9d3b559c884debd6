/** Entry-path checks, whiteout naming, references and platform selection. */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyWhiteout, normalizeEntryPath } from '../../../src/archive/entry-path.js';
import { familiarName, formatReference, parseReference } from '../../../src/image/reference.js';
import { parsePlatform, selectPlatform, MT, type Index } from '../../../src/image/manifest.js';
import { detectCompression } from '../../../src/archive/compress.js';
import { containerDefaults } from '../../../src/image/config.js';
import { sha256 } from '../../../src/archive/digest.js';

test('entry paths are normalised; absolute, .. and NUL are refused naming the entry', () => {
  assert.equal(normalizeEntryPath('./a//b/'), 'a/b');
  assert.equal(normalizeEntryPath('./'), '');
  assert.throws(() => normalizeEntryPath('/etc/passwd'), /layer entry "\/etc\/passwd": absolute path/);
  assert.throws(() => normalizeEntryPath('a/../../x'), /layer entry "a\/..\/..\/x": path contains '..'/);
  assert.throws(() => normalizeEntryPath('a\0b'), /NUL/);
});

test('whiteouts: file, opaque marker, AUFS metadata', () => {
  assert.deepEqual(classifyWhiteout('a/b/.wh.c'), { kind: 'whiteout', target: 'a/b/c' });
  assert.deepEqual(classifyWhiteout('.wh.top'), { kind: 'whiteout', target: 'top' });
  assert.deepEqual(classifyWhiteout('d/.wh..wh..opq'), { kind: 'opaque', dir: 'd' });
  assert.deepEqual(classifyWhiteout('.wh..wh.plnk/1'), { kind: 'none' });
  assert.deepEqual(classifyWhiteout('.wh..wh.aufs'), { kind: 'meta' });
  assert.deepEqual(classifyWhiteout('a/normal'), { kind: 'none' });
  assert.throws(() => classifyWhiteout('a/.wh...'), /whiteout of an invalid name/);
});

test('references normalise like Docker', () => {
  assert.equal(formatReference(parseReference('busybox')), 'docker.io/library/busybox:latest');
  assert.equal(formatReference(parseReference('127.0.0.1:5000/a/b:v1')), '127.0.0.1:5000/a/b:v1');
  assert.equal(formatReference(parseReference('localhost/x')), 'localhost/x:latest');
  const d = sha256('x');
  assert.deepEqual(parseReference(`app@${d}`), { registry: 'docker.io', repository: 'library/app', digest: d });
  assert.equal(familiarName(parseReference('docker.io/library/busybox:1')), 'busybox:1');
  assert.throws(() => parseReference('Busybox'), /repository component "Busybox" is invalid/);
  assert.throws(() => parseReference('a@sha256:12'), /not a sha256 digest/);
});

test('platform selection picks os/arch/variant and lists what is offered', () => {
  const desc = (architecture: string, variant?: string) => ({ mediaType: MT.ociManifest, digest: sha256(architecture + (variant ?? '')), size: 1, platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) } });
  const index: Index = { schemaVersion: 2, mediaType: MT.ociIndex, manifests: [desc('amd64'), desc('arm', 'v7'), desc('arm64', 'v8')] };
  assert.equal(selectPlatform(index, { os: 'linux', architecture: 'amd64' }, 'x').digest, sha256('amd64'));
  assert.equal(selectPlatform(index, { os: 'linux', architecture: 'arm64' }, 'x').digest, sha256('arm64v8'));
  assert.equal(selectPlatform(index, { os: 'linux', architecture: 'arm', variant: 'v7' }, 'x').digest, sha256('armv7'));
  assert.throws(() => selectPlatform(index, { os: 'linux', architecture: 's390x' }, 'img'), /img has no image for linux\/s390x \(it has: linux\/amd64, linux\/arm\/v7, linux\/arm64\/v8\)/);
});

test('platforms are spelled as Docker accepts them and normalised to OCI names', () => {
  assert.deepEqual(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('Linux/X86_64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('linux/aarch64'), { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(parsePlatform('linux/arm64/8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.deepEqual(parsePlatform('linux/armhf'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(parsePlatform('linux/i686'), { os: 'linux', architecture: '386' });
  assert.throws(() => parsePlatform('linux'), /platform "linux": want os\/arch\[\/variant\], e.g. linux\/amd64/);
  assert.throws(() => parsePlatform('linux/amd64/v2/x'), /want os\/arch/);
});

test('compression is detected from magic numbers', () => {
  assert.equal(detectCompression(Buffer.from([0x1f, 0x8b, 8, 0])), 'gzip');
  assert.equal(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
  assert.equal(detectCompression(Buffer.from('abc')), 'none');
});

test('container defaults from an image config', () => {
  const c = containerDefaults({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Cmd: ['sh'], ExposedPorts: { '80': {}, '53/udp': {} } } });
  assert.deepEqual(c.cmd, ['sh']);
  assert.deepEqual(c.exposedPorts, ['53/udp', '80/tcp']);
  assert.equal(c.workingDir, '/');
  assert.equal(c.stopSignal, 'SIGTERM');
});
