/**
 * The cgroup v1 manager, and the hybrid one (v1 plus a twin directory in the unified hierarchy).
 * On hybrid hosts, like runc, limits go through v1; the unified twin tracks the processes (so
 * tools that read 0:: in /proc/<pid>/cgroup see the container) and carries the controllers that
 * exist only there (hugetlb on this host) and the `unified` map.
 */
import type { LinuxResources } from '../oci/spec.js';
import type { CgroupManager, CgroupMode, CgroupStats, FreezerState, SavedCgroup } from './types.js';
import { V1_CONTROLLERS, V2_CONTROLLERS } from './controllers/index.js';
import { cpusetInheritV1 } from './controllers/cpuset.js';
import { unifiedV1Only, unifiedV2 } from './controllers/unified.js';
import { freezeV1, thawV1, freezerStateV1, freezeV2, thawV2, freezerStateV2 } from './controllers/freezer.js';
import { type BoundController, validateAndApply, signalPids } from './apply.js';
import { mkdirP, pidsRecursive, removeTree } from './tree.js';
import { enableControllersDown } from './manager-v2.js';
import { hasFile, writeValue } from './files.js';
import { oomKillCountV1, watchOomV1 } from './oom.js';
import { BerthError } from '../util/errors.js';
import { existsSync } from 'node:fs';

/**
 * What to do about a v1 controller that is not mounted (net_cls, net_prio and rdma on this host):
 * mount its hierarchy, which works when the kernel has it and no v2 hierarchy holds it, or drop
 * the field.
 */
function mountHint(name: string | null): string {
  return `mount it (mount -t cgroup -o ${name} ${name} /sys/fs/cgroup/${name}) or remove the field`;
}

/** A v1 or hybrid container cgroup. Build it with cgroupManager() or cgroupManagerFromState(). */
export class V1Manager implements CgroupManager {
  readonly mode: CgroupMode;
  readonly paths: Record<string, string>;

  constructor(private readonly saved: SavedCgroup) {
    this.mode = saved.mode;
    this.paths = { ...saved.v1 };
    if (saved.unified) this.paths['unified'] = saved.unified;
  }

  save(): SavedCgroup {
    return JSON.parse(JSON.stringify(this.saved)) as SavedCgroup;
  }

  /** Distinct directories: co-mounted controllers (cpu,cpuacct) share one. */
  private dirs(): string[] {
    return [...new Set(Object.values(this.paths))];
  }

  create(): void {
    for (const [ctrl, dir] of Object.entries(this.saved.v1)) {
      const made = mkdirP(dir);
      // A new v1 cpuset is empty and refuses tasks: fill each new level from its parent.
      if (ctrl === 'cpuset') for (const d of made) cpusetInheritV1(d);
    }
    const u = this.saved.unified;
    if (u) {
      mkdirP(u);
      if (this.saved.unifiedRoot && this.saved.unifiedControllers.length) enableControllersDown(this.saved.unifiedRoot, u, this.saved.unifiedControllers);
    }
  }

  private bound(): BoundController[] {
    const out: BoundController[] = [];
    const viaUnified = new Set(this.saved.unifiedControllers);
    for (const ctrl of V1_CONTROLLERS) {
      if (ctrl.name && viaUnified.has(ctrl.name) && !this.saved.v1[ctrl.name]) continue;
      out.push({ ctrl, dir: ctrl.name ? this.saved.v1[ctrl.name] : undefined, missing: `the v1 ${ctrl.name} controller is not mounted on this host`, instead: mountHint(ctrl.name) });
    }
    for (const ctrl of V2_CONTROLLERS) {
      if (ctrl.name && viaUnified.has(ctrl.name)) out.push({ ctrl, dir: this.saved.unified });
    }
    out.push(this.saved.unified ? { ctrl: unifiedV2, dir: this.saved.unified } : { ctrl: unifiedV1Only, dir: '' });
    return out;
  }

  apply(resources: LinuxResources): void {
    validateAndApply(this.bound(), resources, { live: false });
  }

  update(resources: LinuxResources): void {
    validateAndApply(this.bound(), resources, { live: true });
  }

  addProcess(pid: number): void {
    for (const dir of this.dirs()) writeValue(dir, 'cgroup.procs', pid);
  }

  /** The directory whose cgroup.procs lists the container: freezer first (it is what killAll freezes). */
  private trackingDir(): string | undefined {
    for (const c of ['freezer', 'pids', 'memory', 'cpu', 'devices']) if (this.saved.v1[c]) return this.saved.v1[c];
    return this.saved.unified ?? Object.values(this.saved.v1)[0];
  }

  pids(): number[] {
    const d = this.trackingDir();
    return d ? pidsRecursive(d) : [];
  }

  stats(only?: readonly string[]): CgroupStats {
    const out: CgroupStats = {};
    for (const b of this.bound()) {
      if (only && b.ctrl.name && !only.includes(b.ctrl.name)) continue;
      if (b.dir && b.ctrl.stats && existsSync(b.dir)) b.ctrl.stats(b.dir, out);
    }
    if (this.saved.v1['memory']) out.oomKills = this.oomKillCount();
    return out;
  }

  oomKillCount(): number {
    return oomKillCountV1(this.saved.v1['memory']);
  }

  watchOom(onOom: (count: number) => void): () => void {
    return watchOomV1(this.saved.v1['memory'], onOom);
  }

  /** Freezer: v1 freezer if mounted, else the unified twin's cgroup.freeze (core file, linux ≥ 5.2). */
  private freezer(): { kind: 'v1' | 'v2'; dir: string } | undefined {
    if (this.saved.v1['freezer']) return { kind: 'v1', dir: this.saved.v1['freezer'] };
    if (this.saved.unified && hasFile(this.saved.unified, 'cgroup.freeze')) return { kind: 'v2', dir: this.saved.unified };
    return undefined;
  }

  async freeze(): Promise<void> {
    const f = this.freezer();
    if (!f) throw new BerthError('EUNSUPPORTED', 'cannot freeze: no v1 freezer controller and no cgroup.freeze on this host');
    await (f.kind === 'v1' ? freezeV1(f.dir) : freezeV2(f.dir));
  }

  async thaw(): Promise<void> {
    const f = this.freezer();
    if (f) await (f.kind === 'v1' ? thawV1(f.dir) : thawV2(f.dir));
  }

  freezerState(): FreezerState {
    const f = this.freezer();
    if (!f) return 'thawed';
    return f.kind === 'v1' ? freezerStateV1(f.dir) : freezerStateV2(f.dir);
  }

  /**
   * v1 has no cgroup.kill: freeze, signal every pid, thaw (runc's signalAllProcesses). While
   * frozen nothing can fork a child that escapes the list; frozen tasks act on the signal when thawed.
   */
  async killAll(signal: NodeJS.Signals | number = 'SIGKILL'): Promise<void> {
    // An empty cgroup has no process that could fork while we signal: no freeze needed (the
    // common case at delete, after the init exited).
    if (this.pids().length === 0) return;
    let frozen = false;
    if (this.freezer() && this.exists()) {
      await this.freeze();
      frozen = true;
    }
    try {
      signalPids(this.pids(), signal);
    } finally {
      if (frozen) await this.thaw();
    }
  }

  async destroy(): Promise<void> {
    for (const dir of this.dirs()) await removeTree(dir);
  }

  exists(): boolean {
    return this.dirs().some((d) => existsSync(d));
  }

  deviceFilter(): Uint8Array | undefined {
    return undefined;
  }
}
