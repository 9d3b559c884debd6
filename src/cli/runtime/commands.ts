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

/** Every berth-runtime command, in the order usage lists them. */
export const COMMAND_TABLE: readonly CommandEntry[] = [
  { name: 'create', load: async () => (await import('./create.js')).create },
  { name: 'start', load: async () => (await import('./start.js')).start },
  { name: 'run', load: async () => (await import('./run.js')).run },
  { name: 'state', load: async () => (await import('./state.js')).state },
  { name: 'kill', load: async () => (await import('./kill.js')).kill },
  { name: 'delete', load: async () => (await import('./delete.js')).del },
  { name: 'list', load: async () => (await import('./list.js')).list },
  { name: 'ps', load: async () => (await import('./ps.js')).ps },
  { name: 'exec', load: async () => (await import('./exec.js')).exec },
  { name: 'pause', load: async () => (await import('./pause.js')).pause },
  { name: 'resume', load: async () => (await import('./pause.js')).resume },
  { name: 'update', load: async () => (await import('./update.js')).update },
  { name: 'events', load: async () => (await import('./events.js')).events },
  { name: 'spec', load: async () => (await import('./spec.js')).spec },
  { name: 'features', load: async () => (await import('./features.js')).features },
];

/** Every command, loaded (usage, and the runtime server's start). */
export function loadAll(): Promise<Command[]> {
  return Promise.all(COMMAND_TABLE.map((e) => e.load()));
}
