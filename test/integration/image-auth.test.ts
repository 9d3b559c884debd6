/**
 * Registry authentication and push against real registries (Debian's docker-registry on
 * loopback): HTTP basic auth from an htpasswd file (bcrypt, made with apache2-utils' htpasswd),
 * and bearer tokens from a token server the registry trusts (test/support/token-server.ts).
 * `berth login`/`logout` store and forget credentials in a Docker-style config.json; push goes
 * both monolithic and chunked, skips blobs the registry has, and mounts blobs across
 * repositories.
 */
import * as assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { load, pull, push } from '../../src/image/index.js';
import { processTag, repoRoot, whyNotRoot } from '../support/bundle.js';
import { startRegistry, whyNoRegistry, type TestRegistry } from '../support/registry.js';
import { startTokenServer, type TokenServer } from '../support/token-server.js';
import { writeThreeLayerImage } from '../fixtures/image/build.js';

const run = promisify(execFile);
const skip = whyNotRoot() ?? whyNoRegistry();
const noHtpasswd = existsSync('/usr/bin/htpasswd') ? undefined : 'htpasswd not installed (apt-get install apache2-utils)';
const noOpenssl = existsSync('/usr/bin/openssl') ? undefined : 'openssl not installed (apt-get install openssl)';

/** `berth` with a data root and config dir, stdin text given. */
function berth(args: string[], env: Record<string, string>, stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin/berth.js'), ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdin.end(stdin);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('registry auth and push', { skip }, () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), `${processTag()}-auth-`));
    await writeThreeLayerImage(join(work, 'layout'), 'localhost/berth-test/auth:v1');
  });
  after(async () => { if (work) await rm(work, { recursive: true, force: true }); });

  /** Loads the test image into a new data root under the name `name`. */
  async function loaded(name: string): Promise<string> {
    const root = await mkdtemp(join(work, 'data-'));
    await load(join(work, 'layout'), { root, name });
    const { tagImage } = await import('../../src/image/index.js');
    await tagImage('localhost/berth-test/auth:v1', name, { root });
    return root;
  }

  test('basic auth: login, chunked push, pull, logout', { skip: noHtpasswd }, async () => {
    const htpasswd = join(work, 'htpasswd');
    await writeFile(htpasswd, (await run('htpasswd', ['-Bbn', 'alice', 's3cret'])).stdout);
    const reg: TestRegistry = await startRegistry({ htpasswd });
    try {
      const name = `${reg.host}/berth-test/basic:v1`;
      const root = await loaded(name);
      const configDir = join(work, 'cfg-basic');
      await assert.rejects(push(name, { root, configDir }), (e: Error & { code?: string }) => e.code === 'EAUTH');
      const env = { BERTH_CONFIG_DIR: configDir };
      const bad = await berth(['--data-root', root, 'login', '-u', 'alice', '--password-stdin', reg.host], env, 'wrong\n');
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /401|authentication/);
      const ok = await berth(['--data-root', root, 'login', '-u', 'alice', '--password-stdin', `http://${reg.host}/`], env, 's3cret\n');
      assert.equal(ok.stdout, 'Login Succeeded\n', ok.stderr);
      const cfg = JSON.parse(readFileSync(join(configDir, 'config.json'), 'utf8'));
      assert.equal(cfg.auths[reg.host].auth, Buffer.from('alice:s3cret').toString('base64'));
      // 64 KiB chunks: the busybox layer goes in many PATCH requests
      const pushed = await push(name, { root, configDir, chunkSize: 64 << 10 });
      assert.equal(pushed.uploaded.length, 4);
      const again = await push(name, { root, configDir });
      assert.deepEqual([again.uploaded.length, again.existed.length], [0, 4]);
      const img = await pull(name, { root: await mkdtemp(join(work, 'data-')), configDir });
      assert.equal(img.manifest, pushed.digest);
      const out = await berth(['--data-root', root, 'logout', reg.host], env);
      assert.equal(out.stdout, `Removing login credentials for ${reg.host}\n`);
      await assert.rejects(pull(name, { root: await mkdtemp(join(work, 'data-')), configDir }), (e: Error & { code?: string }) => e.code === 'EAUTH');
    } finally {
      await reg.stop();
    }
  });

  test('bearer tokens: push and pull through a token server, cross-repository mount', { skip: noOpenssl }, async () => {
    const tokens: TokenServer = await startTokenServer(work, { bob: 'hunter2' });
    const reg = await startRegistry({ token: tokens });
    try {
      const name = `${reg.host}/berth-test/token:v1`;
      const root = await loaded(name);
      const configDir = join(work, 'cfg-token');
      const { saveCredentials } = await import('../../src/image/registry/credentials.js');
      await saveCredentials(reg.host, { username: 'bob', password: 'nope' }, configDir);
      await assert.rejects(push(name, { root, configDir }), /authentication failed/);
      await saveCredentials(reg.host, { username: 'bob', password: 'hunter2' }, configDir);
      const pushed = await push(name, { root, configDir });
      assert.equal(pushed.uploaded.length, 4);
      assert.ok(tokens.issued >= 1);
      const img = await pull(name, { root: await mkdtemp(join(work, 'data-')), configDir });
      assert.equal(img.manifest, pushed.digest);
      // the same image in another repository: the registry links the blobs instead of a transfer
      const { tagImage } = await import('../../src/image/index.js');
      await tagImage(name, `${reg.host}/berth-test/copy:v1`, { root });
      const copied = await push(`${reg.host}/berth-test/copy:v1`, { root, configDir, mountFrom: 'berth-test/token' });
      assert.deepEqual([copied.uploaded.length, copied.mounted.length], [0, 4]);
    } finally {
      await reg.stop();
      await tokens.stop();
    }
  });
});
