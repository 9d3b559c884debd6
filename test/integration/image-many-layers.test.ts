/**
 * An image of 122 layers (busybox, then 120 layers each adding one file, then one deleting one
 * of them) runs on overlay: the lower dirs go through the layer store's short links, so the
 * mount options stay within a page (they did not past ~60 layers). Every file is visible, the
 * whiteout applies, and the container's root filesystem is unmounted and removed with it; the
 * short links go with their layers at prune.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tarBuffer } from '../../src/archive/tar/writer.js';
import { assertNoLeaks, processTag, repoRoot, testCgroupParent, whyNotRoot } from '../support/bundle.js';
import { busyboxTar, writeImageLayout } from '../fixtures/image/build.js';

const skip = whyNotRoot();
const bin = join(repoRoot, 'bin/berth.js');
const LAYERS = 120;

interface Result { code: number; stdout: string; stderr: string }

describe('an image of more than 120 layers on overlay', { skip, timeout: 180_000 }, () => {
  let work = '';
  let data = '';

  /** Runs berth with the test's data root, the overlay driver only (no silent copy fallback). */
  function berth(args: string[]): Promise<Result> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [bin, '--data-root', data, '--root', join(data, 'run'), ...args], {
        stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BERTH_STORAGE_DRIVER: 'overlay' },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
      child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
      const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`berth ${args.join(' ')} timed out: ${stderr}`)); }, 120_000);
      child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code: code ?? (signal ? 137 : -1), stdout, stderr }); });
    });
  }
  const ok = async (args: string[]): Promise<string> => {
    const r = await berth(args);
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const mountsBelow = (dir: string): string[] => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4]?.startsWith(dir));

  before(async () => {
    work = await mkdtemp(join(tmpdir(), `${processTag()}-layers-`));
    data = join(work, 'data');
    const layers = [{ tar: await busyboxTar(), compression: 'gzip' as const }];
    for (let i = 0; i < LAYERS; i++) {
      layers.push({ tar: tarBuffer([{ name: 'many/', type: 'dir', mode: 0o755 }, { name: `many/f${i}`, type: 'file', data: `layer ${i}\n`, mode: 0o644 }]), compression: 'gzip' });
    }
    layers.push({ tar: tarBuffer([{ name: 'many/', type: 'dir', mode: 0o755 }, { name: 'many/.wh.f7', type: 'file' }]), compression: 'gzip' });
    await writeImageLayout(join(work, 'layout'), 'berth-test/many:v1', layers);
    assert.match(await ok(['load', '-i', join(work, 'layout')]), /Loaded image: .*berth-test\/many:v1/);
  });
  after(async () => {
    const dir = join(data, 'containers');
    for (const id of existsSync(dir) ? readdirSync(dir) : []) await berth(['rm', '-f', id]);
    if (work) await rm(work, { recursive: true, force: true });
    await assertNoLeaks(processTag());
  });

  test('every file is visible on an overlay root, which goes with the container', async () => {
    const id = (await ok(['create', '--cgroup-parent', testCgroupParent(), 'berth-test/many:v1', 'sh', '-c',
      'awk \'$5 == "/" { print $(NF-2) }\' /proc/self/mountinfo; ls /many | wc -l; cat /many/f0 /many/f119; test -e /many/f7 || echo f7 gone'])).trim();
    const rootfs = join(data, 'rootfs', id);
    assert.equal(mountsBelow(rootfs).length, 1, 'the overlay is mounted at create');
    const out = await ok(['start', '-a', id]);
    assert.equal(out, `overlay\n${LAYERS - 1}\nlayer 0\nlayer 119\nf7 gone\n`);
    await ok(['rm', id]);
    assert.deepEqual(mountsBelow(rootfs), []);
    assert.equal(existsSync(rootfs), false, 'the root filesystem is removed with the container');
    assert.equal(readdirSync(join(data, 'layers', 'l')).length, LAYERS + 2, 'one short link a layer');
    await ok(['rmi', 'berth-test/many:v1']);
    await ok(['image', 'prune', '-a', '-f']);
    assert.deepEqual(readdirSync(join(data, 'layers')), ['l']);
    assert.deepEqual(readdirSync(join(data, 'layers', 'l')), [], 'the links go with their layers');
  });
});
