/**
 * The command table of `berth`: each command's name and Docker aliases, and how to load it.
 *
 * Commands are imported only when chosen. Loading every command module eagerly pulls in the
 * whole engine and image code (about a hundred modules) before anything runs, which cost 90 to
 * 250 ms per invocation on a loaded machine — as long as some whole commands take. So the table
 * holds what lookup needs (names, aliases) and a `load` that imports one module; usage and
 * help text, which need every summary, load them all (`loadAll`). The names here must match the
 * loaded commands' own `name` and `aliases` (test/unit/cli/berth-commands.test.ts checks it).
 */
import type { Command } from './context.js';

/** One row of the table: what lookup needs, and the import that yields the command. */
export interface CommandEntry {
  name: string;
  aliases?: string[];
  load: () => Promise<Command>;
}

const c = (name: string, aliases: string[] | undefined, load: () => Promise<Command>): CommandEntry =>
  (aliases ? { name, aliases, load } : { name, load });

/** Every berth command, in the order usage lists them. */
export const COMMAND_TABLE: readonly CommandEntry[] = [
  c('run', ['container run'], async () => (await import('./run.js')).run),
  c('create', ['container create'], async () => (await import('./create.js')).create),
  c('start', ['container start'], async () => (await import('./start.js')).start),
  c('stop', ['container stop'], async () => (await import('./stop.js')).stop),
  c('restart', ['container restart'], async () => (await import('./restart.js')).restart),
  c('kill', ['container kill'], async () => (await import('./kill.js')).kill),
  c('rm', ['container rm', 'container remove'], async () => (await import('./rm.js')).rm),
  c('ps', ['container ls', 'container list', 'container ps'], async () => (await import('./ps.js')).ps),
  c('inspect', ['container inspect'], async () => (await import('./inspect.js')).inspect),
  c('logs', ['container logs'], async () => (await import('./logs.js')).logs),
  c('wait', ['container wait'], async () => (await import('./wait.js')).wait),
  c('exec', ['container exec'], async () => (await import('./exec.js')).exec),
  c('attach', ['container attach'], async () => (await import('./attach.js')).attach),
  c('update', ['container update'], async () => (await import('./update.js')).update),
  c('pause', ['container pause'], async () => (await import('./pause.js')).pause),
  c('unpause', ['container unpause'], async () => (await import('./pause.js')).unpause),
  c('top', ['container top'], async () => (await import('./stats.js')).top),
  c('stats', ['container stats'], async () => (await import('./stats.js')).stats),
  c('events', ['system events'], async () => (await import('./events.js')).events),
  c('rename', ['container rename'], async () => (await import('./rename.js')).rename),
  c('port', ['container port'], async () => (await import('./rename.js')).port),
  c('cp', ['container cp'], async () => (await import('./cp.js')).cp),
  c('commit', ['container commit'], async () => (await import('./commit.js')).commit),
  c('export', ['container export'], async () => (await import('./export.js')).exportCmd),
  c('diff', ['container diff'], async () => (await import('./export.js')).diff),
  c('container prune', ['container prune'], async () => (await import('./prune.js')).prune),
  c('network create', ['network create'], async () => (await import('./network.js')).networkCreate),
  c('network ls', ['network ls', 'network list'], async () => (await import('./network.js')).networkLs),
  c('network inspect', ['network inspect'], async () => (await import('./network.js')).networkInspect),
  c('network rm', ['network rm', 'network remove'], async () => (await import('./network.js')).networkRm),
  c('network prune', ['network prune'], async () => (await import('./network.js')).networkPrune),
  c('network connect', ['network connect'], async () => (await import('./network.js')).networkConnect),
  c('network disconnect', ['network disconnect'], async () => (await import('./network.js')).networkDisconnect),
  c('volume create', ['volume create'], async () => (await import('./volume.js')).volumeCreate),
  c('volume ls', ['volume ls', 'volume list'], async () => (await import('./volume.js')).volumeLs),
  c('volume inspect', ['volume inspect'], async () => (await import('./volume.js')).volumeInspect),
  c('volume rm', ['volume rm', 'volume remove'], async () => (await import('./volume.js')).volumeRm),
  c('volume prune', ['volume prune'], async () => (await import('./volume.js')).volumePrune),
  c('version', undefined, async () => (await import('./version-info.js')).version),
  c('info', ['system info'], async () => (await import('./version-info.js')).info),
  c('system service', ['system service'], async () => (await import('./service.js')).systemService),
  c('system df', ['system df'], async () => (await import('./system.js')).systemDf),
  c('system prune', ['system prune'], async () => (await import('./system.js')).systemPrune),
  c('system', undefined, async () => (await import('./system.js')).system),
  c('container-cleanup', undefined, async () => (await import('./monitor.js')).monitor),
  c('pull', ['image pull'], async () => (await import('./pull.js')).pull),
  c('push', ['image push'], async () => (await import('./push.js')).push),
  c('images', ['image ls', 'image list'], async () => (await import('./images.js')).images),
  c('rmi', ['image rm', 'image remove'], async () => (await import('./rmi.js')).rmi),
  c('tag', ['image tag'], async () => (await import('./tag.js')).tag),
  c('history', ['image history'], async () => (await import('./history.js')).history),
  c('image inspect', ['image inspect'], async () => (await import('./image-inspect.js')).imageInspect),
  c('image prune', ['image prune'], async () => (await import('./image-prune.js')).imagePrune),
  c('load', ['image load'], async () => (await import('./load.js')).load),
  c('save', ['image save'], async () => (await import('./save.js')).save),
  c('import', ['image import'], async () => (await import('./import.js')).importCmd),
  c('login', undefined, async () => (await import('./login.js')).login),
  c('logout', undefined, async () => (await import('./login.js')).logout),
];

/** Every command, loaded (for usage text and tests). */
export async function loadAll(): Promise<Command[]> {
  return Promise.all(COMMAND_TABLE.map((e) => e.load()));
}
