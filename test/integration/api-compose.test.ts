/**
 * docker compose (Debian's docker-compose 1.29, docker-py) against `berth system service`: a
 * two-service project with its own network, a named volume, environment, depends_on and logs, brought up,
 * read and taken down, leaving no container, network, lease or rule.
 *
 * Where the traffic goes: the server (the engine) runs inside a network namespace this test makes
 * (`ip netns add berth-test-<pid>-compose`), so the project's bridge, addresses and rules exist
 * only there; the socket is a file, reached from here.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNoLeaks, processTag, repoRoot, whyNotRoot } from '../support/bundle.js';
import { until } from './engine-cli.js';

const compose = ['/usr/bin/docker-compose'].find((p) => existsSync(p));
const missing = ['/usr/lib/podman/netavark', '/usr/lib/podman/aardvark-dns'].find((p) => !existsSync(p));
const skip = whyNotRoot() ?? (!compose ? 'docker-compose is not installed (apt-get install docker-compose)' : missing ? `${missing} is not installed` : undefined);
if (skip) console.log(`# skipping the docker compose tests: ${skip}`);

const nsName = `${processTag()}-compose`;
let dir: string;
let server: ChildProcess;

const rules = () => spawnSync('nsenter', [`--net=/run/netns/${nsName}`, '--', 'iptables-save'], { encoding: 'utf8' }).stdout.split('\n')
  .filter((l) => l.startsWith('-A') && /\d+\.\d+\.\d+\.\d+/.test(l)).sort();

function dc(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(compose!, ['-p', 'berthtcompose', ...args], { cwd: join(dir, 'proj'), encoding: 'utf8', timeout: 120_000, env: { ...process.env, DOCKER_HOST: `unix://${join(dir, 'api.sock')}` } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), `${processTag()}-compose-`));
  execIp(['netns', 'add', nsName]);
  spawnSync('nsenter', [`--net=/run/netns/${nsName}`, '--', 'ip', 'link', 'set', 'lo', 'up']);
  // The default network of this engine is Berth's bridge (the suite's BERTH_DEFAULT_NETWORK=none is for the host's namespace).
  const env = { ...process.env };
  delete env.BERTH_DEFAULT_NETWORK;
  server = spawn('nsenter', [`--net=/run/netns/${nsName}`, '--', process.execPath, join(repoRoot, 'bin/berth.js'), '--data-root', join(dir, 'data'), '--root', join(dir, 'run'),
    'system', 'service', '--host', `unix://${join(dir, 'api.sock')}`, '--time', '0'], { stdio: ['ignore', 'ignore', 'pipe'], env });
  assert.equal(await until(() => existsSync(join(dir, 'api.sock')), 10_000), true, 'the server listens');
  mkdirSync(join(dir, 'proj'));
  writeFileSync(join(dir, 'proj', 'docker-compose.yml'), `version: "3.8"
services:
  web:
    image: host
    command: ["sh", "-c", "mkdir -p /tmp/w && echo \\"hello from $$GREETING\\" > /tmp/w/index.html && exec busybox httpd -f -p 8080 -h /tmp/w"]
    environment:
      GREETING: web
    volumes: ["site:/tmp/w"]
    networks: [back]
  client:
    image: host
    depends_on: [web]
    environment:
      TARGET: web
    command: ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do busybox wget -qO- http://$$TARGET:8080/ && break; sleep 0.3; done; echo shared: $$(cat /shared/index.html); touch /shared/x 2>/dev/null || echo read-only; echo client done"]
    volumes: ["site:/shared:ro"]
    networks: [back]
networks:
  back: {}
volumes:
  site: {}
`);
});

function execIp(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

after(async () => {
  if (skip) return;
  dc(['down']);
  server.kill('SIGINT');
  await new Promise((r) => server.once('exit', r));
  spawnSync('umount', ['-l', join(dir, 'run/.network/engine-netns')]);
  const pid = join(dir, 'run/.network/netavark/aardvark-dns/aardvark.pid');
  if (existsSync(pid)) { try { process.kill(Number(readFileSync(pid, 'utf8')), 'SIGKILL'); } catch { /* gone */ } }
  spawnSync('ip', ['netns', 'del', nsName]);
  rmSync(dir, { recursive: true, force: true });
  await assertNoLeaks(processTag());
});

test('docker compose up, logs, ps and down: services find each other by name on the project\'s network; nothing is left', { skip, timeout: 240_000 }, async () => {
  const before = rules();
  const up = dc(['up', '-d']);
  assert.equal(up.code, 0, up.err);
  // The client ends by itself once it got the page.
  const logs = await until(() => { const l = dc(['logs', '--no-color']).out; return l.includes('client done') ? l : ''; }, 30_000);
  assert.match(logs, /client_1 +\| hello from web\n/);
  assert.match(logs, /client_1 +\| client done\n/);
  // the named volume: written by web, read (read-only) by client
  assert.match(logs, /client_1 +\| shared: hello from web\n/);
  assert.match(logs, /client_1 +\| read-only\n/);
  const ps = dc(['ps']);
  assert.match(ps.out, /berthtcompose_web_1 .* Up/);
  assert.match(ps.out, /berthtcompose_client_1 .* Exit 0/);
  const down = dc(['down']);
  assert.equal(down.code, 0, down.err);
  assert.match(down.err, /Removing network berthtcompose_back/);
  assert.equal(dc(['ps', '-q']).out.trim(), '');
  // down keeps the project's volume, down -v removes it
  assert.deepEqual(readdirSync(join(dir, 'data', 'volumes')).filter((n) => !n.startsWith('.')), ['berthtcompose_site']);
  const downV = dc(['down', '-v']);
  assert.equal(downV.code, 0, downV.err);
  assert.deepEqual(readdirSync(join(dir, 'data', 'volumes')).filter((n) => !n.startsWith('.')), []);
  const leases = readdirSync(join(dir, 'data', 'networks')).filter((n) => n !== 'attached' && existsSync(join(dir, 'data', 'networks', n, 'leases.json')))
    .flatMap((n) => Object.keys(JSON.parse(readFileSync(join(dir, 'data', 'networks', n, 'leases.json'), 'utf8')) as object));
  assert.deepEqual(leases, []);
  assert.deepEqual(rules(), before);
});
