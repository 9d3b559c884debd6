/**
 * Test driver for the native helper (not a test file itself): spawns native/build/berth-helper
 * with a socketpair as its sync fd, sends a plan, answers "pid" with "go" and collects the
 * messages and output, as the runtime does (native/PROTOCOL.md). Shared by helper.test.ts and
 * helper-ops.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeMessage, readMessages, type Field } from '../../src/native/protocol.js';
import { makeBusyboxRootfs, processTag, repoRoot, whyNotRoot } from '../support/bundle.js';

export type { Field };

/** The helper binary and the console-socket receiver built by `make -C native`. */
export const HELPER = join(repoRoot, 'native/build/berth-helper');
export const RECVTTY = join(repoRoot, 'native/build/recvtty');

// <linux/sched.h> and <sys/mount.h> values
export const CLONE_NEWNS = 0x20000, CLONE_NEWUTS = 0x4000000, CLONE_NEWIPC = 0x8000000, CLONE_NEWPID = 0x20000000;
export const CLONE_NEWUSER = 0x10000000, CLONE_NEWCGROUP = 0x2000000;
/** The clone flags of most test containers. */
export const FLAGS = String(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID);
export const MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_REMOUNT = 32, MS_BIND = 4096;
export const MS_REC = 16384, MS_PRIVATE = 1 << 18, MS_SLAVE = 1 << 19;

/** Why the helper tests cannot run here, or undefined. */
export const skip = whyNotRoot() ?? (existsSync(HELPER) ? undefined : `${HELPER} not built: make -C native`);

/** A temporary directory (0755, so a user namespace's root can reach it) holding a busybox rootfs. */
export async function makeTmpRootfs(): Promise<{ tmp: string; rootfs: string }> {
  const tmp = await mkdtemp(join(tmpdir(), `${processTag()}-helper-`));
  await chmod(tmp, 0o755);
  const rootfs = join(tmp, 'rootfs');
  await makeBusyboxRootfs(rootfs);
  await chmod(rootfs, 0o755); // cp -a copies the 0700 of the template's mkdtemp directory
  return { tmp, rootfs };
}

/** The rootfs op, /proc, a tmpfs /dev with the usual devices, devpts and links, then `extra`. */
export function setup(rootfs: string, extra: Field[][] = []): Field[][] {
  const dev = (name: string, maj: number, min: number): Field[] => ['mknod', `/dev/${name}`, 'c', `${maj}`, `${min}`, '666', '0', '0'];
  return [
    ['rootfs', rootfs, String(MS_REC | MS_PRIVATE)],
    ['mount', 'proc', '/proc', 'proc', String(MS_NOSUID | MS_NODEV | MS_NOEXEC), '', 'dir', '0'],
    ['mount', 'tmpfs', '/dev', 'tmpfs', String(MS_NOSUID), 'mode=755,size=1024k', 'dir', '0'],
    dev('null', 1, 3), dev('zero', 1, 5), dev('full', 1, 7), dev('random', 1, 8), dev('urandom', 1, 9), dev('tty', 5, 0),
    ['mount', 'devpts', '/dev/pts', 'devpts', String(MS_NOSUID | MS_NOEXEC), 'newinstance,ptmxmode=0666,mode=0620', 'dir', '0'],
    ['symlink', 'pts/ptmx', '/dev/ptmx'],
    ['symlink', '/proc/self/fd', '/dev/fd'],
    ...extra,
  ];
}

/** What a run produced: every message (as strings), stdout+stderr, the exit code, the pid. */
export interface Result {
  msgs: string[][];
  stdout: string;
  code: number | null;
  pid: number;
}

/** Hooks into a run. */
export interface RunOpts {
  state?: string;
  extraFds?: number;
  onPid?: (pid: number) => void | Promise<void>;
  onReady?: (proc: ChildProcess, out: () => string) => void | Promise<void>;
  endAfterPid?: boolean;
  /** Pass fd 3 to the container (_BERTH_PRESERVE_FDS=1); the sync socket is then fd 4. */
  preserveOne?: boolean;
}

const started = new Set<ChildProcess>();
const containers = new Set<number>();

/** SIGKILL, by pid, every helper and container a failed test left running. */
export function killLeftovers(): void {
  for (const pid of containers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  for (const proc of started) proc.kill('SIGKILL');
  containers.clear();
  started.clear();
}

/** Spawn the helper, send the plan, answer "pid" with "go", and collect everything until it exits. */
export async function run(ops: Field[][], opts: RunOpts = {}): Promise<Result> {
  const extra = (opts.extraFds ?? 0) + (opts.preserveOne ? 1 : 0);
  const stdio = ['ignore', 'pipe', 'pipe', 'pipe', ...Array<'pipe'>(extra).fill('pipe')] as const;
  const env = opts.preserveOne ? { _BERTH_SYNC_FD: '4', _BERTH_PRESERVE_FDS: '1' } : { _BERTH_SYNC_FD: '3' };
  const proc = spawn(HELPER, [], { stdio: [...stdio], env: { ...process.env, ...env } });
  started.add(proc);
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  let stdout = '';
  proc.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (stdout += d.toString()));
  const sync = proc.stdio[opts.preserveOne ? 4 : 3] as Socket;
  for (const op of [...ops, ['end']]) sync.write(encodeMessage(op));
  const msgs: string[][] = [];
  let pid = 0;
  for await (const m of readMessages(sync)) {
    const fields = m.map((b) => b.toString());
    msgs.push(fields);
    if (fields[0] === 'pid') {
      pid = Number(fields[1]);
      containers.add(pid);
      await opts.onPid?.(pid);
      if (opts.endAfterPid) sync.end();
      else sync.write(encodeMessage(opts.state ? ['go', opts.state] : ['go']));
    } else if (fields[0] === 'ready') {
      await opts.onReady?.(proc, () => stdout);
    }
  }
  const code = await exited;
  started.delete(proc);
  containers.delete(pid);
  return { msgs, stdout, code, pid };
}

/** The messages of the "error" messages of a run. */
/** The text of each `error` message (`error <op> <errno> <text>`). */
export const errors = (r: Result) => helperErrors(r).map((e) => e.text);

/** Each `error` message with its fields: the op, the errno (0: none) and the text. */
export const helperErrors = (r: Result) => r.msgs.filter((m) => m[0] === 'error').map((m) => ({ op: m[1], errno: Number(m[2]), text: m[3] }));

