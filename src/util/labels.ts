/**
 * Docker's label filters (`--filter label=...`, the API's {"label": [...]}): KEY means the label
 * is set, KEY=VALUE that it has that value; when several are given, every one must hold.
 */

/** Whether `labels` pass every filter of `filters`. */
export function labelsMatch(labels: Readonly<Record<string, string>> | undefined, filters: readonly string[]): boolean {
  return filters.every((f) => {
    const eq = f.indexOf('=');
    const key = eq < 0 ? f : f.slice(0, eq);
    return labels !== undefined && key in labels && (eq < 0 || labels[key] === f.slice(eq + 1));
  });
}
