/**
 * Spare helpers for programs that start many containers (the TypeScript API's runContainer): a
 * helper spawned ahead of need has already been exec'd, copied itself into its sealed memfd and
 * re-exec'd from it (the CVE-2019-5736 defence, native/memfd.c) by the time the next container
 * wants it, which takes that work off the container's start. One spare per stdio shape; the one
 * taken is replaced once the event loop is free. A spare holds no reference on the event loop
 * (the program can exit; the helper then sees EOF on its sync socket and exits) and is never
 * used for `inherit`ed or numbered fds or preserved fds, which name the program's fds at
 * spawn time. A spare is spawned with the program's cgroups and environment at that time,
 * as a helper spawned on the spot would be a moment later.
 */
import { HelperSession, spawnHelper, type HelperLauncher, type HelperOptions } from './helper.js';

const spares = new Map<string, HelperSession>();

/** The key of a stdio shape that a spare can serve, or undefined. */
function shapeOf(opts: HelperOptions): string | undefined {
  if (opts.preserveFds) return undefined;
  if (!opts.stdio.every((x) => x === 'pipe' || x === 'ignore')) return undefined;
  return opts.stdio.join(',');
}

function startSpare(key: string, opts: HelperOptions): void {
  if (spares.has(key)) return;
  try {
    const s = new HelperSession({ stdio: [...opts.stdio] });
    s.setRef(false);
    spares.set(key, s);
  } catch { /* the next launch spawns on the spot */ }
}

/** A launcher that takes a spare helper when one fits and keeps a spare ready for next time. */
export const sparingLauncher: HelperLauncher = (opts) => {
  const key = shapeOf(opts);
  if (key === undefined) return spawnHelper(opts);
  const spare = spares.get(key);
  spares.delete(key);
  setImmediate(() => startSpare(key, opts));
  if (spare?.idle) {
    spare.setRef(true);
    return spare;
  }
  spare?.kill();
  return spawnHelper(opts);
};

/** Kill the spare helpers (tests; a program that wants none left). */
export function dropSpareHelpers(): void {
  for (const s of spares.values()) s.kill();
  spares.clear();
}
