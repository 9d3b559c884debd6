/**
 * Shared by the runtime-resources-*.test.ts files: a runtime root plus bundles that are always
 * deleted, waiting for a container's status, and the container's cgroup as the runtime recorded
 * it (so a test reads the kernel's own files, not what Berth says about them).
 */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '../../src/oci/spec.js';
import { cgroupManagerFromState, type CgroupManager, type SavedCgroup } from '../../src/cgroups/index.js';
import { makeBundle, type TestBundle } from '../support/bundle.js';
import { makeRoot, runtime, type Result } from '../support/runtime.js';

/** A private runtime root and the bundles made in it; `cleanup()` force-deletes everything. */
export class Containers {
  readonly root = makeRoot();
  private readonly bundles: TestBundle[] = [];

  /** A bundle running `args` (see makeBundle), deleted with its container by `cleanup()`. */
  async bundle(args: string[], mutate?: (spec: Spec) => void): Promise<TestBundle> {
    const b = await makeBundle({ args, mutate });
    this.bundles.push(b);
    return b;
  }

  /** `berth-runtime --root ROOT ...args`. */
  rt(args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<Result> {
    return runtime(this.root.root, args, opts);
  }

  /** `run -d`, asserting success. */
  async runDetached(b: TestBundle): Promise<void> {
    const r = await this.rt(['run', '-d', '--bundle', b.dir, b.id]);
    assert.equal(r.code, 0, `run -d ${b.id}: ${r.stderr}`);
  }

  /** The container's status from `state` ('gone' when it does not exist). */
  async status(id: string): Promise<string> {
    const s = await this.rt(['state', id]);
    return s.code === 0 ? (JSON.parse(s.stdout) as { status: string }).status : 'gone';
  }

  /** Polls `state` until the status is `want`, or fails after `ms`. */
  async waitStatus(id: string, want: string, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    let last = '';
    while (Date.now() < deadline) {
      if ((last = await this.status(id)) === want) return;
      await sleep(50);
    }
    assert.fail(`container ${id} did not become ${want} within ${ms} ms (last: ${last})`);
  }

  /** The container's cgroup manager, rebuilt from the saved record in its state.json. */
  cgroup(id: string): CgroupManager {
    const rec = JSON.parse(readFileSync(join(this.root.root, id, 'state.json'), 'utf8')) as { cgroup?: SavedCgroup };
    assert.ok(rec.cgroup, `state of ${id} has no cgroup record`);
    return cgroupManagerFromState(rec.cgroup);
  }

  /** Deletes every container (force) and bundle, then the root. Safe to call twice. */
  async cleanup(): Promise<void> {
    for (const b of this.bundles) await this.rt(['delete', '--force', b.id]).catch(() => undefined);
    for (const b of this.bundles.splice(0)) await b.cleanup();
    this.root.cleanup();
  }
}

/** Reads one cgroup file (trimmed) from a directory. */
export function cgroupFile(dir: string | undefined, file: string): string {
  assert.ok(dir, `no cgroup directory for ${file}`);
  return readFileSync(join(dir, file), 'utf8').trim();
}

/** Adds resources to a spec, keeping the bundle's default device rules. */
export function withResources(resources: NonNullable<NonNullable<Spec['linux']>['resources']>): (spec: Spec) => void {
  return (spec) => {
    const linux = (spec.linux ??= {});
    linux.resources = { ...linux.resources, ...resources };
  };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
