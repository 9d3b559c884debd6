/**
 * Detached containers: the native helper as their only monitor (no Node process resident), its
 * json-file log, the exit file and the cleanup it execs (--rm, the outcome, OOM), `wait`,
 * `stop`, `logs`, `attach`, --restart, and the monitor's resident memory.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertNoLeaks, processTag, uniqueId, whyNotRoot } from '../support/bundle.js';
import { BerthCli, delay, until } from './engine-cli.js';

const skip = whyNotRoot();
let b: BerthCli;
/** Every monitor pid seen, to check none is left. */
const monitors = new Set<number>();

function record(id: string): { Monitor?: { pid: number; kind: string } } {
  return JSON.parse(readFileSync(join(b.data, 'containers', id, 'container.json'), 'utf8'));
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

before(() => { if (!skip) b = new BerthCli('engine-det'); });
after(async () => {
  if (skip) return;
  await b.cleanup();
  await until(() => [...monitors].every((p) => !alive(p)));
  assert.deepEqual([...monitors].filter(alive), [], 'a detached monitor outlived its container');
  await assertNoLeaks(processTag());
});

test('run -d: the helper monitors, logs json-file lines, and records the end; no node process stays', { skip }, async () => {
  const name = uniqueId('det');
  const r = await b.exec(['run', '-d', '--name', name, ...b.cg, '--memory', '64m', '--', 'sh', '-c', 'echo out; echo "err <&>" >&2; sleep 30']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const mon = record(id).Monitor!;
  monitors.add(mon.pid);
  assert.equal(mon.kind, 'helper');
  const status = readFileSync(`/proc/${mon.pid}/status`, 'utf8');
  assert.match(readFileSync(`/proc/${mon.pid}/cmdline`, 'utf8'), /berth-helper/);
  // Detached: its own session, not the CLI's (a Ctrl-C on the terminal must not reach it).
  const stat = readFileSync(`/proc/${mon.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  assert.equal(fields[3], String(mon.pid), 'the monitor leads its own session (setsid)');
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]);
  assert.ok(rss * 1024 < 2.05e6, `monitor resident memory ${rss} kB is above conmon's 2.05 MB`);
  const log = await until(() => {
    const text = readFileSync(join(b.data, 'containers', id, `${id}-json.log`), 'utf8');
    return text.split('\n').length >= 3 ? text : '';
  });
  const lines = log.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => [l.log, l.stream]).sort(), [['err <&>\n', 'stderr'], ['out\n', 'stdout']]);
  assert.match(log, /"log":"err \\u003c\\u0026\\u003e\\n"/, 'Go-style escaping of < & >');
  for (const l of lines) assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
  const logs = await b.exec(['logs', name]);
  assert.equal(logs.stdout, 'out\n');
  assert.equal(logs.stderr, 'err <&>\n');
  assert.match((await b.exec(['logs', '-t', name])).stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z out\n$/);
  const stop = await b.exec(['stop', '-t', '1', name]);
  assert.equal(stop.stdout, `${name}\n`);
  assert.equal(await b.inspect(name, '{{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}}'), 'exited 137 false');
  assert.equal(await b.inspect(name, '{{.Berth.Report.summary}}'), 'stopped by berth stop (SIGKILL after the stop timeout)');
  assert.ok(!alive(mon.pid) || (await until(() => !alive(mon.pid))), 'the monitor exits with the container');
  assert.equal((await b.exec(['rm', name])).code, 0);
});

test('run -d --rm: the cleanup the monitor execs removes the container; wait prints the code', { skip }, async () => {
  const r = await b.exec(['run', '-d', '--rm', ...b.cg, '--', 'sh', '-c', 'sleep 1.5; exit 3']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  monitors.add(record(id).Monitor!.pid);
  const w = await b.exec(['wait', id]);
  assert.equal(w.stdout, '3\n');
  assert.ok(await until(() => !b.containers().includes(id)), 'removed by --rm');
});

test('a detached OOM kill is recorded as such, told apart from stop', { skip }, async () => {
  const name = uniqueId('doom');
  const r = await b.exec(['run', '-d', '--name', name, ...b.cg, '--memory', '32m', '--', 'sh', '-c', 'x=a; while true; do x=$x$x; done']);
  assert.equal(r.code, 0, r.stderr);
  const w = await b.exec(['wait', '--report', name]);
  assert.equal(w.stdout, '137\n');
  assert.match(w.stderr, /outcome\s+killed by the OOM killer: memory limit 32MiB reached/);
  assert.equal(await b.inspect(name, '{{.State.OOMKilled}} {{.Berth.Report.oomKilled}}'), 'true true');
  const ev = await b.exec(['events', '--since', '1m', '--until', '0s', '--filter', `container=${name}`, '--format', '{{.Action}}']);
  assert.deepEqual(ev.stdout.trim().split('\n'), ['create', 'start', 'oom', 'die']);
  assert.equal((await b.exec(['rm', name])).code, 0);
});

test('--restart on-failure:2 restarts twice after the CLI exited, then stops', { skip }, async () => {
  const name = uniqueId('rst');
  const r = await b.exec(['run', '-d', '--name', name, '--restart', 'on-failure:2', ...b.cg, '--', 'sh', '-c', 'echo run; exit 3']);
  assert.equal(r.code, 0, r.stderr);
  const done = await until(async () => (await b.inspect(name, '{{.RestartCount}} {{.State.Status}}')) === '2 exited', 10_000);
  assert.ok(done, await b.inspect(name, '{{.RestartCount}} {{.State.Status}}'));
  assert.equal((await b.exec(['logs', name])).stdout, 'run\nrun\nrun\n');
  assert.equal((await b.exec(['rm', name])).code, 0);
});

test('--restart always: restarted after it exits, not after berth stop', { skip }, async () => {
  const name = uniqueId('alw');
  assert.equal((await b.exec(['run', '-d', '--name', name, '--restart', 'always', ...b.cg, '--', 'sh', '-c', 'sleep 0.2']))
    .code, 0);
  assert.ok(await until(async () => Number(await b.inspect(name, '{{.RestartCount}}')) >= 2, 10_000));
  await b.exec(['stop', '-t', '1', name]);
  const count = await b.inspect(name, '{{.RestartCount}}');
  await delay(600);
  assert.equal(await b.inspect(name, '{{.RestartCount}} {{.State.Status}}'), `${count} exited`);
  assert.equal((await b.exec(['rm', name])).code, 0);
});

test('run -d -i and attach: stdin goes in, output comes out, attach exits with the code', { skip }, async () => {
  const name = uniqueId('att');
  assert.equal((await b.exec(['run', '-d', '-i', '--name', name, ...b.cg, '--', 'sh', '-c', 'read x; echo got $x; exit 4'])).code, 0);
  const a = await b.exec(['attach', name], { input: 'hello\n' });
  assert.equal(a.stdout, 'got hello\n');
  assert.equal(a.code, 4);
  assert.equal((await b.exec(['rm', name])).code, 0);
});

test('logs --tail, --since and -f', { skip }, async () => {
  const name = uniqueId('logs');
  assert.equal((await b.exec(['run', '-d', '--name', name, ...b.cg, '--', 'sh', '-c', 'for i in 1 2 3 4; do echo $i; done; sleep 2; echo 5']))
    .code, 0);
  assert.ok(await until(async () => (await b.exec(['logs', name])).stdout === '1\n2\n3\n4\n'));
  assert.equal((await b.exec(['logs', '--tail', '2', name])).stdout, '3\n4\n');
  assert.equal((await b.exec(['logs', '--since', '2030-01-01T00:00:00Z', name])).stdout, '');
  const f = await b.exec(['logs', '-f', '--tail', '0', name]);
  assert.equal(f.stdout, '5\n', 'follows until the container stopped');
  assert.match((await b.exec(['logs', '--since', 'banana', name])).stderr, /^berth: invalid value for --since "banana"/);
  assert.equal((await b.exec(['rm', name])).code, 0);
});

test('run -d -t: the monitor holds the pty, logs it as stdout, and attach -i feeds it', { skip }, async () => {
  const r = await b.exec(['run', '-d', '-t', ...b.cg, '--', 'sh', '-c', 'tty; stty size']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  monitors.add(record(id).Monitor!.pid);
  assert.equal((await b.exec(['wait', id])).stdout, '0\n');
  assert.match((await b.exec(['logs', id])).stdout, /^\/dev\/pts\/\d+\r\n24 80\r\n$/);
  const name = uniqueId('itty');
  assert.equal((await b.exec(['run', '-d', '-i', '-t', '--name', name, ...b.cg, '--', 'sh', '-c', 'read x; echo got $x; exit 6'])).code, 0);
  const a = await b.exec(['attach', name], { input: 'hi\n' });
  assert.equal(a.code, 6);
  assert.match(a.stdout, /got hi\r\n/);
  assert.equal((await b.exec(['rm', id, name])).code, 0);
});
