/**
 * Commands that change a running or stopped container in place: pause/unpause (the cgroup
 * freezer), rename, update (live limits, also kept for the next start), and prune.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LinuxResources } from '../oci/spec.js';
import { pauseContainer, resumeContainer, updateContainer } from '../runtime/lifecycle.js';
import { BerthError } from '../util/errors.js';
import type { HostConfig } from './config.js';
import { removeEngineContainer } from './containers.js';
import { reconcileNetworks } from './networking.js';
import { appendEvent } from './events.js';
import { engineHost, statDevice } from './host.js';
import { resources } from './spec.js';
import { EngineStore, type EnginePaths, type EngineRecord } from './store.js';
import { validateHostConfig } from './validate.js';

/** Freeze (`pause`) or thaw a running container, and record it (State.Paused, status "paused"). */
export async function pauseEngineContainer(paths: EnginePaths, id: string, pause: boolean): Promise<void> {
  const store = new EngineStore(paths);
  await store.locked(id, async () => {
    const r = store.load(id);
    if (!r) throw new BerthError('ENOT_FOUND', `no such container: ${id}`);
    if (!r.State.Running) throw new BerthError('EBAD_STATE', `container ${r.Id} is not running`);
    if (pause && r.State.Paused) throw new BerthError('EBAD_STATE', `container ${r.Id} is already paused`);
    if (!pause && !r.State.Paused) throw new BerthError('EBAD_STATE', `container ${r.Id} is not paused`);
    await (pause ? pauseContainer : resumeContainer)(paths.runtimeRoot, id);
    r.State = { ...r.State, Paused: pause, Status: pause ? 'paused' : 'running' };
    store.save(r);
    appendEvent(paths, r, pause ? 'pause' : 'unpause');
  });
}

/** `rename`: take the new name (Docker's name rules and conflict error), release the old one. */
export async function renameEngineContainer(paths: EnginePaths, id: string, newName: string): Promise<void> {
  const store = new EngineStore(paths);
  const bare = newName.replace(/^\//, '');
  await store.locked(id, () => {
    const r = store.load(id);
    if (!r) throw new BerthError('ENOT_FOUND', `no such container: ${id}`);
    if (r.Name === bare) throw new BerthError('EINVALID_ARG', `renaming a container with the same name as its current name`);
    store.reserveName(bare, r.Id);
    const old = r.Name;
    r.Name = bare;
    store.save(r);
    store.releaseName(old, r.Id);
    appendEvent(paths, r, 'rename', { oldName: `/${old}` });
  });
}

/** The HostConfig fields `update` may change (Docker's container update flags). */
export type UpdateFields = Partial<Pick<HostConfig, 'Memory' | 'MemorySwap' | 'MemoryReservation' | 'NanoCpus' | 'CpuShares' |
  'CpuPeriod' | 'CpuQuota' | 'CpusetCpus' | 'CpusetMems' | 'PidsLimit' | 'BlkioWeight' | 'RestartPolicy'>>;

/**
 * `update`: validate the merged HostConfig as `create` would, write the changed limits to a
 * running container's cgroup, and keep them in the record and the bundle for the next start.
 */
export async function updateEngineContainer(paths: EnginePaths, id: string, fields: UpdateFields, cgroupOf?: number): Promise<EngineRecord> {
  const store = new EngineStore(paths);
  const host = await engineHost(cgroupOf);
  return store.locked(id, async () => {
    const r = store.load(id);
    if (!r) throw new BerthError('ENOT_FOUND', `no such container: ${id}`);
    const hc: HostConfig = { ...r.HostConfig, ...fields };
    if (fields.NanoCpus && (fields.CpuPeriod === undefined && fields.CpuQuota === undefined)) { hc.CpuPeriod = 0; hc.CpuQuota = 0; }
    if ((fields.CpuPeriod || fields.CpuQuota) && fields.NanoCpus === undefined) hc.NanoCpus = 0;
    validateHostConfig(hc, host);
    const all = resources(hc, { device: statDevice });
    // Only the groups that changed go to the cgroup: rewriting an untouched knob can fail (a
    // cpuset a sibling took meanwhile) and says nothing new.
    const delta: LinuxResources = {};
    const has = (...k: (keyof UpdateFields)[]) => k.some((x) => fields[x] !== undefined);
    if (has('Memory', 'MemorySwap', 'MemoryReservation')) delta.memory = all.memory ?? {};
    if (has('NanoCpus', 'CpuShares', 'CpuPeriod', 'CpuQuota', 'CpusetCpus', 'CpusetMems')) delta.cpu = all.cpu ?? {};
    if (has('PidsLimit')) delta.pids = { limit: hc.PidsLimit && hc.PidsLimit > 0 ? hc.PidsLimit : -1 };
    if (has('BlkioWeight')) delta.blockIO = { weight: hc.BlkioWeight };
    if (r.State.Running && Object.keys(delta).length) await updateContainer(paths.runtimeRoot, id, delta);
    r.HostConfig = hc;
    store.save(r);
    const configFile = join(store.dir(id), 'bundle', 'config.json');
    try {
      const spec = JSON.parse(readFileSync(configFile, 'utf8'));
      spec.linux = { ...spec.linux, resources: { ...spec.linux?.resources, ...all } };
      writeFileSync(configFile, JSON.stringify(spec, null, 1));
    } catch { /* no bundle: nothing to keep */ }
    appendEvent(paths, r, 'update');
    return r;
  });
}

/** `container prune`: remove every stopped container, release networks the dead left; returns the removed ids. */
export async function pruneContainers(paths: EnginePaths): Promise<string[]> {
  const removed: string[] = [];
  for (const rec of new EngineStore(paths).all()) {
    if (rec.State.Running || rec.State.Status === 'restarting') continue;
    try {
      await removeEngineContainer(paths, rec.Id, false);
      removed.push(rec.Id);
    } catch { /* it started meanwhile */ }
  }
  // And what crashed containers left on their networks (leases, rules, namespaces).
  await reconcileNetworks(paths, () => {});
  return removed;
}
