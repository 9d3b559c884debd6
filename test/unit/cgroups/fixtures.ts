/** Paths of the captured cgroup fixtures (test/fixtures/cgroups), from dist/test/unit/cgroups. */
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The fixtures directory in the source tree. */
export const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/cgroups/', import.meta.url));

/** A fixture directory, e.g. fixture('v1/memory'). */
export function fixture(rel: string): string {
  return join(FIXTURES, rel);
}

/** A fixture file's text. */
export function fixtureText(rel: string): string {
  return readFileSync(join(FIXTURES, rel), 'utf8');
}
