/**
 * `docker inspect`'s document of a container, made from the record in one place: Docker's own
 * fields as recorded, the ones Docker derives (Image, Driver, GraphDriver, Mounts, LogPath), and
 * Berth's additions under one key of their own, `Berth` (the outcome report and who killed the
 * container). The rest of Berth's bookkeeping (monitor and restart-waiter pids, paths, flags)
 * is not shown.
 */
import type { ContainerConfig, HostConfig } from './config.js';
import type { Report } from './report.js';
import { emptyNetworkSettings, etcPaths } from './networking.js';
import type { NetworkSettings } from './config.js';
import { recordMountPoints } from './volumes.js';
import { DOCKER_MASKED_PATHS, DOCKER_READONLY_PATHS } from './security.js';
import { EngineStore, recordParts, type Bookkeeping, type ContainerState, type EnginePaths, type EngineRecord } from './store.js';

/** One entry of inspect's Mounts. */
export interface InspectMount {
  Type: string;
  Name?: string;
  Source: string | undefined;
  Destination: string | undefined;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

/** The container document `berth inspect` prints (Docker's shape, in Docker's key order, plus `Berth`). */
export interface DockerInspect {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  Image: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  LogPath: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: 'linux';
  MountLabel: string;
  ProcessLabel: string;
  AppArmorProfile: string;
  /** With Docker's fields Berth does not model, at what they are in Docker when unset (dockerHostConfig). */
  ExecIDs: null;
  HostConfig: HostConfig & { LogConfig: { Type: string; Config: Record<string, string> } } & Record<string, unknown>;
  GraphDriver: { Name: string; Data: { RootPath: string } };
  Mounts: InspectMount[];
  Config: ContainerConfig;
  NetworkSettings: NetworkSettings;
  /** Berth's own: the last run's outcome report and the signal Berth sent, if any. */
  Berth: { Report: Report | null; KilledBy: NonNullable<Bookkeeping['KilledBy']> | null };
}

/** The `docker inspect` document of a container (plus Berth's outcome report). */
export function inspectDocument(rec: EngineRecord, paths: EnginePaths): DockerInspect {
  const { docker, berth } = recordParts(rec);
  const etc = etcPaths(paths, docker.Id);
  const driver = berth.StorageDriver ?? (berth.UserRootfs ? 'rootfs' : 'host');
  return {
    Id: docker.Id,
    Created: docker.Created,
    Path: docker.Path,
    Args: docker.Args,
    State: docker.State,
    Image: berth.ImageId ?? docker.Config.Image,
    ResolvConfPath: docker.NetworkSettings ? etc.resolv : '',
    HostnamePath: docker.NetworkSettings ? etc.hostname : '',
    HostsPath: docker.NetworkSettings ? etc.hosts : '',
    LogPath: new EngineStore(paths).logPath(docker.Id),
    Name: `/${docker.Name}`,
    RestartCount: docker.RestartCount,
    Driver: driver,
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    // Docker's LogConfig: every container logs to its json-file (clients such as docker compose
    // read logs only from a driver they know).
    HostConfig: dockerHostConfig(docker.HostConfig),
    GraphDriver: { Name: driver, Data: { RootPath: berth.RootPath } },
    Mounts: recordMountPoints(rec),
    Config: { ...docker.Config, OnBuild: null } as DockerInspect['Config'],
    NetworkSettings: docker.NetworkSettings ?? emptyNetworkSettings(),
    Berth: { Report: berth.Outcome ?? null, KilledBy: berth.KilledBy ?? null },
  };
}

/**
 * Docker's HostConfig as `docker inspect` shows it: Berth's fields, then the ones Berth does not
 * model at their unset value in Docker (so clients that read them find them, as the differential
 * test against dockerd checks: test/integration/api-dockerd.test.ts), the log driver Berth
 * has (json-file), and without the optional fields Docker omits when empty (Mounts, Tmpfs, Init,
 * Berth's CgroupConf).
 */
function dockerHostConfig(hc: HostConfig): DockerInspect['HostConfig'] {
  const unconfined = hc.Privileged || hc.SecurityOpt.includes('systempaths=unconfined');
  const out: Record<string, unknown> = {
    ContainerIDFile: '', LogConfig: { Type: 'json-file', Config: {} }, VolumeDriver: '', VolumesFrom: null, GroupAdd: null, Cgroup: '', Links: null,
    Runtime: 'runc', ConsoleSize: [0, 0], Isolation: '', CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, DeviceRequests: null, KernelMemory: 0,
    KernelMemoryTCP: 0, CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0,
    ...hc,
    MaskedPaths: unconfined ? null : [...DOCKER_MASKED_PATHS], ReadonlyPaths: unconfined ? null : [...DOCKER_READONLY_PATHS],
  };
  if (!hc.Mounts.length) delete out.Mounts;
  if (!Object.keys(hc.Tmpfs).length) delete out.Tmpfs;
  if (!hc.Init) delete out.Init;
  if (!Object.keys((hc as { CgroupConf?: object }).CgroupConf ?? {}).length) delete out.CgroupConf;
  return out as DockerInspect['HostConfig'];
}
