/**
 * `create`: check the request as Docker's daemon would, reserve the name, prepare the root
 * filesystem, build and validate the OCI spec and write the bundle. Like Docker, a created
 * container has no process and no cgroup yet; `start` makes them. Any failure removes everything
 * this made (the name, the directory), so a bad flag leaves nothing behind.
 */
import { pidStartTime } from '../util/proc.js';
import { existsSync, lchownSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../oci/validate.js';
import { hostPlatform, parsePlatform, type Platform } from '../image/manifest.js';
import { BerthError } from '../util/errors.js';
import { programs } from '../util/programs.js';
import type { EngineCaller } from './caller.js';
import type { CreateRequest } from './config.js';
import { engineHost, ownBoundingCaps, statDevice } from './host.js';
import { HOST_SYSTEM_DIRS, prepareHostRootfs } from './hostfs.js';
import { applyImageConfig } from './image-config.js';
import { findOrPullImage, prepareImageContainer, sweepOrphans, type PullOutput } from './image-rootfs.js';
import { appendEvent } from './events.js';
import { findContainer } from './containers.js';
import { checkNamespaceConflicts, JOINABLE, joinedContainer, mapToHost, namespaceModes, parseUsernsMapping, type JoinableNs } from './namespaces.js';
import { randomName } from './names.js';
import { DEFAULT_BRIDGE } from '../network/store.js';
import { etcMounts, netnsPath, plannedNetworks } from './networking.js';
import { buildSpec, containerArgs } from './spec.js';
import { createdState, EngineStore, type EnginePaths, type EngineRecord } from './store.js';
import { resolveUser } from './user.js';
import { adaptHostConfig, validateHostConfig } from './validate.js';
import { checkMountConfig } from './mounts.js';
import { prepareVolumes, type ContainerVolumes } from './volumes.js';

/**
 * Create a container from a request; returns its record. `warn` receives Docker-style warnings;
 * `pullOutput` the progress of an image pulled because it was missing; `caller` what comes from
 * the command's caller (its cgroup, its image and storage settings).
 */
export async function createEngineContainer(paths: EnginePaths, req: CreateRequest, warn: (msg: string) => void = () => {}, pullOutput: PullOutput = {},
  caller: EngineCaller = {}): Promise<EngineRecord> {
  const config = structuredClone(req.config);
  const hc = structuredClone(req.hostConfig);
  if (req.rootfs) {
    let ok = false;
    try { ok = statSync(req.rootfs).isDirectory(); } catch { /* reported below */ }
    if (!ok) throw new BerthError('EINVALID_ARG', `invalid --rootfs ${req.rootfs}: not a directory`);
    config.Image = '';
  }
  // No --network: the default network (Docker's bridge), or the caller's BERTH_DEFAULT_NETWORK.
  const defaulted = hc.NetworkMode === '' || hc.NetworkMode === 'default';
  if (defaulted) hc.NetworkMode = caller.defaultNetwork ?? DEFAULT_BRIDGE;
  // No --cgroup-parent: the caller's default (BERTH_CGROUP_PARENT, dockerd's --cgroup-parent).
  if (!hc.CgroupParent && caller.cgroupParent) hc.CgroupParent = caller.cgroupParent;
  const host = await engineHost(caller.cgroupOf);
  for (const w of adaptHostConfig(hc, host)) warn(w);
  validateHostConfig(hc, host);
  checkMountConfig(hc);
  checkNamespaceConflicts(hc, config.Hostname);
  const joinPids = await resolveJoins(paths, hc);
  // With an image, the root filesystem's layers are id-mapped for the mapping (image-rootfs.ts).
  const idMaps = parseUsernsMapping(hc.UsernsMode);
  // Berth's host image under the name a client makes of it (testcontainers asks for host:latest).
  if (config.Image === 'host:latest') config.Image = 'host';
  // An image: found or pulled, its config merged under the flags (image-config.ts).
  const platform = req.platform ? checkPlatform(req.platform) : undefined;
  const image = !req.rootfs && config.Image !== 'host'
    ? await findOrPullImage(paths, config.Image, pullOutput, { ...caller.image, ...(platform ? { platform } : {}) }, caller.noPull ? 'never' : req.pull ?? 'missing')
    : undefined;
  if (image && platform && (image.raw.architecture !== platform.architecture || image.raw.os !== platform.os)) {
    throw new BerthError('EINVALID_ARG', `image ${config.Image} is ${image.raw.os}/${image.raw.architecture}, not the --platform ${req.platform} asked for: pull it for that platform (berth pull --platform) or drop --platform`);
  }
  if (image) {
    applyImageConfig(config, image.raw.config ?? {});
    await sweepOrphans(paths).catch(() => []);
  }
  const args = containerArgs(config);
  // The networks must exist now (Docker's create fails on an unknown one); --network bridge
  // makes the default bridge on first use.
  const networkSettings = await plannedNetworks(paths, req, config, hc).catch((err: unknown) => {
    // A network named by the environment, not the command line: say where it came from.
    if (defaulted && caller.defaultNetwork && err instanceof BerthError) err.message = `BERTH_DEFAULT_NETWORK=${caller.defaultNetwork}: ${err.message}`;
    throw err;
  });

  const store = new EngineStore(paths);
  const id = store.newId();
  const name = req.name ?? pickName(store, id);
  if (req.name) store.reserveName(req.name, id);
  const dir = store.dir(id);
  const stub = { Id: id, Name: name } as EngineRecord;
  let volumes: ContainerVolumes | undefined;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o711 });
    // Crash safety (image-rootfs.ts sweepOrphans): who is creating this directory, until
    // container.json exists. A create killed before that leaves a directory `rm -f NAME` removes.
    writeFileSync(join(dir, 'creating'), `${process.pid} ${pidStartTime(process.pid) ?? ''}\n`);
    const fromImage = image ? await prepareImageContainer(paths, id, dir, image, config, hc, caller.storageDriver) : undefined;
    const rootPath = req.rootfs ?? fromImage?.rootPath ?? join(dir, 'rootfs');
    const hostMounts = req.rootfs || fromImage ? [] : prepareHostRootfs(rootPath);
    // The container's own part of a host root (its /tmp, /root …) belongs to its mapped root, or
    // root inside could not write there; the host's system directories stay read-only binds.
    if (idMaps && !req.rootfs && !fromImage) chownTree(rootPath, mapToHost(idMaps, 0)!, mapToHost(idMaps, 0)!);
    if (idMaps) checkSearchable(rootPath, mapToHost(idMaps, 0)!, hc.UsernsMode);
    const owner = idMaps ? { uid: mapToHost(idMaps, 0)!, gid: mapToHost(idMaps, 0)! } : undefined;
    volumes = await prepareVolumes(paths, dir, {
      config, hc, rootPath, fromImage: !!fromImage, ...(owner ? { owner } : {}), findContainer: (ref) => findContainer(paths, ref),
    });
    const user = fromImage?.user ?? resolveUser(config.User, req.rootfs ?? '/');
    const spec = buildSpec(config, hc, {
      id, rootPath, hostMounts, user, device: statDevice, cgroupMode: host.cgroupMode, hostHostname: host.hostname,
      boundingCaps: ownBoundingCaps(), initPath: hc.Init ? initBinary() : undefined, joinPids,
      network: networkSettings ? { netns: netnsPath(paths, id), etcMounts: etcMounts(paths, id, hc.ReadonlyRootfs) } : undefined,
      volumeMounts: volumes.mounts,
    });
    // Docker creates a missing working directory; in a host container only the container's own
    // part of the tree can take one (the system directories are read-only binds).
    if (config.WorkingDir && !req.rootfs && !fromImage && !HOST_SYSTEM_DIRS.some((d) => config.WorkingDir === `/${d}` || config.WorkingDir.startsWith(`/${d}/`))) {
      mkdirSync(join(rootPath, config.WorkingDir), { recursive: true, mode: 0o755 });
    } else if (config.WorkingDir && req.rootfs && !existsSync(join(rootPath, config.WorkingDir))) {
      mkdirSync(join(rootPath, config.WorkingDir), { recursive: true, mode: 0o755 });
    }
    const bundle = join(dir, 'bundle');
    mkdirSync(bundle, { recursive: true, mode: 0o700 });
    const text = JSON.stringify(spec, null, 1);
    parseConfig(text, bundle); // the runtime's own validation, now rather than at start
    writeFileSync(join(bundle, 'config.json'), text);
    const rec: EngineRecord = {
      Id: id, Name: name, Created: new Date().toISOString(), Path: args[0]!, Args: args.slice(1),
      Config: config, HostConfig: hc, State: createdState(), RootPath: rootPath, UserRootfs: !!req.rootfs,
      Report: req.report === true, RestartCount: 0, ...(networkSettings ? { NetworkSettings: networkSettings } : {}),
      ...(fromImage && image ? { ImageId: image.id, StorageDriver: fromImage.driver } : {}),
      ...(volumes.anonymous.length ? { AnonVolumes: volumes.anonymous } : {}), MountPoints: volumes.mountPoints,
    };
    store.save(rec);
    appendEvent(paths, rec, 'create');
    return rec;
  } catch (err) {
    // Named volumes this create made first (the anonymous ones go with the directory).
    await volumes?.undo().catch(() => undefined);
    store.remove(stub);
    throw err;
  }
}

/** native/build/berth-init of this package (the process's BERTH_INIT overrides, util/programs.ts), or undefined when missing. */
function initBinary(): string | undefined {
  const path = programs().init || fileURLToPath(new URL('../../../native/build/berth-init', import.meta.url));
  return existsSync(path) ? path : undefined;
}

/** A free generated name (Docker's adjective_scientist style). */
function pickName(store: EngineStore, id: string): string {
  for (let i = 0; i < 10; i++) {
    const name = randomName(i > 3);
    try {
      store.reserveName(name, id);
      return name;
    } catch (err) {
      if ((err as BerthError).code !== 'EEXISTS') throw err;
    }
  }
  store.reserveName(id.slice(0, 12), id);
  return id.slice(0, 12);
}

/**
 * The init pid of each container named by a `container:NAME` mode. Like Docker, the other
 * container must exist and be running (its namespaces live only as long as its processes).
 */
async function resolveJoins(paths: EnginePaths, hc: CreateRequest['hostConfig']): Promise<Partial<Record<JoinableNs, number>>> {
  const out: Partial<Record<JoinableNs, number>> = {};
  for (const [type, mode] of Object.entries(namespaceModes(hc)) as [JoinableNs, string][]) {
    const ref = joinedContainer(mode);
    if (ref === undefined) continue;
    const other = await findContainer(paths, ref);
    if (!other.State.Running || !other.State.Pid) {
      throw new BerthError('EBAD_STATE', `cannot join the ${type} namespace of container ${ref} (${JOINABLE[type]} ${mode}): container ${other.Id.slice(0, 12)} is not running`);
    }
    out[type] = other.State.Pid;
  }
  return out;
}

/** lchown a freshly made directory tree (never following links: they may point at the host's). */
function chownTree(dir: string, uid: number, gid: number): void {
  lchownSync(dir, uid, gid);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) chownTree(p, uid, gid);
    else lchownSync(p, uid, gid);
  }
}

/**
 * The runtime mounts the root filesystem from inside the new user namespace, where root is host
 * uid `uid`: every directory above it must let that uid search it (x for others, or its owner or
 * group), or the mount fails with a bare EACCES at start. Say which directory, at create.
 */
function checkSearchable(rootPath: string, uid: number, mode: string): void {
  for (let d = dirname(rootPath); ; d = dirname(d)) {
    const st = statSync(d);
    const ok = (st.mode & 0o001) !== 0 || (st.uid === uid && (st.mode & 0o100) !== 0) || (st.gid === uid && (st.mode & 0o010) !== 0);
    if (!ok) {
      throw new BerthError('EINVALID_ARG', `--userns ${mode}: directory ${d} (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}) is not searchable by the container's root, host uid ${uid}: chmod o+x it or choose another --data-root`);
    }
    if (d === '/') return;
  }
}

/**
 * `--platform`: only this host's can run (Berth has no emulation); its variant may be left out.
 * Returns it parsed.
 */
function checkPlatform(text: string): Platform {
  const asked = parsePlatform(text);
  const host = hostPlatform();
  if (asked.os !== host.os || asked.architecture !== host.architecture || (asked.variant && host.variant && asked.variant !== host.variant)) {
    throw new BerthError('EUNSUPPORTED', `--platform ${text}: this host runs ${host.os}/${host.architecture}${host.variant ? `/${host.variant}` : ''} containers only (Berth has no emulation)`);
  }
  return host;
}
