/**
 * Multi-platform images through a real registry (Debian's docker-registry on loopback), with
 * `berth pull` as a user types it. The test writes, with plain distribution-API requests, an OCI
 * image index and a Docker manifest list each holding four images: this host's platform (busybox
 * plus a marker file; it runs), linux/arm64, linux/arm/v6 and linux/arm/v7 (a marker file each;
 * they need not run). Then: the default pull picks the host's image and the container runs;
 * `--platform linux/arm64` and `--platform linux/arm/v7` pick theirs (the variant matters); a
 * platform the index lacks fails with one line naming it and the platforms available, and leaves
 * nothing in the store.
 */
import * as assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { BlobStore } from '../../src/image/blobs.js';
import { hostPlatform, type Platform } from '../../src/image/manifest.js';
import { parseReference } from '../../src/image/reference.js';
import { RegistryClient } from '../../src/image/registry/client.js';
import { pullBlobs } from '../../src/image/registry/pull.js';
import { assertNoLeaks, processTag, whyNotRoot } from '../support/bundle.js';
import { startRegistry, whyNoRegistry, type TestRegistry } from '../support/registry.js';
import { markerLayer, pushPlatformIndex, type Desc } from '../support/registry-upload.js';
import { busyboxTar } from '../fixtures/image/build.js';
import { BerthCli } from './engine-cli.js';

const host = hostPlatform();
const skip = whyNotRoot() ?? whyNoRegistry() ?? (host.architecture === 'amd64' ? undefined : `the other platforms of the test index are fixed; this host is ${host.architecture}, not amd64`);
const OTHERS: Platform[] = [
  { os: 'linux', architecture: 'arm64', variant: 'v8' },
  { os: 'linux', architecture: 'arm', variant: 'v6' },
  { os: 'linux', architecture: 'arm', variant: 'v7' },
];
const label = (p: Platform): string => [p.os, p.architecture, p.variant].filter(Boolean).join('/');

for (const flavour of ['oci', 'docker'] as const) {
  describe(`pull of a multi-platform image (${flavour === 'oci' ? 'OCI image index' : 'Docker manifest list'})`, { skip }, () => {
    let reg: TestRegistry;
    let cli: BerthCli;
    let ref: string;
    let manifests: Desc[];
    let index: Desc;

    /** `berth image inspect` of `ref` in `c`: the picked manifest digest and the platform. */
    async function inspect(c: BerthCli, r: string): Promise<{ manifest: string; platform: string }> {
      const out = await c.exec(['image', 'inspect', r]);
      assert.equal(out.code, 0, out.stderr);
      const doc = (JSON.parse(out.stdout) as { Os: string; Architecture: string; Variant?: string; Berth: { ManifestDigest: string } }[])[0];
      assert.ok(doc);
      return { manifest: doc.Berth.ManifestDigest, platform: [doc.Os, doc.Architecture, doc.Variant].filter(Boolean).join('/') };
    }

    before(async () => {
      reg = await startRegistry();
      cli = new BerthCli(`plat-${flavour}`);
      const repo = `berth-test/multi-${flavour}`;
      ref = `${reg.host}/${repo}:v1`;
      const images = [
        { platform: { os: host.os, architecture: host.architecture }, layers: [await busyboxTar(), markerLayer('platform', `${label(host)}\n`)], cmd: ['cat', '/etc/platform'] },
        ...OTHERS.map((p) => ({ platform: p, layers: [markerLayer('platform', `${label(p)}\n`)], cmd: ['cat', '/etc/platform'] })),
      ];
      ({ manifests, index } = await pushPlatformIndex(reg.host, repo, 'v1', images, flavour));
    });
    after(async () => {
      await cli?.cleanup();
      await reg?.stop();
      await assertNoLeaks(processTag());
    });

    test('the default pull picks this host\'s platform, and the container runs', async () => {
      const r = await cli.exec(['pull', ref], { timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      // Docker prints the digest the registry names the image by: the index's
      assert.match(r.stdout, new RegExp(`^Digest: ${index.digest}$`, 'm'));
      const got = await inspect(cli, ref);
      assert.equal(got.manifest, manifests[0]?.digest);
      assert.equal(got.platform, label(host));
      // ...and that name@digest finds the pulled image locally
      const byDigest = await cli.exec(['image', 'inspect', '-f', '{{.Id}}', `${ref.replace(/:v1$/, '')}@${index.digest}`]);
      assert.equal(byDigest.code, 0, byDigest.stderr);
      const run = await cli.exec(['run', '--rm', ...cli.cg, ref], { timeoutMs: 60_000 });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, `${label(host)}\n`);
    });

    test('--platform picks another platform, variant included', async () => {
      for (const [i, want] of [['linux/arm64', 0], ['linux/arm/v7', 2], ['linux/arm/v6', 1]] as const) {
        const r = await cli.exec(['pull', '-q', '--platform', i, ref], { timeoutMs: 60_000 });
        assert.equal(r.code, 0, r.stderr);
        const got = await inspect(cli, ref);
        assert.equal(got.manifest, manifests[want + 1]?.digest, `--platform ${i}`);
        assert.equal(got.platform, label(OTHERS[want] as Platform), `--platform ${i}`);
      }
      // and back: the host's image, whose blobs are still stored
      const r = await cli.exec(['pull', '--platform', label(host), ref]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((await inspect(cli, ref)).manifest, manifests[0]?.digest);
    });

    test('pullBlobs reports the index digest and the platform manifest it chose', async () => {
      const r = parseReference(ref);
      const dir = await mkdtemp(join(tmpdir(), `${processTag()}-plat-blobs-`));
      try {
        const pulled = await pullBlobs(new RegistryClient(r.registry, r.repository), r, new BlobStore(dir), { platform: { os: 'linux', architecture: 'arm', variant: 'v7' } });
        assert.equal(pulled.indexDigest, index.digest);
        assert.equal(pulled.manifestDigest, manifests[3]?.digest);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    test('a platform the index lacks fails with one line naming it and the ones available, and stores nothing', async () => {
      const fresh = new BerthCli(`plat-${flavour}-none`);
      try {
        for (const p of ['linux/s390x', 'linux/arm/v5']) {
          const r = await fresh.exec(['pull', '--platform', p, ref]);
          assert.notEqual(r.code, 0);
          const lines = r.stderr.trim().split('\n');
          assert.equal(lines.length, 1, r.stderr);
          assert.match(lines[0] ?? '', new RegExp(`no image for ${p}\\b.*\\(it has: linux/amd64, linux/arm64/v8, linux/arm/v6, linux/arm/v7\\)`));
        }
        const images = await fresh.exec(['images', '-q']);
        assert.equal(images.stdout, '');
        const blobs = join(fresh.data, 'blobs', 'sha256');
        assert.deepEqual(existsSync(blobs) ? readdirSync(blobs) : [], []);
        const bad = await fresh.exec(['pull', '--platform', 'linux', ref]);
        assert.notEqual(bad.code, 0);
        assert.match(bad.stderr, /platform "linux": want os\/arch\[\/variant\]/);
      } finally {
        await fresh.cleanup();
      }
    });
  });
}
