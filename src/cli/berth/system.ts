/**
 * `berth system df [-v]`: disk usage by images, containers, local volumes and build cache, in
 * Docker's table. Containers count their writable layer (a host container's own directory) and
 * their logs; images are not stored by the engine yet, so their line is zero.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatTable } from '../table.js';
import { listEngineContainers } from '../../engine/containers.js';
import { EngineStore } from '../../engine/store.js';
import type { Command } from './context.js';

/** Bytes used by the files below `dir` (not following symlinks, not crossing into mounts' contents). */
function duBytes(dir: string, dev?: number): number {
  let total = 0;
  let st;
  try { st = lstatSync(dir); } catch { return 0; }
  if (dev !== undefined && st.dev !== dev) return 0;
  total += st.isDirectory() ? 0 : st.blocks * 512;
  if (!st.isDirectory()) return total;
  let names: string[] = [];
  try { names = readdirSync(dir); } catch { return total; }
  for (const n of names) total += duBytes(join(dir, n), st.dev);
  return total;
}

/** go-units HumanSize (decimal). */
function human(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${Number(n.toPrecision(3))}${units[i]}`;
}

export const system: Command = {
  name: 'system',
  usage: 'system df',
  summary: 'manage berth (df: show disk usage)',
  warm: () => true,
  flags: [{ name: 'verbose', aliases: ['v'], type: 'bool', help: 'show detailed information on space usage' }],
  args: [1, 1],
  async run(ctx, p) {
    if (p.positional[0] !== 'df') {
      ctx.stderr.write(`berth: unknown command "system ${p.positional[0]}": supported: system df, system events, system info, system service\n`);
      return 1;
    }
    const store = new EngineStore(ctx.paths);
    const all = await listEngineContainers(ctx.paths, true);
    let size = 0;
    let reclaimable = 0;
    for (const rec of all) {
      const s = duBytes(store.dir(rec.Id));
      size += s;
      if (!rec.State.Running) reclaimable += s;
    }
    const active = all.filter((r) => r.State.Running).length;
    const pct = size ? ` (${Math.round((reclaimable / size) * 100)}%)` : '';
    ctx.stdout.write(formatTable([
      ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'],
      ['Images', '0', '0', '0B', '0B'],
      ['Containers', String(all.length), String(active), human(size), `${human(reclaimable)}${pct}`],
      ['Local Volumes', '0', '0', '0B', '0B'],
      ['Build Cache', '0', '0', '0B', '0B'],
    ], 10, 3));
    return 0;
  },
};
