/**
 * Docker's output helpers: human durations (go-units HumanDuration), the STATUS column, and a
 * small subset of Go templates for --format: `{{.Field.Sub}}`, `{{json .Field}}`, `{{.Field}}`
 * inside text, and `table` prefixes.
 */
import { BerthError } from '../../util/errors.js';

export { humanDuration, statusText } from '../../engine/status.js';

function lookup(data: unknown, path: string): unknown {
  let v: unknown = data;
  for (const key of path.split('.').filter(Boolean)) {
    v = v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  }
  return v;
}

function show(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (Array.isArray(v)) return `[${v.map(show).join(' ')}]`;
  if (typeof v === 'object') return `map[${Object.entries(v as object).map(([k, x]) => `${k}:${show(x)}`).join(' ')}]`;
  return String(v);
}

/** Render a Go-template subset against `data`. */
export function renderTemplate(tpl: string, data: unknown): string {
  return tpl.replace(/\{\{\s*(json\s+)?\.([\w.]*)\s*\}\}/g, (_, json: string | undefined, path: string) => {
    const v = lookup(data, path);
    return json ? JSON.stringify(v ?? null) : show(v);
  }).replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

/**
 * Docker's `inspect` output for several references: one JSON array of the documents found (or
 * one rendered template per document), an error line for each reference that fails; returns
 * the exit code (1 when any failed).
 */
export async function printInspect<T>(out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }, refs: readonly string[],
  get: (ref: string) => Promise<T>, format: string | undefined): Promise<number> {
  const docs: T[] = [];
  let code = 0;
  for (const ref of refs) {
    try {
      docs.push(await get(ref));
    } catch (err) {
      if (!(err instanceof BerthError)) throw err;
      out.stderr.write(`berth: ${err.message}\n`);
      code = 1;
    }
  }
  if (format && format !== 'json') out.stdout.write(docs.map((d) => `${renderTemplate(format, d)}\n`).join(''));
  else if (docs.length || code === 0) out.stdout.write(`${JSON.stringify(docs, null, 4)}\n`);
  return code;
}
