/**
 * The Engine API over TCP: only with TLS and client certificates (dockerd's --tlsverify). The
 * docker CLI with a certificate from the trusted CA gets in (version, and a run whose attach
 * hijacks the TLS connection); from the attacker's side, a client without a certificate, one
 * with a certificate from another CA, and plain HTTP are refused, and the server will not start
 * on TCP without --tlsverify. Everything on 127.0.0.1.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNoLeaks, processTag, repoRoot, testCgroupParent, whyNotRoot } from '../support/bundle.js';
import { until } from './engine-cli.js';

const openssl = ['/usr/bin/openssl'].find((p) => existsSync(p));
const dockerCli = ['/usr/bin/docker', '/usr/local/bin/docker'].find((p) => existsSync(p));
const skip = whyNotRoot() ?? (openssl ? undefined : 'openssl is not installed');
const bin = join(repoRoot, 'bin/berth.js');
let dir: string;
let port: number;
let server: ChildProcess;

/** A CA, and a certificate it signs for `cn` (server: with 127.0.0.1 as its address). */
function makeCa(name: string): void {
  execFileSync(openssl!, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, `${name}-ca-key.pem`), '-out', join(dir, `${name}-ca.pem`), '-days', '1', '-subj', `/CN=${name}-ca`], { stdio: 'ignore' });
}
function makeCert(ca: string, name: string, usage: 'serverAuth' | 'clientAuth'): void {
  execFileSync(openssl!, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, `${name}-key.pem`), '-out', join(dir, `${name}.csr`), '-subj', `/CN=${name}`], { stdio: 'ignore' });
  writeFileSync(join(dir, `${name}.ext`), `extendedKeyUsage=${usage}\n${usage === 'serverAuth' ? 'subjectAltName=IP:127.0.0.1\n' : ''}`);
  execFileSync(openssl!, ['x509', '-req', '-in', join(dir, `${name}.csr`), '-CA', join(dir, `${ca}-ca.pem`), '-CAkey', join(dir, `${ca}-ca-key.pem`), '-CAcreateserial',
    '-out', join(dir, `${name}.pem`), '-days', '1', '-extfile', join(dir, `${name}.ext`)], { stdio: 'ignore' });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
  });
}

/** GET /_ping over TLS with the given client certificate (or none): the status, or the error's code. */
function ping(cert?: string): Promise<string> {
  return new Promise((resolve) => {
    const req = httpsRequest({
      host: '127.0.0.1', port, path: '/_ping', ca: readFileSync(join(dir, 'good-ca.pem')),
      ...(cert ? { cert: readFileSync(join(dir, `${cert}.pem`)), key: readFileSync(join(dir, `${cert}-key.pem`)) } : {}),
    }, (res) => { res.resume(); res.on('end', () => resolve(String(res.statusCode))); });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), `${processTag()}-tls-`));
  makeCa('good');
  makeCa('rogue');
  makeCert('good', 'server', 'serverAuth');
  makeCert('good', 'client', 'clientAuth');
  makeCert('rogue', 'intruder', 'clientAuth');
  port = await freePort();
  server = spawn(process.execPath, [bin, '--data-root', join(dir, 'data'), '--root', join(dir, 'run'), 'system', 'service', '--host', `tcp://127.0.0.1:${port}`, '--tlsverify',
    '--tlscacert', join(dir, 'good-ca.pem'), '--tlscert', join(dir, 'server.pem'), '--tlskey', join(dir, 'server-key.pem'), '--time', '0'],
  { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, BERTH_DEFAULT_NETWORK: 'none' } });
  assert.equal(await until(async () => (await ping('client')) === '200', 15_000), true, 'the server answers over TLS');
});

after(async () => {
  if (skip) return;
  server.kill('SIGINT');
  await new Promise((r) => server.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
  await assertNoLeaks(processTag());
});

test('TCP needs --tlsverify and the three files', { skip }, () => {
  const r = spawnSync(process.execPath, [bin, '--data-root', join(dir, 'data2'), 'system', 'service', '--host', 'tcp://127.0.0.1:1'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /TCP is served only with TLS and client certificates .*: add --tlsverify and --tlscacert, --tlscert, --tlskey/);
});

test('attacker: no client certificate, one from another CA, and plain HTTP are refused', { skip }, async () => {
  assert.equal(await ping('client'), '200');
  assert.notEqual(await ping(), '200');
  assert.notEqual(await ping('intruder'), '200');
  const plain = await new Promise<string>((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/_ping' }, (res) => { res.resume(); resolve(String(res.statusCode)); });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
  assert.notEqual(plain, '200');
});

test('the docker CLI over TLS: version, and a run that hijacks the TLS connection', { skip: skip ?? (dockerCli ? false : 'no docker CLI') }, () => {
  const tls = ['--tlsverify', '--tlscacert', join(dir, 'good-ca.pem'), '--tlscert', join(dir, 'client.pem'), '--tlskey', join(dir, 'client-key.pem'), '-H', `tcp://127.0.0.1:${port}`];
  const docker = (args: string[]) => spawnSync(dockerCli!, [...tls, ...args], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(docker(['version', '--format', '{{.Server.APIVersion}}']).stdout, '1.41\n');
  const r = docker(['run', '--rm', '--network', 'none', '--cgroup-parent', testCgroupParent(), 'host', 'sh', '-c', 'echo over-tls; echo err >&2']);
  assert.equal(r.stdout, 'over-tls\n', `stderr: ${r.stderr}`);
  assert.equal(r.stderr, 'err\n');
  const without = spawnSync(dockerCli!, ['-H', `tcp://127.0.0.1:${port}`, 'version', '--format', '{{.Server.APIVersion}}'], { encoding: 'utf8', timeout: 30_000 });
  assert.notEqual(without.stdout, '1.41\n');
});
