/**
 * Operations on existing containers: bring a record up to date with reality (a monitor that was
 * killed leaves a "running" record with nothing behind it), list, remove, and the Docker-shaped
 * inspect document.
 */
import { isSameProcess } from '../runtime/proc.js';
import { sleepSync } from '../runtime/lock.js';
import { deleteContainer } from '../runtime/lifecycle.js';
import { BerthError } from '../util/errors.js';
import { finalize, killEngineContainer } from './launch.js';
import { EngineStore, type EnginePaths, type EngineRecord } from './store.js';

/**
 * A record whose watcher (foreground run or monitor) died without recording the end: read what
 * the cgroup still knows, delete the runtime container and mark it exited with code 255.
 */
export async function refresh(paths: EnginePaths, rec: EngineRecord): Promise<EngineRecord> {
  if (!rec.State.Running || !rec.Monitor || isSameProcess(rec.Monitor.pid, rec.Monitor.startTime)) return rec;
  await finalize(paths, rec.Id, { exitCode: 255 }, new Date(rec.State.StartedAt),
    `berth lost track of the container: the process watching it (pid ${rec.Monitor.pid}) died`, () => {});
  return new EngineStore(paths).load(rec.Id) ?? rec;
}

/** Find and refresh one container by id, id prefix or name. */
export async function findContainer(paths: EnginePaths, ref: string): Promise<EngineRecord> {
  return refresh(paths, new EngineStore(paths).find(ref));
}

/** Every container (with `all`), or only the running ones, newest first like `docker ps`. */
export async function listEngineContainers(paths: EnginePaths, all: boolean): Promise<EngineRecord[]> {
  const out: EngineRecord[] = [];
  for (const rec of new EngineStore(paths).all()) {
    const r = await refresh(paths, rec);
    if (all || r.State.Running) out.push(r);
  }
  return out.reverse();
}

/**
 * `rm`: a running container needs `force`, which kills it (SIGKILL) and waits for its watcher to
 * record the end, then removes the runtime container (if still there), the directory and the name.
 */
export async function removeEngineContainer(paths: EnginePaths, ref: string, force: boolean): Promise<EngineRecord> {
  const store = new EngineStore(paths);
  let rec = await findContainer(paths, ref);
  if (rec.State.Running) {
    if (!force) {
      throw new BerthError('EBAD_STATE', `cannot remove container "/${rec.Name}": container is running: stop the container before removing or force remove`);
    }
    await killEngineContainer(paths, rec.Id, 'SIGKILL', 'berth rm -f', true).catch(() => undefined);
    // The watcher reads the counters and deletes the runtime container; give it a moment.
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const r = store.load(rec.Id);
      if (!r || !r.State.Running) break;
      sleepSync(10);
    }
    rec = store.load(rec.Id) ?? rec;
  }
  await store.locked(rec.Id, async () => {
    await deleteContainer(paths.runtimeRoot, rec.Id, true, () => {});
    store.remove(rec);
  }).catch((err) => {
    if ((err as BerthError).code !== 'ENOT_FOUND') throw err;
  });
  return rec;
}

/** The `docker inspect` document of a container (plus Berth's outcome report). */
export function inspectDocument(rec: EngineRecord, paths: EnginePaths): Record<string, unknown> {
  return {
    Id: rec.Id,
    Created: rec.Created,
    Path: rec.Path,
    Args: rec.Args,
    State: rec.State,
    Image: rec.Config.Image,
    ResolvConfPath: '',
    HostnamePath: '',
    HostsPath: '',
    LogPath: `${new EngineStore(paths).dir(rec.Id)}/console.log`,
    Name: `/${rec.Name}`,
    RestartCount: rec.RestartCount,
    Driver: rec.UserRootfs ? 'rootfs' : 'host',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    HostConfig: rec.HostConfig,
    GraphDriver: { Name: rec.UserRootfs ? 'rootfs' : 'host', Data: { RootPath: rec.RootPath } },
    Mounts: [
      ...rec.HostConfig.Binds.map((b) => {
        const [src, dst, opts] = b.split(':');
        return { Type: 'bind', Source: src, Destination: dst, Mode: opts ?? '', RW: !(opts ?? '').split(',').includes('ro'), Propagation: 'rprivate' };
      }),
      ...rec.HostConfig.Mounts.map((m) => ({ Type: m.Type, Source: m.Source, Destination: m.Target, Mode: '', RW: !m.ReadOnly, Propagation: m.BindOptions?.Propagation ?? '' })),
    ],
    Config: rec.Config,
    NetworkSettings: { Networks: {} },
    Berth: { Report: rec.Outcome ?? null, KilledBy: rec.KilledBy ?? null },
  };
}
