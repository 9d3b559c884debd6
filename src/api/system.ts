/**
 * Docker's system endpoints: /_ping (version negotiation starts here), /version, /info.
 */
import { cpus, hostname, release, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { listEngineContainers } from '../engine/containers.js';
import type { ApiContext } from './containers.js';
import { API_VERSION, MIN_API_VERSION, sendJson } from './http.js';

/** Berth's version (the CLI's), passed in by whoever starts the server. */
export interface ServerInfo {
  version: string;
}

/** The headers every answer carries, as dockerd's do: a client reads the version here. */
export function pingHeaders(): Record<string, string> {
  return { 'API-Version': API_VERSION, 'Docker-Experimental': 'false', 'OSType': 'linux', 'Server': 'Berth', 'Cache-Control': 'no-cache, no-store, must-revalidate', 'Pragma': 'no-cache' };
}

/** GET and HEAD /_ping */
export function ping(c: ApiContext): void {
  const head = c.req.method === 'HEAD';
  c.res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': head ? '0' : '2' });
  c.res.end(head ? undefined : 'OK');
}

const arch = () => ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[process.arch] ?? process.arch;

/** GET /version */
export function version(c: ApiContext, info: ServerInfo): void {
  sendJson(c.res, 200, {
    Platform: { Name: 'Berth' },
    Components: [{ Name: 'Engine', Version: info.version, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: arch(), KernelVersion: release() } }],
    Version: info.version, ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, GitCommit: '', GoVersion: `node ${process.version}`,
    Os: 'linux', Arch: arch(), KernelVersion: release(), BuildTime: '',
  });
}

function osName(): string {
  try { return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'Linux'; } catch { return 'Linux'; }
}

/** GET /info: the figures Berth has; the rest of Docker's fields as dockerd reports them when empty. */
export async function info(c: ApiContext, i: ServerInfo): Promise<void> {
  const all = await listEngineContainers(c.paths, true);
  const v2 = (() => { try { readFileSync('/sys/fs/cgroup/cgroup.controllers'); return true; } catch { return false; } })();
  sendJson(c.res, 200, {
    ID: '', Containers: all.length, ContainersRunning: all.filter((r) => r.State.Running && !r.State.Paused).length,
    ContainersPaused: all.filter((r) => r.State.Paused).length, ContainersStopped: all.filter((r) => !r.State.Running).length,
    Images: 0, Driver: 'overlay', DriverStatus: [], Plugins: { Volume: [], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['json-file'] },
    MemoryLimit: true, SwapLimit: true, CpuCfsPeriod: true, CpuCfsQuota: true, CPUShares: true, CPUSet: true, PidsLimit: true, OomKillDisable: !v2,
    IPv4Forwarding: true, Debug: false, NFd: 0, NGoroutines: 0, SystemTime: new Date().toISOString(), LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs', CgroupVersion: v2 ? '2' : '1', NEventsListener: 0, KernelVersion: release(), OperatingSystem: osName(), OSVersion: '',
    OSType: 'linux', Architecture: arch(), IndexServerAddress: 'https://index.docker.io/v1/', RegistryConfig: null, NCPU: cpus().length,
    MemTotal: totalmem(), DockerRootDir: c.paths.dataRoot, Name: hostname(), Labels: [], ExperimentalBuild: false, ServerVersion: i.version,
    Runtimes: { 'berth-runtime': { path: 'berth-runtime' } }, DefaultRuntime: 'berth-runtime', Swarm: { LocalNodeState: 'inactive' },
    LiveRestoreEnabled: true, Isolation: '', InitBinary: '', SecurityOptions: ['name=seccomp,profile=default'], Warnings: [],
  });
}
