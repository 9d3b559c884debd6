/**
 * The synchronous removal of what an image gave a container — its root filesystem and, when
 * asked, its anonymous volumes (listed in `<container dir>/volumes.json` before they were made,
 * see image-rootfs.ts). Light on imports: the record store calls it for every removal, so it
 * takes the one path it needs (EnginePaths.dataRoot) rather than import the store back.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { removeRootfsSync } from '../storage/remove.js';

/**
 * Removes container `id`'s root filesystem (if it has one) and, with `volumes`, its anonymous
 * volumes. Synchronous, for EngineStore.remove; harmless to repeat.
 */
export function releaseImageResources(paths: { dataRoot: string }, id: string, containerDir: string, volumes: boolean): void {
  removeRootfsSync(paths.dataRoot, id);
  if (!volumes) return;
  let list: { Name: string; Shared?: true }[] = [];
  try { list = JSON.parse(readFileSync(join(containerDir, 'volumes.json'), 'utf8')) as typeof list; } catch { /* none */ }
  // Its own anonymous volumes only (not named ones, not those it has through --volumes-from),
  // and not while another container uses one (Docker's rm -v leaves a volume in use).
  const own = list.filter((v) => !v.Shared && /^[a-f0-9]{64}$/.test(v.Name));
  if (!own.length) return;
  const usedElsewhere = new Set<string>();
  const containers = join(paths.dataRoot, 'containers');
  let ids: string[] = [];
  try { ids = readdirSync(containers); } catch { /* none */ }
  for (const other of ids) {
    if (join(containers, other) === containerDir) continue;
    try {
      for (const v of JSON.parse(readFileSync(join(containers, other, 'volumes.json'), 'utf8')) as { Name: string }[]) usedElsewhere.add(v.Name);
    } catch { /* no volumes */ }
  }
  for (const v of own) {
    if (!usedElsewhere.has(v.Name)) rmSync(join(paths.dataRoot, 'volumes', v.Name), { recursive: true, force: true });
  }
}
