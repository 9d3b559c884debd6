/**
 * What the engine takes from the caller of a command besides its paths: the settings that came
 * from the process itself before (its cgroup, its environment), so that one process can run
 * commands for several callers. The CLI builds it from the command's CommandIO (src/cli/io.ts);
 * the TypeScript API from its options. Everything is optional: absent means this process's own
 * cgroup and the built-in defaults.
 */
import type { ImageOptions } from '../image/index.js';
import type { Driver } from '../image/rootfs.js';
import { retryPolicy } from '../image/registry/retry.js';
import { configDir } from '../image/registry/credentials.js';

/** The caller's side of an engine operation. */
export interface EngineCaller {
  /**
   * The caller's pid: a relative cgroup path (`--cgroup-parent`) goes below its cgroups
   * (/proc/<pid>/cgroup), as if it had run the engine itself. Absent: this process's.
   */
  cgroupOf?: number;
  /** How an image is pulled for the caller: its credentials, insecure registries and retries. */
  image?: Pick<ImageOptions, 'configDir' | 'insecure' | 'retry'>;
  /** `BERTH_STORAGE_DRIVER`: how a container's root filesystem is made from an image. */
  storageDriver?: Driver;
  /**
   * `BERTH_DEFAULT_NETWORK`: the network of a container created without --network (Docker's
   * `bridge` when absent; `none` is Docker's `dockerd --bridge none`: a namespace with lo only).
   */
  defaultNetwork?: string;
  /**
   * A missing image is an error, not a pull: the Engine API's create answers dockerd's 404 "No
   * such image" and the client (the docker CLI, compose) pulls, with its own progress output.
   */
  noPull?: boolean;
  /**
   * `BERTH_CGROUP_PARENT`: the cgroup parent of a container created without --cgroup-parent
   * (dockerd's `--cgroup-parent`; relative: below the caller's cgroup). Absent: Berth's /berth.
   */
  cgroupParent?: string;
}

/**
 * The settings a caller's environment gives the engine: BERTH_CONFIG_DIR (or HOME),
 * BERTH_INSECURE_REGISTRIES, BERTH_REGISTRY_BACKOFF_MS / _ATTEMPTS, BERTH_STORAGE_DRIVER,
 * BERTH_DEFAULT_NETWORK, BERTH_CGROUP_PARENT.
 *
 * @example
 *   const caller = { cgroupOf: clientPid, ...callerFromEnv({ HOME: '/root', BERTH_STORAGE_DRIVER: 'copy' }) };
 */
export function callerFromEnv(env: Readonly<Record<string, string | undefined>>): EngineCaller {
  const insecure = (env.BERTH_INSECURE_REGISTRIES ?? '').split(',').filter(Boolean);
  const driver = env.BERTH_STORAGE_DRIVER;
  const network = env.BERTH_DEFAULT_NETWORK;
  const cgroupParent = env.BERTH_CGROUP_PARENT;
  return {
    image: { configDir: configDir(env), retry: retryPolicy(env), ...(insecure.length ? { insecure } : {}) },
    ...(driver !== undefined ? { storageDriver: driver as Driver } : {}),
    ...(network ? { defaultNetwork: network } : {}),
    ...(cgroupParent ? { cgroupParent } : {}),
  };
}
