/**
 * A real OCI registry for tests: Debian's docker-registry (the CNCF distribution registry),
 * started on 127.0.0.1:<free port> with its storage in a `berth-test-*` temporary directory and
 * stopped by PID. Skips when docker-registry is not installed (apt-get install docker-registry;
 * its systemd service is not used).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processTag } from './bundle.js';

/** A running registry. */
export interface TestRegistry {
  /** host:port, e.g. "127.0.0.1:40123". */
  host: string;
  dir: string;
  stop(): Promise<void>;
}

/** Why the registry cannot run here, or undefined. */
export function whyNoRegistry(): string | undefined {
  return existsSync('/usr/bin/docker-registry') ? undefined : 'docker-registry not installed (apt-get install docker-registry)';
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts a registry and waits until /v2/ answers. `htpasswd` enables basic auth with that file;
 * `token` enables bearer-token auth: tokens from `realm`, signed by the key of `certBundle`.
 */
export async function startRegistry(opts: { htpasswd?: string; token?: { realm: string; service: string; issuer: string; certBundle: string } } = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), `${processTag()}-registry-`));
  const port = await freePort();
  const t = opts.token;
  const auth = opts.htpasswd ? `auth:\n  htpasswd:\n    realm: berth-test\n    path: ${opts.htpasswd}\n`
    : t ? `auth:\n  token:\n    realm: ${t.realm}\n    service: ${t.service}\n    issuer: ${t.issuer}\n    rootcertbundle: ${t.certBundle}\n` : '';
  await writeFile(join(dir, 'config.yml'), `version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
${auth}http:
  addr: 127.0.0.1:${port}
`);
  const child: ChildProcess = spawn('/usr/bin/docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.pid) {
      const exited = new Promise((r) => child.once('exit', r));
      try { process.kill(child.pid, 'SIGTERM'); } catch { /* exited meanwhile */ }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) { try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ } }
    }
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) { await stop(); throw new Error(`docker-registry exited: ${stderr}`); }
    const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.status === 200 || r.status === 401, () => false);
    if (ok) return { host: `127.0.0.1:${port}`, dir, stop };
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`docker-registry did not start: ${stderr}`);
}
