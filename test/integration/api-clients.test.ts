/**
 * Real client libraries from npm against `berth system service`: dockerode (what most Node tools
 * use: create, start, wait, logs, inspect, list, exec, volumes, remove) and testcontainers (a
 * GenericContainer on an image, started with a wait strategy on its log, exec'd into, stopped).
 * testcontainers' reaper (Ryuk) is an image from Docker Hub, which this machine cannot reach:
 * it is turned off, and the test removes what it made. The server's containers go below this
 * test's cgroup (BERTH_CGROUP_PARENT; the libraries set no cgroup parent).
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { assertNoLeaks, processTag, repoRoot, whyNotRoot } from '../support/bundle.js';
import { writeThreeLayerImage } from '../fixtures/image/build.js';
import { until } from './engine-cli.js';

const skip = whyNotRoot();
const bin = join(repoRoot, 'bin/berth.js');
const IMAGE = 'local/clients:v1';
let dir: string;
let sock: string;
let server: ChildProcess;
let docker: Docker;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), `${processTag()}-clients-`));
  sock = join(dir, 'api.sock');
  const berth = (args: string[]) => spawnSync(process.execPath, [bin, '--data-root', join(dir, 'data'), '--root', join(dir, 'run'), ...args], { encoding: 'utf8' });
  await writeThreeLayerImage(join(dir, 'layout'), IMAGE);
  assert.equal(berth(['load', '-i', join(dir, 'layout')]).status, 0);
  server = spawn(process.execPath, [bin, '--data-root', join(dir, 'data'), '--root', join(dir, 'run'), 'system', 'service', '--host', `unix://${sock}`, '--time', '0'],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, BERTH_DEFAULT_NETWORK: 'none', BERTH_CGROUP_PARENT: processTag() } });
  assert.equal(await until(() => existsSync(sock), 15_000), true, 'the server listens');
  docker = new Docker({ socketPath: sock });
});

after(async () => {
  if (skip) return;
  for (const c of await docker.listContainers({ all: true }).catch(() => [])) await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
  server.kill('SIGINT');
  await new Promise((r) => server.once('exit', r));
  // the short cleanups of stopped containers (berth container-cleanup) finish by themselves
  await until(() => !readdirSync('/proc').some((p) => { try { return /^\d+$/.test(p) && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir); } catch { return false; } }), 15_000);
  rmSync(dir, { recursive: true, force: true });
  await assertNoLeaks(processTag());
});

test('dockerode: version, create, start, wait, logs, inspect, list, exec, volumes, remove', { skip }, async () => {
  assert.equal((await docker.version()).ApiVersion, '1.41');
  await docker.createVolume({ Name: 'clients-vol', Labels: { by: 'dockerode' } });
  const c = await docker.createContainer({ name: 'clients-dockerode', Image: IMAGE, Cmd: ['echo out; echo err >&2; echo saved > /v/f'], User: '0', HostConfig: { Binds: ['clients-vol:/v'] } });
  await c.start();
  assert.deepEqual(await c.wait(), { StatusCode: 0, Error: null });
  const logs = await c.logs({ stdout: true, stderr: true });
  const demuxed: string[] = [];
  for (let off = 0; off + 8 <= logs.length;) {
    const size = logs.readUInt32BE(off + 4);
    demuxed.push(`${logs[off] === 2 ? 'err' : 'out'}:${logs.subarray(off + 8, off + 8 + size).toString().trim()}`);
    off += 8 + size;
  }
  assert.deepEqual(demuxed.sort(), ['err:err', 'out:out']);
  const info = await c.inspect();
  assert.equal(info.State.ExitCode, 0);
  assert.equal(info.Mounts.find((m) => m.Destination === '/v')?.Name, 'clients-vol');
  const listed = await docker.listContainers({ all: true, filters: { name: ['clients-dockerode'] } });
  assert.deepEqual(listed.map((x) => x.Names), [['/clients-dockerode']]);
  const vols = await docker.listVolumes({ filters: { label: ['by=dockerode'] } });
  assert.deepEqual(vols.Volumes.map((v) => v.Name), ['clients-vol']);
  // exec in a running container
  const r = await docker.createContainer({ name: 'clients-running', Image: IMAGE, Cmd: ['sleep 60'] });
  await r.start();
  const exec = await r.exec({ Cmd: ['sh', '-c', 'id -u; cat /etc/motd'], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => { stream.on('data', (b: Buffer) => chunks.push(b)); stream.on('end', resolve); stream.on('error', reject); });
  assert.match(Buffer.concat(chunks).toString(), /1000\n[\s\S]*hello from layer 2\n/);
  assert.equal((await exec.inspect()).ExitCode, 0);
  await r.remove({ force: true, v: true });
  await c.remove({ v: true });
  await docker.getVolume('clients-vol').remove();
  assert.deepEqual((await docker.listContainers({ all: true })).length, 0);
});

test('testcontainers: a GenericContainer started with a log wait strategy, exec, stop', { skip, timeout: 120_000 }, async () => {
  process.env.DOCKER_HOST = `unix://${sock}`;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  const { GenericContainer, Wait } = await import('testcontainers');
  const started = await new GenericContainer(IMAGE)
    .withCommand(['echo starting; sleep 0.3; echo ready to serve; exec sleep 100'])
    .withEnvironment({ GREETING: 'from-testcontainers' })
    .withWaitStrategy(Wait.forLogMessage('ready to serve'))
    .withStartupTimeout(60_000)
    .start();
  try {
    const r = await started.exec(['sh', '-c', 'echo $GREETING; cat /etc/motd']);
    assert.equal(r.exitCode, 0);
    assert.equal(r.output, 'from-testcontainers\nhello from layer 2\n');
    assert.equal((await docker.getContainer(started.getId()).inspect()).State.Running, true);
  } finally {
    await started.stop();
  }
  // stop removes it (testcontainers' default), as with Docker
  await assert.rejects(docker.getContainer(started.getId()).inspect(), /no such container/i);
});
