/**
 * A `berth pull` killed (SIGKILL) in the middle of a blob download — the fault-injecting proxy
 * stalls the busybox layer half-way, and the kill comes once half of it is in the store's
 * temporary file — leaves no image and no corrupt blob (every blob file in the store matches its
 * name), and the next pull succeeds, sweeping away the dead pull's temporary file.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { load, push, resolveImage } from '../../src/image/index.js';
import { processTag, repoRoot, whyNotRoot } from '../support/bundle.js';
import { startRegistry, whyNoRegistry, type TestRegistry } from '../support/registry.js';
import { startProxy, type FaultProxy } from '../support/registry-proxy.js';
import { writeThreeLayerImage } from '../fixtures/image/build.js';
import { BerthCli, until } from './engine-cli.js';

const skip = whyNotRoot() ?? whyNoRegistry();

describe('a pull killed half-way through a blob', { skip }, () => {
  let reg: TestRegistry;
  let proxy: FaultProxy;
  let work: string;
  let cli: BerthCli;

  before(async () => {
    reg = await startRegistry();
    proxy = await startProxy(reg.host);
    work = await mkdtemp(join(tmpdir(), `${processTag()}-killed-`));
    cli = new BerthCli('killed');
    const name = `${reg.host}/berth-test/three:v1`;
    await writeThreeLayerImage(join(work, 'layout'), name);
    await load(join(work, 'layout'), { root: join(work, 'src') });
    await push(name, { root: join(work, 'src') });
  });
  after(async () => {
    await proxy?.stop();
    await reg?.stop();
    await cli?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('leaves no image and no corrupt blob, and the next pull succeeds', async () => {
    const src = await resolveImage(`${reg.host}/berth-test/three:v1`, { root: join(work, 'src') });
    const big = src.layers.reduce((a, b) => (b.size > a.size ? b : a));
    const half = Math.floor(big.size / 2);
    proxy.reset([{ method: 'GET', path: `/blobs/${big.digest}`, fault: { stall: true } }]);
    const ref = `${proxy.host}/berth-test/three:v1`;
    const blobs = join(cli.data, 'blobs', 'sha256');
    const temps = (): string[] => (existsSync(blobs) ? readdirSync(blobs) : []).filter((n) => n.startsWith('.tmp'));

    const child = spawn(process.execPath, [join(repoRoot, 'bin/berth.js'), '--data-root', cli.data, '--root', cli.run, 'pull', ref], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_c, sig) => r(sig)));
    try {
      // half the layer is in a temporary file: the download is in progress, not finished
      const inProgress = await until(() => proxy.stalled === 1 && temps().some((n) => statSync(join(blobs, n)).size === half), 30_000);
      assert.ok(inProgress, `the pull did not get half-way: stalled ${proxy.stalled}, temps ${temps().join(' ')}`);
    } finally {
      child.kill('SIGKILL');
    }
    assert.equal(await exited, 'SIGKILL');

    assert.equal((await cli.exec(['images', '-q', '-a'])).stdout, '');
    assert.equal(existsSync(join(blobs, big.digest.slice(7))), false);
    for (const n of readdirSync(blobs).filter((f) => !f.startsWith('.tmp'))) {
      assert.equal(createHash('sha256').update(readFileSync(join(blobs, n))).digest('hex'), n, `blob ${n} matches its name`);
    }
    assert.ok(temps().length >= 1, 'the dead pull left its temporary file (and maybe those of other layers in progress)');

    proxy.reset();
    const again = await cli.exec(['pull', '-q', ref], { timeoutMs: 60_000 });
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await cli.exec(['images', '-q', '--no-trunc'])).stdout.trim(), src.id);
    assert.deepEqual(temps(), []);
    // blobs the killed pull had completed were not fetched again
    assert.equal(proxy.count('GET', `/blobs/${big.digest}`), 1);
    assert.ok(proxy.count('GET', '/blobs/') < src.layers.length + 1, JSON.stringify(proxy.seen));
  });
});
