/**
 * What `berth info` and the Engine API's /info report: the engine's figures in Docker's field
 * names (moby types.Info), with dockerd's empty values for what Berth has no notion of.
 */
import { readFileSync } from 'node:fs';
import { cpus, hostname, release, totalmem } from 'node:os';
import { listImages } from '../image/index.js';
import { listEngineContainers } from './containers.js';
import type { EnginePaths } from './store.js';

/** The newest Engine API version Berth speaks (Docker 20.10's), and the oldest it accepts (dockerd's). */
export const API_VERSION = '1.41';
export const MIN_API_VERSION = '1.24';

/** Docker's architecture name of this machine. */
export function dockerArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[process.arch] ?? process.arch;
}

function osName(): string {
  try { return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'Linux'; } catch { return 'Linux'; }
}

/** The engine's info document. */
export async function engineInfo(paths: EnginePaths, version: string): Promise<Record<string, unknown>> {
  const all = await listEngineContainers(paths, true);
  const images = await listImages({ root: paths.dataRoot }).catch(() => []);
  const v2 = (() => { try { readFileSync('/sys/fs/cgroup/cgroup.controllers'); return true; } catch { return false; } })();
  return {
    ID: '', Containers: all.length, ContainersRunning: all.filter((r) => r.State.Running && !r.State.Paused).length,
    ContainersPaused: all.filter((r) => r.State.Paused).length, ContainersStopped: all.filter((r) => !r.State.Running).length,
    Images: images.length, Driver: 'overlay', DriverStatus: [], Plugins: { Volume: [], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['json-file'] },
    MemoryLimit: true, SwapLimit: true, CpuCfsPeriod: true, CpuCfsQuota: true, CPUShares: true, CPUSet: true, PidsLimit: true, OomKillDisable: !v2,
    IPv4Forwarding: true, Debug: false, NFd: 0, NGoroutines: 0, SystemTime: new Date().toISOString(), LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs', CgroupVersion: v2 ? '2' : '1', NEventsListener: 0, KernelVersion: release(), OperatingSystem: osName(), OSVersion: '',
    OSType: 'linux', Architecture: dockerArch(), IndexServerAddress: 'https://index.docker.io/v1/', RegistryConfig: null, NCPU: cpus().length,
    MemTotal: totalmem(), DockerRootDir: paths.dataRoot, Name: hostname(), Labels: [], ExperimentalBuild: false, ServerVersion: version,
    Runtimes: { 'berth-runtime': { path: 'berth-runtime' } }, DefaultRuntime: 'berth-runtime', Swarm: { LocalNodeState: 'inactive' },
    LiveRestoreEnabled: true, Isolation: '', InitBinary: '', SecurityOptions: ['name=seccomp,profile=default'], Warnings: [],
  };
}

/** The engine's side of Docker's /version document (`berth version`'s Server, the API's /version). */
export function versionDocument(version: string): Record<string, unknown> {
  return {
    Platform: { Name: 'Berth' },
    Components: [{ Name: 'Engine', Version: version, Details: { ApiVersion: API_VERSION, Arch: dockerArch(), BuildTime: '', Experimental: 'false', GitCommit: '',
      GoVersion: `node ${process.version}`, KernelVersion: release(), MinAPIVersion: MIN_API_VERSION, Os: 'linux' } }],
    Version: version, ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, GitCommit: '', GoVersion: `node ${process.version}`,
    Os: 'linux', Arch: dockerArch(), KernelVersion: release(), BuildTime: '',
  };
}
