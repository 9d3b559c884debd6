/**
 * Column alignment like Go's text/tabwriter, which runc and Docker use for their tables:
 * every column but the last is padded to max(minWidth, widest cell + padding).
 */
export function formatTable(rows: string[][], minWidth = 12, padding = 3): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      if (i < row.length - 1) widths[i] = Math.max(widths[i] ?? 0, minWidth, cell.length + padding);
    });
  }
  return rows.map((row) => row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i]!) : cell)).join('')).join('\n') + '\n';
}
