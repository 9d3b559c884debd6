/**
 * `berth stats [-a] [--no-stream] [--format table|json|TEMPLATE] [CONTAINER...]`: a live table
 * of usage refreshing every second like `docker stats` (the screen is redrawn with ANSI codes),
 * or one reading with --no-stream. `berth top CONTAINER [ps OPTIONS]`: the container's processes.
 */
import { bool, str } from '../args.js';
import { formatTable } from '../table.js';
import { findContainer, listEngineContainers } from '../../engine/containers.js';
import { sampleStats, statsRow, topRows, type StatsSample } from '../../engine/stats.js';
import type { EngineRecord } from '../../engine/store.js';
import { pause } from '../../util/pause.js';
import { CALLER_GONE, type Command } from './context.js';
import { isTableFormat, renderTemplate, tableTemplate } from './format.js';

const COLUMNS: [string, string][] = [
  ['CONTAINER ID', 'ID'], ['NAME', 'Name'], ['CPU %', 'CPUPerc'], ['MEM USAGE / LIMIT', 'MemUsage'],
  ['MEM %', 'MemPerc'], ['NET I/O', 'NetIO'], ['BLOCK I/O', 'BlockIO'], ['PIDS', 'PIDs'],
];

function render(rows: Record<string, string>[], format: string): string {
  if (format === 'json') return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
  if (format === 'table') return formatTable([COLUMNS.map(([h]) => h), ...rows.map((r) => COLUMNS.map(([, k]) => r[k]!))], 10, 3);
  if (isTableFormat(format)) return tableTemplate(format, { headers: { Container: 'CONTAINER', ...Object.fromEntries(COLUMNS.map(([h, k]) => [k, h])) } }).render(rows);
  return rows.map((r) => `${renderTemplate(format, r)}\n`).join('');
}

export const stats: Command = {
  name: 'stats',
  aliases: ['container stats'],
  usage: 'stats [OPTIONS] [CONTAINER...]',
  summary: 'display a live stream of container(s) resource usage statistics',
  warm: () => true,
  flags: [
    { name: 'all', aliases: ['a'], type: 'bool', help: 'show all containers (default shows just running)' },
    { name: 'no-stream', type: 'bool', help: 'disable streaming stats and only pull the first result' },
    { name: 'no-trunc', type: 'bool', help: 'do not truncate output' },
    { name: 'format', type: 'string', help: 'format output using a custom template: table, json or a go template' },
  ],
  args: [0, -1],
  async run(ctx, p) {
    const format = str(p, 'format') ?? 'table';
    const pick = async (): Promise<EngineRecord[]> => (p.positional.length
      ? Promise.all(p.positional.map((ref) => findContainer(ctx.paths, ref)))
      : listEngineContainers(ctx.paths, bool(p, 'all')));
    let prev = new Map<string, StatsSample>();
    // The first CPU % needs a reading before it, as Docker's precpu_stats.
    for (const rec of await pick()) prev.set(rec.Id, await sampleStats(ctx.paths, rec));
    for (;;) {
      await pause(bool(p, 'no-stream') ? 500 : 1000, ctx.gone);
      if (ctx.gone?.aborted) return CALLER_GONE;
      const next = new Map<string, StatsSample>();
      const rows: Record<string, string>[] = [];
      for (const rec of await pick()) {
        const s = await sampleStats(ctx.paths, rec);
        next.set(rec.Id, s);
        const row = statsRow(prev.get(rec.Id), s);
        if (bool(p, 'no-trunc')) { row.ID = rec.Id; row.Container = rec.Id; }
        rows.push(row);
      }
      prev = next;
      const text = render(rows, format);
      if (bool(p, 'no-stream')) {
        ctx.stdout.write(text);
        return 0;
      }
      // Clear the screen and home the cursor, as docker stats does on a terminal.
      ctx.stdout.write(ctx.stdout.isTTY ? `\x1b[2J\x1b[H${text}` : text);
    }
  },
};

export const top: Command = {
  name: 'top',
  aliases: ['container top'],
  usage: 'top CONTAINER [ps OPTIONS]',
  summary: 'display the running processes of a container',
  warm: () => true,
  flags: [],
  args: [1, -1],
  stopAtPositional: true,
  async run(ctx, p) {
    const rec = await findContainer(ctx.paths, p.positional[0]!);
    ctx.stdout.write(formatTable(await topRows(ctx.paths, rec, p.positional.slice(1)), 0, 3));
    return 0;
  },
};
