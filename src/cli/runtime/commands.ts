/**
 * The command table of `berth-runtime`: each command's name and how to load it.
 *
 * Commands are imported only when chosen, as berth's are (cli/berth/commands.ts): containerd calls
 * `state`, `start` and `delete` cold for every container, and those need about half the modules
 * that `create` does (52 against 105 for loading every command). Usage text, which needs every
 * summary, loads them all (`loadAll`), and so does the runtime server once at start, so that no
 * warm request waits for an import. The names must match the loaded commands' own `name`
 * (test/unit/cli/runtime-commands.test.ts checks it).
 */
import type { Command } from './context.js';

/** One row of the table: the name lookup needs, and the import that yields the command. */
export interface CommandEntry {
  name: string;
  load: () => Promise<Command>;
}

/**
 * An entry whose command is imported once: the runtime server runs `main` for every request, and
 * an import() of a module already loaded still costs a trip through the module loader (a warm
 * `run` measured 1.06x slower with it).
 */
function lazy(name: string, load: () => Promise<Command>): CommandEntry {
  let cmd: Command | undefined;
  return { name, load: async () => (cmd ??= await load()) };
}

/** Every berth-runtime command, in the order usage lists them. */
export const COMMAND_TABLE: readonly CommandEntry[] = [
  lazy('create', async () => (await import('./create.js')).create),
  lazy('start', async () => (await import('./start.js')).start),
  lazy('run', async () => (await import('./run.js')).run),
  lazy('state', async () => (await import('./state.js')).state),
  lazy('kill', async () => (await import('./kill.js')).kill),
  lazy('delete', async () => (await import('./delete.js')).del),
  lazy('list', async () => (await import('./list.js')).list),
  lazy('ps', async () => (await import('./ps.js')).ps),
  lazy('exec', async () => (await import('./exec.js')).exec),
  lazy('pause', async () => (await import('./pause.js')).pause),
  lazy('resume', async () => (await import('./pause.js')).resume),
  lazy('update', async () => (await import('./update.js')).update),
  lazy('events', async () => (await import('./events.js')).events),
  lazy('spec', async () => (await import('./spec.js')).spec),
  lazy('features', async () => (await import('./features.js')).features),
];

/** Every command, loaded (usage, and the runtime server's start). */
export function loadAll(): Promise<Command[]> {
  return Promise.all(COMMAND_TABLE.map((e) => e.load()));
}
