/**
 * One cold `berth-runtime run`, phase by phase, in a fresh node process (as the CLI runs):
 *   node dist/bench/breakdown-child.js mirror|real ROOT ID BUNDLE
 * Prints one JSON line: the epoch (ms) of node's time origin and of the end of each phase. All
 * imports are dynamic, so that loading the CLI's module graph is itself a timed phase.
 */
import { performance } from 'node:perf_hooks';

const stamp = (): number => performance.timeOrigin + performance.now();
const marks: [string, number][] = [['node: bootstrap until script', stamp()]];
const mark = (name: string): void => { marks.push([name, stamp()]); };

const [mode, root, id, bundle] = process.argv.slice(2);
// What bin/berth-runtime.js loads: the CLI and, through it, the whole runtime.
await import('../src/cli/runtime/main.js');
mark('modules: import the CLI');
const steps = await import('./breakdown-steps.js');
const run = mode === 'real' ? steps.realRun : steps.mirroredRun;
const code = await run(root!, id!, bundle!, mark);
process.stdout.write(JSON.stringify({ timeOrigin: performance.timeOrigin, code, marks }) + '\n');
