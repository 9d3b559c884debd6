/**
 * Shared machinery of Berth's OCI conformance suite (the checks of runtime-tools' validation/
 * programs and of its in-container `runtimetest`, written anew for Berth): a per-file harness
 * that owns a private runtime root and every bundle, a runner that executes a shell script of
 * probe commands in one container and splits the output into sections, helpers that look at a
 * created container from the outside (/proc/<pid>), and decoders for capability masks and
 * mountinfo.
 *
 * One container answers many questions: a CLI call costs ~0.5 s of Node start-up here, so each
 * describe() runs a container once in `before` and its tests only read the recorded output.
 * `BERTH_TEST_RUNTIME=/usr/sbin/runc` runs the whole suite against runc to check the tests.
 */
import * as assert from 'node:assert/strict';
import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { Spec } from '../../../src/oci/spec.js';
import { CAPABILITIES } from '../../../src/oci/capabilities.js';
import { assertNoLeaks, makeBundle, processTag, type TestBundle } from '../../support/bundle.js';
import { makeRoot, otherRuntime, runtime, type Result } from '../../support/runtime.js';

/** True when the suite drives Berth (not a runtime named by BERTH_TEST_RUNTIME). */
export const isBerth = otherRuntime === undefined;

/** One test file's runtime root and bundles; everything is removed in `after`. */
export interface Harness {
  /** The private `--root` of this file's containers. */
  readonly root: string;
  /** A bundle whose container is force-deleted and whose directory is removed in `after`. */
  bundle(args: string[], mutate?: (spec: Spec) => void): Promise<TestBundle>;
  /** `runtime --root ROOT ...args`. */
  rt(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<Result>;
}

/**
 * Registers `before`/`after` hooks for the enclosing describe(): a private runtime root, and at
 * the end `delete --force` of every container, removal of every bundle and a leak check of the
 * whole file (`assertNoLeaks(processTag())`), even when tests failed.
 */
export function useHarness(): Harness {
  let made: ReturnType<typeof makeRoot> | undefined;
  const bundles: TestBundle[] = [];
  before(() => { made = makeRoot(); });
  after(async () => {
    if (!made) return;
    for (const b of bundles) await runtime(made.root, ['delete', '--force', b.id]).catch(() => undefined);
    for (const b of bundles) await b.cleanup().catch(() => undefined);
    made.cleanup();
    await assertNoLeaks(processTag());
  });
  return {
    get root() { return made!.root; },
    async bundle(args, mutate) {
      const b = await makeBundle({ args, mutate });
      bundles.push(b);
      return b;
    },
    rt: (args, opts) => runtime(made!.root, args, opts),
  };
}

/**
 * Runs `script` with `sh -c` as the container's process (`run`, foreground) and returns its
 * sections: every line `@@name` written by `section('name')` starts one. Also checks that the
 * container left nothing behind.
 * @example const out = await runScript(h, [section('ids'), 'probe ids'].join('\n'));
 */
export async function runScript(h: Harness, script: string, mutate?: (spec: Spec) => void, extraArgs: string[] = [],
  prepare?: (b: TestBundle) => Promise<void>): Promise<Sections> {
  const b = await h.bundle(['sh', '-c', script, ...extraArgs], mutate);
  await prepare?.(b);
  const r = await h.rt(['run', '--bundle', b.dir, b.id]);
  await assertNoLeaks(b.id);
  return parseSections(r, b);
}

/** A script line that starts a section named `name` (and merges stderr into the output). */
export function section(name: string): string {
  return `echo @@${name}; exec 2>&1`;
}

/** The output of `runScript`: the run's result and the text of each section (trimmed). */
export interface Sections {
  result: Result;
  bundle: TestBundle;
  get(name: string): string;
}

function parseSections(result: Result, bundle: TestBundle): Sections {
  const map = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of result.stdout.split('\n')) {
    if (line.startsWith('@@')) map.set(line.slice(2), (current = []));
    else current?.push(line);
  }
  return {
    result,
    bundle,
    get(name) {
      const lines = map.get(name);
      assert.ok(lines, `no section ${name} in the container's output (exit ${result.code}); stderr: ${result.stderr}\nstdout: ${result.stdout}`);
      return lines.join('\n').trim();
    },
  };
}

/** A created container (blocked before exec, or running after `start`) seen from outside. */
export interface Live {
  bundle: TestBundle;
  pid: number;
  /** `state` as parsed JSON. */
  state(): Promise<Record<string, unknown>>;
  /** `delete --force`, then the leak check for this container. */
  remove(): Promise<void>;
}

/** `create` (with --pid-file) a container from a new bundle, optionally `start` it. */
export async function createLive(h: Harness, args: string[], mutate?: (spec: Spec) => void, start = false,
  prepare?: (b: TestBundle) => Promise<void>): Promise<Live> {
  const b = await h.bundle(args, mutate);
  await prepare?.(b);
  const pidFile = join(b.dir, 'container.pid');
  const c = await h.rt(['create', '--bundle', b.dir, '--pid-file', pidFile, b.id]);
  assert.equal(c.code, 0, `create failed: ${c.stderr}`);
  const pid = Number(await readFile(pidFile, 'utf8'));
  if (start) {
    const s = await h.rt(['start', b.id]);
    assert.equal(s.code, 0, `start failed: ${s.stderr}`);
  }
  return {
    bundle: b,
    pid,
    state: async () => {
      const r = await h.rt(['state', b.id]);
      assert.equal(r.code, 0, `state failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as Record<string, unknown>;
    },
    remove: async () => {
      await h.rt(['delete', '--force', b.id]);
      await assertNoLeaks(b.id);
    },
  };
}

/** Polls `state` until the status is `want` (or 5 s pass); returns the last status seen. */
export async function waitStatus(h: Harness, id: string, want: string): Promise<string> {
  let status = '';
  for (let i = 0; i < 100; i++) {
    const r = await h.rt(['state', id]);
    status = r.code === 0 ? String((JSON.parse(r.stdout) as { status: string }).status) : `error: ${r.stderr.trim()}`;
    if (status === want) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  return status;
}

/** The namespace of a process, as `net:[4026531840]`. */
export function nsOf(pid: number | 'self', file: string): Promise<string> {
  return readlink(`/proc/${pid}/ns/${file}`);
}

/** One field of /proc/<pid>/status (`Uid`, `CapBnd`, `NoNewPrivs` ...), whitespace-collapsed. */
export async function procStatus(pid: number, key: string): Promise<string> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const line = text.split('\n').find((l) => l.startsWith(`${key}:`));
  assert.ok(line, `no ${key} in /proc/${pid}/status`);
  return line.slice(key.length + 1).trim().split(/\s+/).join(' ');
}

/** The capability names set in a hex mask from /proc/<pid>/status, sorted. */
export function capNames(hex: string): string[] {
  const mask = BigInt(`0x${hex.trim()}`);
  return Object.entries(CAPABILITIES).filter(([, n]) => (mask >> BigInt(n)) & 1n).map(([name]) => name).sort();
}

/** `key=value` lines of `probe caps` (or /proc/self/status) as a record. */
export function keyValues(text: string): Record<string, string> {
  const rec: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) rec[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return rec;
}

/** One line of /proc/self/mountinfo. */
export interface MountLine {
  root: string;
  point: string;
  /** Per-mount options (ro, nosuid, ...). */
  opts: string[];
  /** Optional fields: `shared:N`, `master:N`, `unbindable`, ... */
  optional: string[];
  fstype: string;
  source: string;
  /** Super-block options (mode=755, size=..., ...). */
  superOpts: string[];
}

/** Parses mountinfo text (proc(5)); octal escapes in paths are decoded. */
export function parseMountinfo(text: string): MountLine[] {
  const un = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return text.split('\n').filter((l) => l.includes(' - ')).map((line) => {
    const [pre = '', post = ''] = line.split(' - ');
    const f = pre.split(' ');
    const [fstype = '', source = '', superOpts = ''] = post.split(' ');
    return {
      root: un(f[3] ?? ''), point: un(f[4] ?? ''), opts: (f[5] ?? '').split(','), optional: f.slice(6),
      fstype, source: un(source), superOpts: superOpts.split(','),
    };
  });
}

/** The last mount at `point` (the one visible there), or undefined. */
export function mountAt(mounts: MountLine[], point: string): MountLine | undefined {
  return mounts.filter((m) => m.point === point).pop();
}
