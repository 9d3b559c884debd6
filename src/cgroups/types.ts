/**
 * Types shared by Berth's cgroup library: the detected host, the saved (crash-safe) record of a
 * container's cgroup directories, the statistics record and the `CgroupManager` interface that the
 * runtime drives. OCI resources stay in their OCI (v1-shaped) form; see convert.ts for v2 values.
 */
import type { LinuxResources } from '../oci/spec.js';

/** How the host's cgroups are mounted: only v1 hierarchies, only the v2 unified one, or both. */
export type CgroupMode = 'v1' | 'v2' | 'hybrid';

/** One cgroup mount from /proc/self/mountinfo. */
export interface CgroupMount {
  /** Where it is mounted (e.g. /sys/fs/cgroup/memory). */
  mountPoint: string;
  /** The cgroup of the hierarchy that appears at mountPoint (field 4 of mountinfo, '/' on a host). */
  root: string;
  /** v1 controllers in this hierarchy (e.g. ['cpu', 'cpuacct'] when co-mounted); [] for cgroup2. */
  controllers: string[];
}

/** What `detectCgroupHost` found. JSON-able. */
export interface CgroupHost {
  mode: CgroupMode;
  /** v1 controller name → its mount (co-mounted controllers share one mount). */
  v1: Record<string, CgroupMount>;
  /** The cgroup2 mount (/sys/fs/cgroup on v2, /sys/fs/cgroup/unified on hybrid), if any. */
  unified?: CgroupMount;
  /** Controllers available at the root of the unified hierarchy (its cgroup.controllers). */
  unifiedControllers: string[];
  /** This process's own cgroup per v1 controller, from /proc/self/cgroup. */
  self: Record<string, string>;
  /** This process's own cgroup in the unified hierarchy (the `0::` line), if any. */
  selfUnified?: string;
}

/**
 * The JSON-able record of a container's cgroup, written into the container state BEFORE anything
 * is created, so that `delete --force` after a crashed `create` can find and remove every directory.
 */
export interface SavedCgroup {
  mode: CgroupMode;
  /** The resolved cgroup path (absolute within each hierarchy, or relative to the runtime's own). */
  path: string;
  /** v1 controller → directory (empty on v2). */
  v1: Record<string, string>;
  /** The directory in the unified hierarchy (v2, or hybrid's process-tracking twin). */
  unified?: string;
  /** Mount point of the unified hierarchy: create() enables controllers from here down. */
  unifiedRoot?: string;
  /** v2 controllers that this manager applies in the unified directory (all on v2; hugetlb on this hybrid host). */
  unifiedControllers: string[];
}

/** Per-device block I/O counters. */
export interface BlkioDeviceStats {
  major: number;
  minor: number;
  readBytes: number;
  writeBytes: number;
  readOps: number;
  writeOps: number;
}

/**
 * Statistics in Docker's meaning. Every section is undefined when its controller or file is
 * missing on the host (a missing feature, not an error). CPU times are nanoseconds, sizes bytes.
 */
export interface CgroupStats {
  cpu?: {
    usageTotal: number;
    usageUser?: number;
    usageSystem?: number;
    /** Per-CPU usage (v1 cpuacct.usage_percpu); undefined on v2, which has no such file. */
    percpu?: number[];
    throttling?: { periods: number; throttledPeriods: number; throttledTime: number };
    /** cpu.stat as read, including keys Berth does not interpret. */
    raw: Record<string, number>;
  };
  memory?: {
    usage: number;
    /** usage − inactive_file (v1: total_inactive_file): Docker's "MEM USAGE". */
    workingSet: number;
    /** undefined when unlimited. */
    limit?: number;
    /** max_usage_in_bytes (v1) or memory.peak (v2, kernel ≥ 5.19). */
    peak?: number;
    cache?: number;
    rss?: number;
    swap?: number;
    kernel?: number;
    failcnt?: number;
    /** memory.stat as read. */
    raw: Record<string, number>;
  };
  pids?: { current: number; /** undefined when unlimited. */ limit?: number };
  blkio?: { devices: BlkioDeviceStats[] };
  /** Page size (e.g. '2MB') → usage. */
  hugetlb?: Record<string, { usage: number; max?: number; failcnt?: number }>;
  /** OOM kills in the cgroup so far. */
  oomKills?: number;
}

/** The two freezer states a caller can observe after freeze()/thaw() returned. */
export type FreezerState = 'frozen' | 'thawed';

/** One container's cgroup, whatever the host's mode. Every method uses tiny synchronous fs calls. */
export interface CgroupManager {
  readonly mode: CgroupMode;
  /** controller → directory ('unified' → the cgroup2 directory on v2/hybrid). */
  readonly paths: Record<string, string>;
  /** The JSON-able record to store in the container state before `create()`. */
  save(): SavedCgroup;
  /** mkdir -p in every hierarchy; on v2 enables controllers down the path; copies v1 cpuset. */
  create(): void;
  /** Validates every knob for this host, then writes them (at create time). */
  apply(resources: LinuxResources): void;
  /** Like apply, for a running container: honours the kernel's ordering rules (memory vs memsw). */
  update(resources: LinuxResources): void;
  addProcess(pid: number): void;
  /** Every pid in the cgroup and its sub-cgroups. */
  pids(): number[];
  /** The counters of every controller, or only of those named in `only` (e.g. `["memory", "pids"]`; the core files of v2 always). */
  stats(only?: readonly string[]): CgroupStats;
  /** OOM kills so far (0 when the counter is missing). Read it BEFORE destroy(). */
  oomKillCount(): number;
  /** Calls onOom(count) each time the OOM kill counter grows; returns a stop function. */
  watchOom(onOom: (count: number) => void): () => void;
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  freezerState(): FreezerState;
  /** Signals every process in the cgroup (frozen around the signalling, so no fork escapes). */
  killAll(signal?: NodeJS.Signals | number): Promise<void>;
  /** Removes every directory depth-first, retrying on EBUSY for about a second. Idempotent. */
  destroy(): Promise<void>;
  exists(): boolean;
  /**
   * v2 only: the BPF_PROG_TYPE_CGROUP_DEVICE program (raw struct bpf_insn bytes) that the last
   * apply()/update() computed from linux.resources.devices, for the native helper to load and
   * attach to `paths.unified` (see devices-bpf.ts). undefined on v1/hybrid or without rules.
   */
  deviceFilter(): Uint8Array | undefined;
}
