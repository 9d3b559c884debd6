/**
 * The cgroup v2 manager: one directory in the unified hierarchy. Controllers must be enabled in
 * every ancestor's cgroup.subtree_control before their files appear in the container's cgroup.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { LinuxResources } from '../oci/spec.js';
import type { CgroupManager, CgroupStats, FreezerState, SavedCgroup } from './types.js';
import { V2_CONTROLLERS } from './controllers/index.js';
import { freezeV2, thawV2, freezerStateV2 } from './controllers/freezer.js';
import { validateAndApply, signalPids, type BoundController } from './apply.js';
import { mkdirP, pidsRecursive, removeTree } from './tree.js';
import { hasFile, readOpt, writeValue } from './files.js';
import { oomKillCountV2, watchOomV2 } from './oom.js';
import { deviceFilterProgram } from './devices-bpf.js';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Enables `wanted` controllers (those each level offers) in cgroup.subtree_control of every
 * level from `root` down to the parent of `leaf`. Like runc: all at once, then one by one when
 * the kernel refuses the set (a level with processes refuses domain controllers: the "no
 * internal processes" rule), ignoring single refusals — apply() then names what is missing.
 */
export function enableControllersDown(root: string, leaf: string, wanted: string[]): void {
  const parts = relative(root, leaf).split('/').filter((p) => p !== '');
  let dir = root;
  for (const part of parts) {
    const offered = (readOpt(dir, 'cgroup.controllers') ?? '').trim().split(/\s+/);
    const enabled = (readOpt(dir, 'cgroup.subtree_control') ?? '').trim().split(/\s+/);
    const todo = wanted.filter((c) => offered.includes(c) && !enabled.includes(c));
    if (todo.length) {
      try {
        writeValue(dir, 'cgroup.subtree_control', todo.map((c) => '+' + c).join(' '));
      } catch {
        for (const c of todo) {
          try {
            writeValue(dir, 'cgroup.subtree_control', '+' + c);
          } catch {
            // left disabled; validation reports it if the container needs it
          }
        }
      }
    }
    dir = join(dir, part);
  }
}

/** A cgroup v2 container cgroup. */
export class V2Manager implements CgroupManager {
  readonly mode = 'v2' as const;
  readonly paths: Record<string, string>;
  private readonly dir: string;
  private program: Uint8Array | undefined;

  constructor(private readonly saved: SavedCgroup) {
    this.dir = saved.unified!;
    this.paths = { unified: this.dir };
  }

  save(): SavedCgroup {
    return JSON.parse(JSON.stringify(this.saved)) as SavedCgroup;
  }

  create(): void {
    mkdirP(this.dir);
    if (this.saved.unifiedRoot) enableControllersDown(this.saved.unifiedRoot, this.dir, this.saved.unifiedControllers);
  }

  private bound(): BoundController[] {
    const enabled = (readOpt(this.dir, 'cgroup.controllers') ?? '').trim().split(/\s+/);
    return V2_CONTROLLERS.map((ctrl) => {
      if (ctrl.name === null || enabled.includes(ctrl.name)) return { ctrl, dir: this.dir };
      return { ctrl, dir: undefined, missing: `the ${ctrl.name} controller is not enabled for ${this.dir} (the parent's cgroup.subtree_control lacks it; on nested v2 hosts, move the parent's processes into a leaf cgroup first)` };
    });
  }

  private run(resources: LinuxResources, live: boolean): void {
    validateAndApply(this.bound(), resources, { live });
    if (resources.devices?.length) this.program = deviceFilterProgram(resources.devices);
  }

  apply(resources: LinuxResources): void {
    this.run(resources, false);
  }

  update(resources: LinuxResources): void {
    this.run(resources, true);
  }

  addProcess(pid: number): void {
    writeValue(this.dir, 'cgroup.procs', pid);
  }

  pids(): number[] {
    return pidsRecursive(this.dir);
  }

  stats(only?: readonly string[]): CgroupStats {
    const out: CgroupStats = {};
    if (!existsSync(this.dir)) return out;
    for (const { ctrl, dir } of this.bound()) if (dir && ctrl.stats && (!only || !ctrl.name || only.includes(ctrl.name))) ctrl.stats(dir, out);
    if (hasFile(this.dir, 'memory.events')) out.oomKills = this.oomKillCount();
    return out;
  }

  oomKillCount(): number {
    return oomKillCountV2(this.dir);
  }

  watchOom(onOom: (count: number) => void): () => void {
    return watchOomV2(this.dir, onOom);
  }

  freeze(): Promise<void> {
    return freezeV2(this.dir);
  }

  thaw(): Promise<void> {
    return thawV2(this.dir);
  }

  freezerState(): FreezerState {
    return freezerStateV2(this.dir);
  }

  /**
   * SIGKILL with cgroup.kill (linux ≥ 5.14): the kernel kills the whole subtree atomically, no
   * race with fork. Other signals, or older kernels: freeze, signal each pid, thaw.
   */
  async killAll(signal: NodeJS.Signals | number = 'SIGKILL'): Promise<void> {
    if (!existsSync(this.dir) || this.pids().length === 0) return;
    if ((signal === 'SIGKILL' || signal === 9) && hasFile(this.dir, 'cgroup.kill')) {
      writeValue(this.dir, 'cgroup.kill', '1');
      // cgroup.kill returns once signals are queued; wait briefly for the subtree to empty.
      for (let i = 0; i < 100 && pidsRecursive(this.dir).length > 0; i++) await sleep(5);
      return;
    }
    let frozen = false;
    if (hasFile(this.dir, 'cgroup.freeze')) {
      await freezeV2(this.dir);
      frozen = true;
    }
    try {
      signalPids(this.pids(), signal);
    } finally {
      if (frozen) await thawV2(this.dir);
    }
  }

  destroy(): Promise<void> {
    return removeTree(this.dir);
  }

  exists(): boolean {
    return existsSync(this.dir);
  }

  deviceFilter(): Uint8Array | undefined {
    return this.program;
  }
}
