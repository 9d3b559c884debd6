/**
 * Progress of pulls, pushes and loads: events from the library, and a renderer that draws bars
 * on a terminal and prints one plain line per step otherwise (logs, CI, pipes).
 */

/** One step of one blob. */
export interface ProgressEvent {
  /** The blob's short id (12 hex digits) or a label. */
  id: string;
  action: 'exists' | 'downloading' | 'downloaded' | 'uploading' | 'uploaded' | 'unpacking' | 'done' | 'retrying';
  current?: number;
  total?: number;
}

/** Receives progress events. */
export type ProgressFn = (e: ProgressEvent) => void;

const mb = (n: number): string => `${(n / 1e6).toFixed(1)}MB`;

/**
 * A ProgressFn writing to `out`: on a TTY, one redrawn line per blob with a bar; otherwise a
 * line per state change (no byte counts, so logs stay short).
 */
export function progressPrinter(out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }): ProgressFn {
  if (!out.isTTY) {
    return (e) => { if (e.action !== 'downloading' && e.action !== 'uploading') out.write(`${e.id}: ${e.action}\n`); };
  }
  const rows: string[] = [];
  const lines = new Map<string, string>();
  let last = 0;
  let drawn = 0;
  return (e) => {
    if (!lines.has(e.id)) rows.push(e.id);
    let text = `${e.id}: ${e.action}`;
    if (e.total && e.current !== undefined) {
      const w = 30;
      const f = Math.min(w, Math.round((e.current / e.total) * w));
      text += ` [${'='.repeat(f)}${f < w ? '>' : ''}${' '.repeat(Math.max(0, w - f - 1))}] ${mb(e.current)}/${mb(e.total)}`;
    }
    lines.set(e.id, text);
    const now = Date.now();
    if (e.action === 'downloading' && now - last < 100) return; // redraw at most 10 times a second
    last = now;
    if (drawn > 0) out.write(`\x1b[${drawn}A`); // back to the first row, then redraw all
    out.write(rows.map((r) => `\x1b[2K${lines.get(r) ?? ''}\n`).join(''));
    drawn = rows.length;
  };
}
