/**
 * Restart policies of detached containers (issue 4): the crash loop runs with no resident Node
 * process (the back-off is slept by `berth-helper delay-exec`, src/engine/reap.ts), follows
 * Docker's back-off, ends with the right RestartCount, and `stop` / `rm -f` end it leaving no
 * process behind.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { assertNoLeaks, processTag, uniqueId, whyNotRoot } from '../support/bundle.js';
import { BerthCli, delay, until } from './engine-cli.js';

const skip = whyNotRoot();
let b: BerthCli;

before(() => { if (!skip) b = new BerthCli('engine-restart'); });
after(async () => {
  if (skip) return;
  await b.cleanup();
  await b.settle();
  await assertNoLeaks(processTag());
});

/** Processes whose command line names this engine's data root and container `id`. */
function processesOf(id: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmd = '';
    try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '); } catch { continue; }
    if (cmd.includes(b.data) && cmd.includes(id)) found.push(`${pid}: ${cmd}`);
  }
  return found;
}

/** Node processes among them (a sleeping cleanup is what the issue was about). */
const nodeProcesses = (id: string) => processesOf(id).filter((p) => !p.includes('berth-helper'));

test('--restart on-failure:3: three restarts, then exited with RestartCount 3 and no process left', { skip }, async () => {
  const name = uniqueId('onf');
  const r = await b.exec(['run', '-d', '--name', name, '--restart', 'on-failure:3', ...b.cg, '--', 'sh', '-c', 'echo run; exit 1']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  const done = await until(async () => (await b.inspect(name, '{{.RestartCount}} {{.State.Status}}')) === '3 exited', 20_000);
  assert.ok(done, await b.inspect(name, '{{.RestartCount}} {{.State.Status}}'));
  assert.equal(await b.inspect(name, '{{.State.ExitCode}}'), '1');
  assert.equal((await b.exec(['logs', name])).stdout, 'run\nrun\nrun\nrun\n');
  assert.ok(await until(() => processesOf(id).length === 0, 10_000), processesOf(id).join('\n'));
  await delay(1000);
  assert.equal(await b.inspect(name, '{{.RestartCount}} {{.State.Status}}'), '3 exited', 'no restart after the limit');
  assert.equal((await b.exec(['rm', name])).code, 0);
});

test('--restart always: while it waits out the back-off only the native waiter is there; berth stop ends the loop', { skip }, async () => {
  const name = uniqueId('alw');
  const r = await b.exec(['run', '-d', '--name', name, '--restart', 'always', ...b.cg, '--', 'sh', '-c', 'exit 2']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  // After 4 restarts the back-off is 800 ms and then 1.6 s: long enough to look at the waiter.
  assert.ok(await until(async () => Number(await b.inspect(name, '{{.RestartCount}}')) >= 4, 20_000));
  const waiting = await until(async () => {
    const rec = JSON.parse(readFileSync(`${b.data}/containers/${id}/container.json`, 'utf8'));
    return rec.State.Status === 'restarting' && nodeProcesses(id).length === 0 ? rec : undefined;
  }, 20_000);
  assert.ok(waiting, 'a restarting container with only the native waiter');
  assert.ok(waiting.RestartBackoffMs >= 800, `back-off ${waiting.RestartBackoffMs} ms after ${waiting.RestartCount} restarts`);
  assert.match(readFileSync(`/proc/${waiting.RestartWaiter.pid}/cmdline`, 'utf8'), /berth-helper\0delay-exec\0/);
  const stop = await b.exec(['stop', '-t', '1', name]);
  assert.equal(stop.code, 0, stop.stderr);
  const count = await b.inspect(name, '{{.RestartCount}}');
  assert.ok(await until(() => processesOf(id).length === 0, 10_000), processesOf(id).join('\n'));
  await delay(2000);
  assert.equal(await b.inspect(name, '{{.RestartCount}} {{.State.Status}}'), `${count} exited`);
  assert.equal((await b.exec(['rm', name])).code, 0);
});

test('--restart always: berth stop of a running loop, and rm -f, leave nothing', { skip }, async () => {
  const name = uniqueId('alw2');
  const r = await b.exec(['run', '-d', '--name', name, '--restart', 'always', ...b.cg, '--', 'sh', '-c', 'sleep 0.3']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  assert.ok(await until(async () => Number(await b.inspect(name, '{{.RestartCount}}')) >= 2, 20_000));
  const rm = await b.exec(['rm', '-f', name]);
  assert.equal(rm.code, 0, rm.stderr);
  assert.ok(await until(() => processesOf(id).length === 0, 10_000), processesOf(id).join('\n'));
  await delay(1500);
  assert.deepEqual(processesOf(id), []);
  assert.ok(!b.containers().includes(id), 'removed, not restarted');
});

test('rm of a restarting container without -f is refused, as in Docker', { skip }, async () => {
  const name = uniqueId('alw3');
  assert.equal((await b.exec(['run', '-d', '--name', name, '--restart', 'always', ...b.cg, '--', 'sh', '-c', 'exit 1'])).code, 0);
  const restarting = await until(async () => (await b.inspect(name, '{{.State.Status}}')) === 'restarting' &&
    Number(await b.inspect(name, '{{.RestartCount}}')) >= 3, 20_000);
  assert.ok(restarting);
  const rm = await b.exec(['rm', name]);
  assert.notEqual(rm.code, 0, 'refused: it is restarting or running');
  assert.match(rm.stderr, /container is (restarting|running)/);
  assert.equal((await b.exec(['rm', '-f', name])).code, 0);
});
