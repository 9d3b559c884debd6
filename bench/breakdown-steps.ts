/**
 * The phases of `berth-runtime run`, timed one by one in the breakdown child process. This is a
 * step-for-step mirror of createContainer() (src/runtime/create.ts, no hooks, no user namespace,
 * no console) followed by what the `run` command does after it (start, wait, delete), calling the
 * same exported functions in the same order (as of the helper's CLONE_INTO_CGROUP change), so the runtime's code needs no tracing hooks. If
 * create.ts changes, the `real` mode (createContainer itself, timed whole) keeps the mirror
 * honest: both are reported side by side.
 */
import { resolve } from 'node:path';
import { cgroupManager, detectCgroupHost, resolveCgroupPath } from '../src/cgroups/index.js';
import { cgroupMountContext } from '../src/runtime/cgroup-context.js';
import { createContainer, loadBundleSpec } from '../src/runtime/create.js';
import { containerDeviceRules } from '../src/runtime/devices.js';
import { HelperSession } from '../src/native/helper-session.js';
import { deleteContainer, startContainer } from '../src/runtime/lifecycle.js';
import { lockDir } from '../src/util/lock.js';
import { buildCreatePlan } from '../src/runtime/plan.js';
import { pidStartTime } from '../src/util/proc.js';
import { ociState, Store, type ContainerRecord } from '../src/runtime/store.js';

/** A phase name and the epoch time (ms, sub-ms resolution) at which it ended. */
export type Mark = [string, number];

/** Runs the mirrored phases for container `id`; `mark(name)` is called at the end of each. */
export async function mirroredRun(root: string, id: string, bundleDir: string, mark: (name: string) => void): Promise<number> {
  const warn = (m: string) => process.stderr.write(`warning: ${m}\n`);
  const store = new Store(root);
  const bundle = resolve(bundleDir);
  const spec = loadBundleSpec(bundle);
  mark('config: read, parse, validate');
  const dir = store.reserve(id);
  const release = lockDir(dir);
  const record: ContainerRecord = { id, bundle, rootfs: spec.root?.path ?? '', created: new Date().toISOString(), owner: '', status: 'creating', spec };
  store.save(record);
  mark('state: reserve, lock, save');
  let session: HelperSession | undefined;
  try {
    const host = await detectCgroupHost();
    const cgroup = cgroupManager(host, resolveCgroupPath(host, spec.linux?.cgroupsPath, id));
    record.cgroup = cgroup.save();
    store.save(record);
    cgroup.create();
    mark('cgroup: detect, save, mkdir');
    cgroup.apply({ ...spec.linux?.resources, devices: containerDeviceRules(spec) });
    mark('cgroup: apply limits');
    const unified = cgroup.paths['unified'];
    const program = cgroup.deviceFilter();
    const ops = buildCreatePlan(spec, {
      bundle, fifo: store.fifoPath(id), monitor: true, noPivot: false,
      consoleSocket: undefined, cgroup: cgroupMountContext(host, cgroup, spec),
      devices: program && unified ? { dir: unified, program } : undefined, cgroupDir: unified,
    });
    mark('launch plan');
    session = new HelperSession({ stdio: ['ignore', 'inherit', 'inherit'] });
    session.sendPlan(ops);
    const [pidText, bornInCgroup] = await session.expect('pid');
    mark('helper: spawn until container pid');
    const pid = Number(pidText);
    record.pid = pid;
    record.pidStartTime = pidStartTime(pid);
    store.save(record);
    if (bornInCgroup !== '1' || cgroup.mode !== 'v2') cgroup.addProcess(pid);
    mark('cgroup.procs: add init');
    session.send(['go', JSON.stringify(ociState(record, 'creating'))]);
    await session.expect('ready');
    mark('init: go until ready (mounts, pivot_root)');
    record.status = 'created';
    store.save(record);
  } catch (err) {
    session?.kill();
    throw err;
  } finally {
    release();
  }
  mark('state: save created');
  await startContainer(root, id, warn);
  mark('start');
  const code = await session!.exitCode();
  mark('wait: exec until exit');
  await deleteContainer(root, id, true, warn);
  mark('delete');
  return code;
}

/** createContainer/startContainer/exitCode/deleteContainer themselves, timed as four blocks. */
export async function realRun(root: string, id: string, bundleDir: string, mark: (name: string) => void): Promise<number> {
  const warn = (m: string) => process.stderr.write(`warning: ${m}\n`);
  const { session } = await createContainer(root, id, { bundle: bundleDir, monitor: true, stdio: ['ignore', 'inherit', 'inherit'] });
  mark('createContainer');
  await startContainer(root, id, warn);
  mark('startContainer');
  const code = await session.exitCode();
  mark('wait');
  await deleteContainer(root, id, true, warn);
  mark('deleteContainer');
  return code;
}
