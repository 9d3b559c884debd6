/**
 * `berth run --userns 0:100000:65536 IMAGE`: a busybox image whose layers are owned by host root
 * runs in a user namespace with id-mapped lower layers (storage/idmap-layers.ts). Inside, / and
 * the image's files belong to root (and /home/berth to 1000, as in the image); root writes /tmp,
 * /, a copied-up image file and a new working directory; on the host the upper dir holds those
 * files owned by 100000 while the shared layer store is untouched (still owned by 0).
 */
import * as assert from 'node:assert/strict';
import { chmodSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeImageLayout, busyboxTar } from '../fixtures/image/build.js';
import { assertNoLeaks, processTag, uniqueId, whyNotRoot } from '../support/bundle.js';
import { BerthCli } from './engine-cli.js';

const [major = 0, minor = 0] = release().split('.').map(Number);
// Overlayfs accepts a detached (never attached) id-mapped layer from Linux 6.15 on.
const skip = whyNotRoot() ?? (major * 1000 + minor < 6015 ? `kernel ${release()} is older than 6.15` : undefined);

describe('--userns mapping with an image: id-mapped layers', { skip }, () => {
  let b: BerthCli;
  let work = '';
  const image = 'localhost/berth-test/userns-busybox:v1';
  const name = uniqueId('usernsimg');
  let out = '';
  let upper = '';
  let inspectErr = '';

  before(async () => {
    b = new BerthCli('userns-img');
    // The runtime mounts the root from inside the user namespace: the data root must be searchable.
    chmodSync(b.data, 0o711);
    work = await mkdtemp(join(tmpdir(), `${processTag()}-usernsimg-`));
    await writeImageLayout(join(work, 'layout'), image, [{ tar: await busyboxTar(), compression: 'gzip' }]);
    const load = await b.exec(['load', '-i', join(work, 'layout')]);
    assert.equal(load.code, 0, load.stderr);
    const r = await b.exec(['run', '--name', name, ...b.cg, '--userns', '0:100000:65536', '-w', '/made/work', image, 'sh', '-c', [
      'id -u; id -g',
      'stat -c "%u:%g" / /bin/busybox /etc/passwd /home/berth /made/work',
      'echo tmp > /tmp/t && echo root > /rootfile && echo more >> /etc/passwd && mkdir /newdir && echo wrote',
      'stat -c "%u:%g" /tmp/t /rootfile /etc/passwd /newdir',
    ].join('; ')]);
    out = `${r.code}\n${r.stdout}${r.stderr}`;
    const root = await b.inspect(name, '{{.GraphDriver.Data.RootPath}}');
    if (root) upper = join(dirname(root), 'upper');
    else inspectErr = 'no RootPath in inspect';
  });
  after(async () => {
    if (skip) return;
    await b.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
    await assertNoLeaks(processTag());
  });

  test('the container runs as root in its user namespace', () => {
    assert.match(out, /^0\n0\n0\n/, out);
  });
  test('/ and the image\'s files look owned by the container\'s root; image owners are kept', () => {
    const lines = out.split('\n').slice(3, 8);
    assert.deepEqual(lines, ['0:0', '0:0', '0:0', '1000:1000', '0:0'], out);
  });
  test('root writes /tmp, /, an image file (copy-up) and new directories', () => {
    const lines = out.split('\n').slice(8, 13);
    assert.deepEqual(lines, ['wrote', '0:0', '0:0', '0:0', '0:0'], out);
  });
  test('on the host the upper dir\'s files belong to 100000', () => {
    assert.ok(upper, inspectErr);
    for (const f of ['tmp/t', 'rootfile', 'etc/passwd', 'newdir', 'made/work', '.']) {
      const st = statSync(join(upper, f));
      assert.deepEqual([st.uid, st.gid], [100000, 100000], f);
    }
  });
  test('the shared layer store is untouched: still owned by host root', () => {
    const layers = join(b.data, 'layers');
    const unpacked = readdirSync(layers).filter((n) => /^[a-f0-9]{64}$/.test(n));
    assert.equal(unpacked.length, 1, `layers in ${layers}: ${readdirSync(layers).join(' ')}`);
    for (const l of unpacked) {
      const st = statSync(join(layers, l, 'etc/passwd'));
      assert.deepEqual([st.uid, st.gid], [0, 0]);
    }
  });
  test('rm removes the container and its root filesystem, leaving no mount', async () => {
    const r = await b.exec(['rm', name]);
    assert.equal(r.code, 0, r.stderr);
    assert.throws(() => statSync(dirname(upper)));
    await assertNoLeaks(name);
  });
});
