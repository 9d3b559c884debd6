/**
 * Spare helpers for programs that start many containers (the TypeScript API's runContainer): a
 * helper made ahead of need is running and waiting for its plan by the time the next container
 * wants it, which takes its start off the container's. One spare per stdio shape; the one taken
 * is replaced once the event loop is free.
 *
 * Spares are forked by the spawner (spawner.ts, native/spawner.c), not by Node: a fork of
 * Node itself blocks the event loop for a time that grows with the program's memory. Where the
 * spawner cannot run, a spare is spawned by Node as before.
 *
 * A spare holds no reference on the event loop (the program can exit; the helper then sees EOF
 * on its sync socket and exits) and is never used for `inherit`ed or numbered fds or preserved
 * fds, which name the program's fds at spawn time. A spare has the program's cgroups and a
 * clean environment, as a helper spawned on the spot would (the spawner's cgroups are those the
 * program had when it started the spawner).
 */
import { HelperSession, spawnHelper, type HelperLauncher, type HelperOptions } from './helper-session.js';
import { closeSharedSpawner, sharedSpawner, spawnable } from './spawner.js';

const spares = new Map<string, HelperSession>();
/** Shapes whose spare the spawner is making. */
const coming = new Set<string>();

function startSpare(key: string, opts: HelperOptions): void {
  if (spares.has(key) || coming.has(key)) return;
  const spawner = sharedSpawner();
  if (spawner) {
    coming.add(key);
    spawner.request(spawnable(opts)!).then((s) => {
      coming.delete(key);
      s.setRef(false);
      if (spares.has(key)) s.kill();
      else spares.set(key, s);
    }, () => { coming.delete(key); });
    return;
  }
  try {
    const s = new HelperSession({ stdio: [...opts.stdio] });
    s.setRef(false);
    spares.set(key, s);
  } catch { /* the next launch spawns on the spot */ }
}

/** A launcher that takes a spare helper when one fits and keeps a spare ready for next time. */
export const sparingLauncher: HelperLauncher = (opts) => {
  const key = spawnable(opts)?.join(',');
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

/** Kill the spare helpers and stop the spawner (tests; a program that wants none left). */
export function dropSpareHelpers(): void {
  for (const s of spares.values()) s.kill();
  spares.clear();
  closeSharedSpawner();
}
