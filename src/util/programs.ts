/**
 * The programs of this installation that Berth runs besides itself: the native helper
 * (native/build/berth-helper) and the init of `--init` (native/build/berth-init). They belong to
 * the process, i.e. to the build it runs, not to the caller of a command: a warm server serves
 * only clients of its own build. So they are set once per process, by its entry point, from its
 * own environment (BERTH_HELPER, BERTH_INIT, BERTH_SPAWNER_DEBUG), before any command runs; no
 * command changes them. Unset, the package's own binaries are used.
 *
 * @example
 *   usePrograms(programsFromEnv(process.env)); // bin/berth.js, bin/berth-runtime.js, the server
 */
import type { Env } from './env.js';

/** Overrides of the installation's programs (absent: the package's own). */
export interface Programs {
  /** `BERTH_HELPER`: the native helper binary. */
  helper?: string;
  /** `BERTH_INIT`: the init binary of `--init`. */
  init?: string;
  /** `BERTH_SPAWNER_DEBUG`: the helper spawner's stderr goes to this process's. */
  spawnerDebug?: boolean;
}

let current: Programs = {};

/** The overrides in environment `env`. */
export function programsFromEnv(env: Env): Programs {
  return {
    ...(env.BERTH_HELPER ? { helper: env.BERTH_HELPER } : {}),
    ...(env.BERTH_INIT ? { init: env.BERTH_INIT } : {}),
    ...(env.BERTH_SPAWNER_DEBUG ? { spawnerDebug: true } : {}),
  };
}

/** Set this process's programs (entry points only, once, before the first command). */
export function usePrograms(p: Programs): void {
  current = { ...p };
}

/** This process's programs. */
export function programs(): Readonly<Programs> {
  return current;
}
