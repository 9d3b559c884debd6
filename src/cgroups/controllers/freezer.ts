/**
 * Freezer: v1 freezer.state (FROZEN / FREEZING / THAWED), v2 cgroup.freeze + cgroup.events
 * ("frozen 1"). Both kernels freeze asynchronously: the write returns at once and tasks stop as
 * they reach a safe point, so freeze() polls until the state is reached.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '../../util/errors.js';
import type { FreezerState } from '../types.js';
import { readOpt, writeValue, parseFlatKeyed } from '../files.js';

/** How long to wait for a freeze to complete before giving up (runc waits about as long). */
const FREEZE_TIMEOUT_MS = 5000;

/**
 * v1: writes FROZEN and polls freezer.state. A v1 freeze can stay in FREEZING when a task sits in
 * an uninterruptible sleep (vfork parent, fuse, NFS); like runc, every 25 polls the freeze is
 * kicked with THAWED + FROZEN, and after the timeout the cgroup is thawed and an error thrown.
 */
export async function freezeV1(dir: string): Promise<void> {
  writeValue(dir, 'freezer.state', 'FROZEN');
  const deadline = Date.now() + FREEZE_TIMEOUT_MS;
  for (let i = 1; ; i++) {
    const state = readOpt(dir, 'freezer.state')?.trim();
    if (state === 'FROZEN') return;
    if (Date.now() > deadline) {
      writeValue(dir, 'freezer.state', 'THAWED');
      throw new BerthError('ECGROUP', `${dir}/freezer.state stayed ${state ?? 'missing'} for ${FREEZE_TIMEOUT_MS} ms; thawed again`);
    }
    if (i % 25 === 0) {
      writeValue(dir, 'freezer.state', 'THAWED');
      writeValue(dir, 'freezer.state', 'FROZEN');
    }
    await sleep(i < 10 ? 1 : 10);
  }
}

/** v1: writes THAWED and waits until freezer.state says so (thawing is quick but not instant). */
export async function thawV1(dir: string): Promise<void> {
  writeValue(dir, 'freezer.state', 'THAWED');
  await waitFor(() => readOpt(dir, 'freezer.state')?.trim() === 'THAWED', `${dir}/freezer.state to become THAWED`);
}

/** v1 state: FREEZING counts as thawed (not every task is stopped). */
export function freezerStateV1(dir: string): FreezerState {
  return readOpt(dir, 'freezer.state')?.trim() === 'FROZEN' ? 'frozen' : 'thawed';
}

/** v2: cgroup.events "frozen" is 1 when every task in the subtree is frozen. */
function frozenV2(dir: string): boolean {
  return parseFlatKeyed(readOpt(dir, 'cgroup.events'))?.['frozen'] === 1;
}

/** v2 (linux ≥ 5.2): writes cgroup.freeze 1 and waits for cgroup.events "frozen 1". */
export async function freezeV2(dir: string): Promise<void> {
  if (readOpt(dir, 'cgroup.freeze') === undefined) {
    throw new BerthError('EUNSUPPORTED', `${dir} has no cgroup.freeze; freezing needs linux ≥ 5.2`);
  }
  writeValue(dir, 'cgroup.freeze', '1');
  try {
    await waitFor(() => frozenV2(dir), `${dir}/cgroup.events to say "frozen 1"`);
  } catch (err) {
    writeValue(dir, 'cgroup.freeze', '0');
    throw err;
  }
}

/** v2: writes cgroup.freeze 0 and waits for cgroup.events "frozen 0". */
export async function thawV2(dir: string): Promise<void> {
  if (readOpt(dir, 'cgroup.freeze') === undefined) return;
  writeValue(dir, 'cgroup.freeze', '0');
  await waitFor(() => !frozenV2(dir), `${dir}/cgroup.events to say "frozen 0"`);
}

/** v2 state. */
export function freezerStateV2(dir: string): FreezerState {
  return frozenV2(dir) ? 'frozen' : 'thawed';
}

/** Polls `done` (1 ms, then 10 ms steps) until it holds or the timeout passes. */
async function waitFor(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + FREEZE_TIMEOUT_MS;
  for (let i = 0; !done(); i++) {
    if (Date.now() > deadline) throw new BerthError('ECGROUP', `timed out after ${FREEZE_TIMEOUT_MS} ms waiting for ${what}`);
    await sleep(i < 10 ? 1 : 10);
  }
}
