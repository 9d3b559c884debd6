/**
 * A container's configuration in the shape of the Docker Engine API (`Config` and `HostConfig`
 * of POST /containers/create, and of `docker inspect`). Keeping Docker's field names and meanings
 * means `berth inspect` prints them as they are, and the future Docker-compatible API server takes
 * request bodies without translation. Sizes are bytes, CPU is in nano-CPUs, like Docker's.
 * Berth's own additions are marked; they live beside Docker's fields, never in place of them.
 */
import type { EndpointSettings } from '../network/attach.js';

/** Docker's `Config`: what runs (the image's side of the container). */
export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[];
  /** `host` when the container runs on the host's own system directories (no image). */
  Image: string;
  WorkingDir: string;
  /** null when the image's (or no) entrypoint is used. */
  Entrypoint: string[] | null;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
  /** Exposed ports ("80/tcp": {}): the image's, --expose and -p's; -P publishes them all. */
  ExposedPorts?: Record<string, object>;
  /** --mac-address (Docker 1.41 keeps it here): the MAC of the first network's interface. */
  MacAddress?: string;
  /** The image's volumes ("/data": {}): each gets an anonymous volume (engine/image-rootfs.ts). */
  Volumes?: Record<string, object>;
}

/** One `--mount`, as Docker's API takes it. */
export interface MountConfig {
  Type: 'bind' | 'tmpfs' | 'volume';
  /** A host path (bind), a volume's name ('' for an anonymous volume), '' (tmpfs). */
  Source: string;
  Target: string;
  ReadOnly: boolean;
  BindOptions?: { Propagation?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
  /** type=volume: volume-nocopy, and the labels and driver of a volume made by this mount. */
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name?: string; Options?: Record<string, string> } };
}

/** One entry of inspect's Mounts (Docker's MountPoint). */
export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

/** `--blkio-weight-device PATH:WEIGHT`. */
export interface WeightDevice {
  Path: string;
  Weight: number;
}

/** `--device-read-bps PATH:RATE` and its siblings (bytes or operations per second). */
export interface ThrottleDevice {
  Path: string;
  Rate: number;
}

/** `--ulimit NAME=SOFT[:HARD]` (name without RLIMIT_, lower case, as Docker prints it). */
export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

/** `--device HOST[:CONTAINER[:PERMS]]`. */
export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

/** Docker's `HostConfig`: how it runs on this host (resources, security, namespaces, mounts). */
export interface HostConfig {
  /** `-v SRC:DST[:OPTS]`: SRC is an absolute host path or a volume's name. */
  Binds: string[];
  Mounts: MountConfig[];
  /** `--volumes-from CONTAINER[:ro|:rw]`. Absent in records made before volumes. */
  VolumesFrom?: string[];
  Tmpfs: Record<string, string>;
  ReadonlyRootfs: boolean;
  AutoRemove: boolean;
  Privileged: boolean;
  CapAdd: string[];
  CapDrop: string[];
  SecurityOpt: string[];
  CgroupParent: string;
  /** `host` or `private`. */
  CgroupnsMode: string;
  PidMode: string;
  IpcMode: string;
  UTSMode: string;
  UsernsMode: string;
  /** none, host, container:NAME, '' (Berth's default: none, see docs/networking.md), or a network's name. */
  NetworkMode: string;
  /** -p: "80/tcp" → host bindings (network/ports.ts). Absent in records made before networks. */
  PortBindings?: Record<string, { HostIp: string; HostPort: string }[]>;
  /** -P: publish every exposed port on a random host port. */
  PublishAllPorts?: boolean;
  /** --dns, --dns-search, --dns-option, --add-host. */
  Dns?: string[];
  DnsSearch?: string[];
  DnsOptions?: string[];
  ExtraHosts?: string[];
  ShmSize: number;
  OomScoreAdj: number;
  Init: boolean;
  RestartPolicy: { Name: string; MaximumRetryCount: number };
  // Resources (Docker's embedded `Resources` struct, flattened into HostConfig as Docker prints it).
  Memory: number;
  MemorySwap: number;
  MemoryReservation: number;
  /** null = the kernel's default (Docker prints null when unset). */
  MemorySwappiness: number | null;
  OomKillDisable: boolean;
  NanoCpus: number;
  CpuShares: number;
  CpuPeriod: number;
  CpuQuota: number;
  CpusetCpus: string;
  CpusetMems: string;
  /** null = unlimited. */
  PidsLimit: number | null;
  BlkioWeight: number;
  BlkioWeightDevice: WeightDevice[];
  BlkioDeviceReadBps: ThrottleDevice[];
  BlkioDeviceWriteBps: ThrottleDevice[];
  BlkioDeviceReadIOps: ThrottleDevice[];
  BlkioDeviceWriteIOps: ThrottleDevice[];
  Ulimits: Ulimit[];
  Devices: DeviceMapping[];
  DeviceCgroupRules: string[];
  /** Berth (Podman's --cgroup-conf): raw cgroup v2 knobs, file name → value. */
  CgroupConf: Record<string, string>;
}

/** Everything needed to create a container: Docker's two halves plus Berth's own choices. */
export interface CreateRequest {
  /** Docker's container name (without the leading /); generated when absent. */
  name?: string;
  /** `--rootfs DIR`: an unpacked root filesystem instead of an image. */
  rootfs?: string;
  /** Print the outcome table on stderr when the container stops (`--report`). */
  report?: boolean;
  config: ContainerConfig;
  hostConfig: HostConfig;
  /** Docker's NetworkingConfig: per network, --network-alias and --ip. */
  networkingConfig?: { EndpointsConfig: Record<string, EndpointConfig> };
  /** `--pull`: pull the image first (always), when it is missing (the default), or never. */
  pull?: 'always' | 'missing' | 'never';
  /** `--platform os/arch[/variant]`: the image's platform (only this host's can run: no emulation). */
  platform?: string;
}

/** Docker's EndpointSettings as a create request gives them. */
export interface EndpointConfig {
  Aliases?: string[];
  IPAMConfig?: { IPv4Address?: string };
  MacAddress?: string;
}

/** A Config with Docker's defaults (what `docker run IMAGE` gets with no flags). */
export function defaultContainerConfig(): ContainerConfig {
  return {
    Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: true, AttachStderr: true,
    Tty: false, OpenStdin: false, StdinOnce: false, Env: [], Cmd: [], Image: 'host', WorkingDir: '',
    Entrypoint: null, Labels: {},
  };
}

/** A HostConfig with Docker's defaults. */
export function defaultHostConfig(): HostConfig {
  return {
    Binds: [], Mounts: [], Tmpfs: {}, ReadonlyRootfs: false, AutoRemove: false, Privileged: false,
    CapAdd: [], CapDrop: [], SecurityOpt: [], CgroupParent: '', CgroupnsMode: '', PidMode: '',
    IpcMode: '', UTSMode: '', UsernsMode: '', NetworkMode: '', PortBindings: {}, PublishAllPorts: false,
    Dns: [], DnsSearch: [], DnsOptions: [], ExtraHosts: [], ShmSize: 0, OomScoreAdj: 0, Init: false,
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    Memory: 0, MemorySwap: 0, MemoryReservation: 0, MemorySwappiness: null, OomKillDisable: false,
    NanoCpus: 0, CpuShares: 0, CpuPeriod: 0, CpuQuota: 0, CpusetCpus: '', CpusetMems: '', PidsLimit: null,
    BlkioWeight: 0, BlkioWeightDevice: [], BlkioDeviceReadBps: [], BlkioDeviceWriteBps: [],
    BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [], Ulimits: [], Devices: [], DeviceCgroupRules: [],
    CgroupConf: {},
  };
}

/** Docker's NetworkSettings, as inspect prints it. */
export interface NetworkSettings {
  Bridge: string;
  SandboxID: string;
  HairpinMode: boolean;
  LinkLocalIPv6Address: string;
  LinkLocalIPv6PrefixLen: number;
  Ports: Record<string, { HostIp: string; HostPort: string }[] | null>;
  SandboxKey: string;
  SecondaryIPAddresses: null;
  SecondaryIPv6Addresses: null;
  EndpointID: string;
  Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  MacAddress: string;
  Networks: Record<string, EndpointSettings>;
}
