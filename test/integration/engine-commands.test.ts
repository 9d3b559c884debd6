/**
 * The engine's commands on a running container, typed as a user does: exec, update (checked in
 * the cgroup files from inside), pause/unpause, top, stats, events, rename, port, container
 * prune, system df, --init and --stop-signal.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { assertNoLeaks, processTag, uniqueId, whyNotRoot } from '../support/bundle.js';
import { BerthCli, until } from './engine-cli.js';

const skip = whyNotRoot();
let b: BerthCli;

before(() => { if (!skip) b = new BerthCli('engine-cmd'); });
after(async () => {
  if (skip) return;
  await b.cleanup();
  await assertNoLeaks(processTag());
});

/** Start a long-running detached container; returns its name. */
async function running(label: string, flags: string[] = []): Promise<string> {
  const name = uniqueId(label);
  const r = await b.exec(['run', '-d', '--name', name, ...b.cg, ...flags, '--', 'sleep', '60']);
  assert.equal(r.code, 0, r.stderr);
  return name;
}

test('exec: environment, user, working directory, exit codes, and a missing command', { skip }, async () => {
  const name = await running('exec', ['-e', 'A=1']);
  const r = await b.exec(['exec', '-e', 'B=2', '-u', '1000:1000', '-w', '/tmp', name, 'sh', '-c', 'echo $A $B; id -u; id -g; pwd; exit 5']);
  assert.equal(r.stdout, '1 2\n1000\n1000\n/tmp\n');
  assert.equal(r.code, 5);
  const i = await b.exec(['exec', '-i', name, 'cat'], { input: 'through stdin\n' });
  assert.equal(i.stdout, 'through stdin\n');
  const missing = await b.exec(['exec', name, 'no-such-command-berth']);
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /^berth: exec failed: .*no-such-command-berth.*not found/);
  const d = await b.exec(['exec', '-d', name, 'sh', '-c', 'sleep 0.2']);
  assert.equal(d.code, 0);
  assert.equal((await b.exec(['rm', '-f', name])).code, 0);
});

test('update changes the limits of a running container, seen from inside', { skip }, async () => {
  const name = await running('upd', ['--memory', '64m', '--pids-limit', '20']);
  const u = await b.exec(['update', '--memory', '96m', '--memory-swap', '192m', '--pids-limit', '30', '--cpus', '0.5', name]);
  assert.equal(u.code, 0, u.stderr);
  const r = await b.exec(['exec', name, 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/pids/pids.max', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us']);
  assert.deepEqual(r.stdout.trim().split('\n'), [String(96 << 20), '30', '50000']);
  assert.equal(await b.inspect(name, '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.NanoCpus}}'), `${96 << 20} 30 500000000`);
  const bad = await b.exec(['update', '--memory', '4m', name]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /minimum memory limit allowed is 6MB/);
  assert.match((await b.exec(['update', name])).stderr, /^berth: you must provide one or more flags/);
  assert.equal((await b.exec(['rm', '-f', name])).code, 0);
});

test('restart: a running container gets a new process; a stopped one starts; the restart event', { skip }, async () => {
  const name = await running('restart');
  const pid = await b.inspect(name, '{{.State.Pid}}');
  assert.equal((await b.exec(['restart', '-t', '0', name])).stdout, `${name}\n`);
  assert.equal(await b.inspect(name, '{{.State.Running}}'), 'true');
  assert.notEqual(await b.inspect(name, '{{.State.Pid}}'), pid);
  assert.equal((await b.exec(['stop', '-t', '0', name])).code, 0);
  assert.equal((await b.exec(['container', 'restart', name])).code, 0);
  assert.equal(await b.inspect(name, '{{.State.Running}}'), 'true');
  assert.match((await b.exec(['events', '--since', '1m', '--until', '0s', '--filter', `container=${name}`, '--filter', 'event=restart'])).stdout, / container restart /);
  assert.match((await b.exec(['restart', 'berth-t-nosuch'])).stderr, /no such container: berth-t-nosuch/);
  assert.equal((await b.exec(['rm', '-f', name])).code, 0);
});

test('version and info: Docker\'s reports, with --format', { skip }, async () => {
  const v = await b.exec(['version']);
  assert.match(v.stdout, /^Client: Berth\n Version: +\d+\.\d+\.\d+\n API version: +1\.41\n[\s\S]*\n  API version: +1\.41 \(minimum version 1\.24\)\n/);
  assert.equal((await b.exec(['version', '--format', '{{.Server.ApiVersion}}'])).stdout, '1.41\n');
  const name = await running('info');
  const i = JSON.parse((await b.exec(['info', '--format', 'json'])).stdout) as { ContainersRunning: number; CgroupDriver: string; NCPU: number };
  assert.ok(i.ContainersRunning >= 1);
  assert.equal(i.CgroupDriver, 'cgroupfs');
  assert.match((await b.exec(['system', 'info'])).stdout, /^Server:\n Containers: \d+\n  Running: \d+\n/);
  assert.equal((await b.exec(['rm', '-f', name])).code, 0);
});

test('pause and unpause freeze the container; ps shows (Paused)', { skip }, async () => {
  const name = await running('pause');
  assert.equal((await b.exec(['pause', name])).stdout, `${name}\n`);
  assert.equal(await b.inspect(name, '{{.State.Status}} {{.State.Paused}}'), 'paused true');
  assert.match((await b.exec(['ps'])).stdout, /Up .* \(Paused\)/);
  assert.match((await b.exec(['pause', name])).stderr, /is already paused/);
  assert.equal((await b.exec(['unpause', name])).code, 0);
  assert.equal(await b.inspect(name, '{{.State.Status}} {{.State.Paused}}'), 'running false');
  assert.equal((await b.exec(['rm', '-f', name])).code, 0);
});

test('top lists the container\'s processes; stats --no-stream reads its cgroup', { skip }, async () => {
  const name = await running('top', ['--memory', '64m', '--pids-limit', '50']);
  const top = await b.exec(['top', name]);
  assert.match(top.stdout, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD\n.*sleep 60\n$/);
  const table = await b.exec(['stats', '--no-stream', name]);
  assert.match(table.stdout, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS\n/);
  const json = JSON.parse((await b.exec(['stats', '--no-stream', '--format', 'json', name])).stdout);
  assert.equal(json.Name, name);
  assert.match(json.MemUsage, / \/ 64MiB$/);
  assert.match(json.CPUPerc, /^\d+\.\d\d%$/);
  assert.equal(json.PIDs, '1');
  assert.equal(json.NetIO, '--');
  assert.equal((await b.exec(['rm', '-f', name])).code, 0);
});

test('rename, port, events with filters', { skip }, async () => {
  const name = await running('ren');
  const renamed = `${name}-new`;
  assert.equal((await b.exec(['rename', name, renamed])).code, 0);
  assert.equal((await b.exec(['inspect', name])).code, 1);
  assert.equal(await b.inspect(renamed, '{{.Name}}'), `/${renamed}`);
  const port = await b.exec(['port', renamed]);
  assert.equal(port.stdout, '');
  assert.equal(port.code, 0);
  assert.equal((await b.exec(['kill', '-s', 'KILL', renamed])).code, 0);
  await until(async () => (await b.inspect(renamed, '{{.State.Status}}')) === 'exited');
  const id = await b.inspect(renamed, '{{.Id}}');
  const ev = await b.exec(['events', '--since', '5m', '--until', '0s', '--filter', `container=${id}`, '--format', '{{.Action}}']);
  assert.deepEqual(ev.stdout.trim().split('\n'), ['create', 'start', 'rename', 'kill', 'die']);
  const die = await b.exec(['events', '--since', '5m', '--until', '0s', '--filter', `container=${id}`, '--filter', 'event=die']);
  assert.match(die.stdout, new RegExp(`^\\S+Z container die ${id} \\(exitCode=137, image=host, name=${renamed}, signal=SIGKILL\\)\\n$`));
  assert.equal((await b.exec(['rm', renamed])).code, 0);
});

test('container prune removes stopped containers only; system df counts them', { skip }, async () => {
  const live = await running('prl');
  const dead = uniqueId('prd');
  assert.equal((await b.exec(['run', '--name', dead, ...b.cg, '--', 'true'])).code, 0);
  assert.match((await b.exec(['system', 'df'])).stdout, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\n.*\nContainers\s+2\s+1\s+/);
  const deadId = await b.inspect(dead, '{{.Id}}');
  const p = await b.exec(['container', 'prune', '-f']);
  assert.equal(p.stdout, `Deleted Containers:\n${deadId}\n\nTotal reclaimed space: 0B\n`);
  assert.equal(await b.inspect(live, '{{.State.Status}}'), 'running');
  assert.equal((await b.exec(['inspect', dead])).code, 1);
  assert.equal((await b.exec(['rm', '-f', live])).code, 0);
});

test('--init runs a reaping, signal-forwarding pid 1; --stop-signal is what stop sends', { skip }, async () => {
  const r = await b.exec(['run', '--rm', '--init', ...b.cg, '--', 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; echo']);
  assert.equal(r.stdout, '/dev/init -- sh -c cat /proc/1/cmdline | tr "\\0" " "; echo \n', r.stderr);
  // A shell as pid 1 ignores SIGTERM; under --init it gets it and stop is quick.
  const name = await running('init', ['--init']);
  const t0 = Date.now();
  assert.equal((await b.exec(['stop', name])).code, 0);
  assert.ok(Date.now() - t0 < 5000, 'stopped by SIGTERM, not after the 10 s timeout');
  assert.equal(await b.inspect(name, '{{.State.ExitCode}}'), '143');
  const sig = uniqueId('sig');
  assert.equal((await b.exec(['run', '-d', '--name', sig, '--stop-signal', 'USR1', ...b.cg, '--', 'sh', '-c', 'trap "exit 7" USR1; while true; do sleep 0.1; done'])).code, 0);
  await new Promise((res) => setTimeout(res, 300));
  assert.equal((await b.exec(['stop', sig])).code, 0);
  assert.equal(await b.inspect(sig, '{{.State.ExitCode}}'), '7');
  assert.equal((await b.exec(['rm', name, sig])).code, 0);
});
