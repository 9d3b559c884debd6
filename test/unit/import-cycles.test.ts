/**
 * The layers of src/ as the imports draw them: no file may import itself through others, no
 * top-level folder of src/ (image/registry counts as image) may import a folder that imports it
 * back, and native/ (everything that runs the native helper) stands on util/ alone. A new cycle
 * fails here with the path that closes it. Type-only imports count too: they tie the modules'
 * meaning.
 *
 * The layers, bottom first (a folder imports only folders before it): LAYERS.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { repoRoot } from '../support/bundle.js';

const src = join(repoRoot, 'src');

/** The top-level folders of src/, bottom first: each may import only those before it. */
const LAYERS = ['util', 'archive', 'native', 'seccomp', 'oci', 'cgroups', 'runtime', 'storage', 'image', 'network', 'engine', 'api', 'cli', 'server'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const rel = (p: string) => relative(src, p);

/** Each file's imports of other files of src/ (relative specifiers, `.js` mapped back to `.ts`). */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of files(src)) {
    const text = readFileSync(f, 'utf8');
    const specs = [
      ...text.matchAll(/^(?:import|export)\b[^'"]*?from\s+'(\.{1,2}\/[^']+)'/gm),
      ...text.matchAll(/^import\s+'(\.{1,2}\/[^']+)'/gm),
      ...text.matchAll(/import\('(\.{1,2}\/[^']+)'\)/g),
    ].map((m) => resolve(dirname(f), m[1]!.replace(/\.js$/, '.ts')));
    g.set(rel(f), [...new Set(specs.map(rel))]);
  }
  return g;
}

/** The top-level folder of src/ a file belongs to ('.' for a file of src/ itself). */
const folder = (f: string) => (f.includes('/') ? f.slice(0, f.indexOf('/')) : '.');

/** A cycle of `g` as a path (first node repeated at the end), or undefined. */
function findCycle(g: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    state.set(n, 'open');
    stack.push(n);
    for (const d of g.get(n) ?? []) {
      if (state.get(d) === 'open') return [...stack.slice(stack.indexOf(d)), d];
      if (!state.has(d)) {
        const c = visit(d);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of [...g.keys()].sort()) {
    if (state.has(n)) continue;
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}

test('no file of src/ imports itself through other files', () => {
  const cycle = findCycle(graph());
  assert.equal(cycle, undefined, `import cycle: ${cycle?.join(' -> ')}`);
});

test('no top-level folder of src/ imports a folder that imports it back', () => {
  const folders = new Map<string, string[]>();
  /** One import that makes each folder edge, to name in the message. */
  const why = new Map<string, string>();
  for (const [f, deps] of graph()) {
    const from = folder(f);
    const to = new Set(folders.get(from) ?? []);
    for (const d of deps) {
      if (folder(d) === from) continue;
      to.add(folder(d));
      if (!why.has(`${from} ${folder(d)}`)) why.set(`${from} ${folder(d)}`, `${f} imports ${d}`);
    }
    folders.set(from, [...to]);
  }
  const cycle = findCycle(folders);
  const edges = cycle?.slice(1).map((to, i) => `  ${cycle[i]} -> ${to}: ${why.get(`${cycle[i]} ${to}`)}`);
  assert.equal(cycle, undefined, `folder cycle: ${cycle?.join(' -> ')}\n${edges?.join('\n')}`);
});

test('native/ imports nothing but util/ and native/', () => {
  const bad = [...graph()]
    .filter(([f]) => folder(f) === 'native')
    .flatMap(([f, deps]) => deps.filter((d) => !['native', 'util'].includes(folder(d))).map((d) => `${f} imports ${d}`));
  assert.deepEqual(bad, []);
});

test('every top-level folder of src/ imports only the layers below it', () => {
  const rank = (f: string) => LAYERS.indexOf(folder(f));
  const bad = [...graph()].flatMap(([f, deps]) => {
    if (rank(f) < 0) return [`${f}: its folder is not in LAYERS`];
    return deps.filter((d) => rank(d) > rank(f)).map((d) => `${f} imports ${d}, a layer above it`);
  });
  assert.deepEqual(bad, []);
});
