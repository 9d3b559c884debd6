/**
 * Docker's output helpers: human durations (go-units HumanDuration), the STATUS column, and Go
 * templates for --format (../go-template.ts: Go's text/template with the docker CLI's
 * functions and `table` formats). A bad template or a field the document lacks is an error
 * (BerthError EINVALID_ARG), never the template echoed back: a command's run() lets it through,
 * and berth prints it as `berth: template: …` with exit code 1, as docker exits non-zero.
 */
import { BerthError } from '../../util/errors.js';
import { parseTemplate, renderTemplate as renderGoTemplate, type Template } from '../go-template.js';

export { humanDuration, statusText } from '../../engine/status.js';
export { isTableFormat, tableTemplate } from '../go-template.js';

/**
 * Render Go template `tpl` against `data` (`\t` / `\n` typed in the shell are a tab / newline).
 * Throws BerthError EINVALID_ARG on a bad template or a missing field.
 */
export function renderTemplate(tpl: string, data: unknown): string {
  return renderGoTemplate(tpl, data);
}

/**
 * Docker's `inspect` output for several references: one JSON array of the documents found (or
 * one rendered template per document), an error line for each reference that fails; returns
 * the exit code (1 when any failed). A template is parsed before any lookup, and a template
 * error prints `berth: <message>` and returns 1 with nothing on stdout, as docker inspect does.
 */
export async function printInspect<T>(out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }, refs: readonly string[],
  get: (ref: string) => Promise<T>, format: string | undefined): Promise<number> {
  let tpl: Template | undefined;
  try {
    if (format && format !== 'json') tpl = parseTemplate(format);
  } catch (err) {
    if (!(err instanceof BerthError)) throw err;
    out.stderr.write(`berth: ${err.message}\n`);
    return 1;
  }
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
  if (tpl) {
    let text: string;
    try {
      text = docs.map((d) => `${tpl.execute(d)}\n`).join('');
    } catch (err) {
      if (!(err instanceof BerthError)) throw err;
      out.stderr.write(`berth: ${err.message}\n`);
      return 1;
    }
    out.stdout.write(text);
  } else if (docs.length || code === 0) out.stdout.write(`${JSON.stringify(docs, null, 4)}\n`);
  return code;
}
