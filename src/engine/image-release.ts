/**
 * The synchronous removal of what an image gave a container — its root filesystem and, when
 * asked, its anonymous volumes (listed in `<container dir>/volumes.json` before they were made,
 * see image-rootfs.ts). Light on imports: the record store calls it for every removal, so it
 * takes the one path it needs (EnginePaths.dataRoot) rather than import the store back.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { removeRootfsSync } from '../storage/remove.js';

/**
 * Removes container `id`'s root filesystem (if it has one) and, with `volumes`, its anonymous
 * volumes. Synchronous, for EngineStore.remove; harmless to repeat.
 */
export function releaseImageResources(paths: { dataRoot: string }, id: string, containerDir: string, volumes: boolean): void {
  removeRootfsSync(paths.dataRoot, id);
  if (!volumes) return;
  let list: { Name: string }[] = [];
  try { list = JSON.parse(readFileSync(join(containerDir, 'volumes.json'), 'utf8')) as { Name: string }[]; } catch { /* none */ }
  for (const v of list) {
    if (/^[a-f0-9]{64}$/.test(v.Name)) rmSync(join(paths.dataRoot, 'volumes', v.Name), { recursive: true, force: true });
  }
}
