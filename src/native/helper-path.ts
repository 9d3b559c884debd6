/**
 * Where the native helper binary is, for everything that runs it: the helper sessions of
 * containers (helper-session.ts), the spawner, and the one-shot modes (one-shot.ts, fileops.ts).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BerthError } from '../util/errors.js';
import { programs } from '../util/programs.js';

/** Where the helper binary is: the process's `BERTH_HELPER` (util/programs.ts), or native/build/berth-helper of this package. */
export function helperPath(): string {
  const fromEnv = programs().helper;
  if (fromEnv) return fromEnv;
  const path = fileURLToPath(new URL('../../../native/build/berth-helper', import.meta.url));
  if (!existsSync(path)) {
    throw new BerthError('EHELPER', `native helper ${path} is missing: run npm run build`);
  }
  return path;
}
