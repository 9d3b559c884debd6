/**
 * Several commands share one warm process (issue 11, "One I/O context for both command lines"):
 * two callers run berth and berth-runtime commands at the same time in this one Node process,
 * through the command lines' main() with a CommandIO each, and each sees only its own directory,
 * environment, umask, output and cgroup. Nothing of the process is changed for them (no chdir,
 * no process.env, no umask, no process.stdout): this is what lets a warm worker serve more than
 * one client. Each caller has:
 *   - a working directory of its own: a relative --env-file, `import FILE`, `save -o FILE`, and
 *     berth-runtime's `spec --bundle DIR` and `--log FILE` land there;
 *   - an environment of its own: BERTH_DATA_ROOT and BERTH_RUNTIME_ROOT (so `ps -a` lists only its
 *     containers), and FOO for `-e FOO`;
 *   - a umask of its own (0002 and 0077, neither this process's): the files made for it get it;
 *   - outputs of its own: files opened O_APPEND, which its containers get as their stdout too;
 *   - a cgroup of its own: a process placed in a memory cgroup below this test's, whose pid is the
 *     caller's, so a relative --cgroup-parent lands below that cgroup.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { main as berth } from '../../src/cli/berth/main.js';
import { main as berthRuntime } from '../../src/cli/runtime/main.js';
import { CollectOutput, fdOutput, noInput, noSignals, type CommandIO } from '../../src/cli/io.js';
import { assertNoLeaks, ownCgroupDirs, processTag, whyNotRoot } from '../support/bundle.js';

interface Caller {
  name: string;
  dir: string;
  /** The caller's stand-in process, in the caller's own memory cgroup. */
  proc: ChildProcess;
  cgroup: string;
  outFile: string;
  errFile: string;
  io: CommandIO;
}

const skip = whyNotRoot();
const tag = processTag();

describe('several commands at once in one process, each with its own caller', { skip }, () => {
  const callers: Caller[] = [];
  let memRoot: string | undefined;

  before(async () => {
    memRoot = (await ownCgroupDirs()).find((d) => d.controllers.split(',').includes('memory'))?.dir;
    assert.ok(memRoot, 'no memory cgroup of this process');
    for (const [name, umask] of [['a', 0o002], ['b', 0o077]] as const) {
      const dir = mkdtempSync(join(tmpdir(), `${tag}-io-${name}-`));
      const cgroup = join(memRoot, `${tag}-io-${name}`);
      mkdirSync(cgroup);
      const proc = spawn('sleep', ['600'], { stdio: 'ignore' });
      writeFileSync(join(cgroup, 'cgroup.procs'), String(proc.pid));
      writeFileSync(join(dir, 'env.list'), `BAR=bar-${name}\n`);
      mkdirSync(join(dir, 'tree'));
      writeFileSync(join(dir, 'tree', 'hello'), `hello ${name}\n`);
      assert.equal(spawnSync('tar', ['-C', join(dir, 'tree'), '-cf', join(dir, 'rootfs.tar'), '.']).status, 0);
      mkdirSync(join(dir, 'bundle'));
      const outFile = join(dir, 'out');
      const errFile = join(dir, 'err');
      const out = openSync(outFile, 'a');
      const err = openSync(errFile, 'a');
      const io: CommandIO = {
        cwd: dir,
        env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', FOO: `foo-${name}`,
          BERTH_DATA_ROOT: join(dir, 'data'), BERTH_RUNTIME_ROOT: join(dir, 'run'), BERTH_DEFAULT_NETWORK: 'none' },
        umask,
        stdin: noInput(),
        stdout: fdOutput(out),
        stderr: fdOutput(err),
        callerPid: proc.pid!,
        signals: noSignals,
      };
      callers.push({ name, dir, proc, cgroup, outFile, errFile, io });
    }
  });

  after(async () => {
    for (const c of callers) {
      for (const id of readIds(c)) await berth(['rm', '-f', id], { ...c.io, stdout: new CollectOutput(), stderr: new CollectOutput() });
      c.proc.kill('SIGKILL');
      closeSync(c.io.stdout.fd!);
      closeSync(c.io.stderr.fd!);
    }
    for (const c of callers) {
      await new Promise((r) => (c.proc.exitCode !== null || c.proc.signalCode !== null ? r(undefined) : c.proc.once('exit', r)));
      // The engine leaves a --cgroup-parent in place (Docker does too).
      try { rmdirSync(join(c.cgroup, `${tag}-par`)); } catch { /* not made */ }
      rmdirSync(c.cgroup);
      rmSync(c.dir, { recursive: true, force: true });
    }
    // In the other hierarchies the callers sit in this process's own cgroups.
    for (const { dir } of await ownCgroupDirs()) {
      try { rmdirSync(join(dir, `${tag}-par`)); } catch { /* not made, or already removed (co-mounted) */ }
    }
    await assertNoLeaks(tag);
  });

  /** The ids of the caller's containers, from its own data root. */
  function readIds(c: Caller): string[] {
    try { return spawnSync('ls', [join(c.dir, 'data', 'containers')], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean); } catch { return []; }
  }

  test('berth and berth-runtime commands of two callers run at once, each with only its own', async () => {
    const results = await Promise.all(callers.map(async (c) => {
      const codes: Record<string, number> = {};
      // A foreground container: -e FOO from the caller's environment, a relative --env-file from
      // its directory, a relative --cgroup-parent below its cgroup, output to its stdout.
      codes.run = await berth(['run', '--rm', '--network', 'none', '--cgroupns', 'host', '--cgroup-parent', `${tag}-par`,
        '-e', 'FOO', '--env-file', 'env.list', '--', 'sh', '-c', 'echo "FOO=$FOO BAR=$BAR"; grep memory /proc/self/cgroup'], c.io);
      // Records in the data root its environment names: ps lists its container only.
      codes.create = await berth(['create', '--name', `${tag}-${c.name}`, '--network', 'none', '--', 'true'], c.io);
      // A relative `import FILE` and `save -o FILE`; the archive gets the caller's umask.
      codes.import = await berth(['import', 'rootfs.tar', `io-${c.name}:v1`], c.io);
      codes.save = await berth(['save', '-o', 'saved.tar', `io-${c.name}:v1`], c.io);
      const ps = new CollectOutput();
      codes.ps = await berth(['ps', '-a', '--format', '{{.Names}}'], { ...c.io, stdout: ps });
      // berth-runtime in the same process: a relative --bundle and --log, the caller's umask.
      codes.spec = await berthRuntime(['spec', '--bundle', 'bundle'], c.io);
      codes.state = await berthRuntime(['--root', 'rt', '--log', 'runtime.log', '--log-format', 'json', 'state', 'nope'], c.io);
      return { c, codes, ps: ps.text };
    }));
    for (const { c, codes, ps } of results) {
      const other = callers.find((x) => x !== c)!;
      const err = readFileSync(c.errFile, 'utf8');
      assert.deepEqual(codes, { run: 0, create: 0, import: 0, save: 0, ps: 0, spec: 0, state: 1 }, `caller ${c.name}: ${err}`);
      const out = readFileSync(c.outFile, 'utf8');
      assert.match(out, new RegExp(`^FOO=foo-${c.name} BAR=bar-${c.name}$`, 'm'), out);
      assert.doesNotMatch(out, new RegExp(`foo-${other.name}|bar-${other.name}`));
      // The container's memory cgroup is below the caller's, not below this process's.
      const memLine = out.split('\n').find((l) => /:memory:/.test(l)) ?? '';
      const callerPath = readFileSync(`/proc/${c.proc.pid}/cgroup`, 'utf8').split('\n').find((l) => /:memory:/.test(l))!.split(':')[2]!;
      assert.ok(memLine.split(':')[2]?.startsWith(`${callerPath}/${tag}-par/`), `container cgroup ${memLine} is not below the caller's ${callerPath}`);
      assert.equal(ps.trim(), `${tag}-${c.name}`);
      assert.match(err, new RegExp(`berth-runtime: container nope does not exist`));
      // Files made for the caller: in its directory, with its umask.
      const mode = (f: string) => statSync(join(c.dir, f)).mode & 0o777;
      assert.equal(mode('saved.tar'), 0o666 & ~c.io.umask, 'save -o');
      assert.equal(mode('bundle/config.json'), 0o666 & ~c.io.umask, 'spec');
      assert.equal(mode('runtime.log'), 0o666 & ~c.io.umask, '--log');
      assert.equal(JSON.parse(readFileSync(join(c.dir, 'runtime.log'), 'utf8').trim()).level, 'error');
    }
  });
});
