/**
 * `berth attach` as `docker attach` (issue 4): detach keys (default ctrl-p,ctrl-q, or
 * --detach-keys) leave the container running and exit 0, the attached terminal's size reaches
 * the container's pty, --no-stdin, --sig-proxy, and StdinOnce (`run -i`, `create -i`: the end of
 * the attached stdin closes the container's stdin). A real pty comes from test/support/pty-drive.py.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { assertNoLeaks, processTag, repoRoot, uniqueId, whyNotRoot } from '../support/bundle.js';
import { BerthCli, delay, until } from './engine-cli.js';

const skip = whyNotRoot();
const noPython = spawnSync('python3', ['-c', 'import pty']).status === 0 ? undefined : 'python3 with the pty module is not installed';
const bin = join(repoRoot, 'bin/berth.js');
let b: BerthCli;

before(() => { if (!skip) b = new BerthCli('engine-attach'); });
after(async () => {
  if (skip) return;
  await b.cleanup();
  await b.settle();
  await assertNoLeaks(processTag());
});

/** Run `berth ARGS` on a pty of rows x cols, with pty-drive steps; its output and exit code. */
async function onPty(rows: number, cols: number, steps: string[], args: string[]): Promise<{ out: string; code: number }> {
  const { stdout } = await promisify(execFile)('python3', [join(repoRoot, 'test/support/pty-drive.py'), String(rows), String(cols), steps.join(';'), '--',
    process.execPath, bin, '--data-root', b.data, '--root', b.run, ...args], { timeout: 60_000 });
  const m = /^(.*)\nexit (-?\d+)\n$/s.exec(stdout);
  assert.ok(m, stdout);
  // The output line is Python's repr of the bytes: good enough to match text in.
  return { out: m[1]!, code: Number(m[2]) };
}

test('StdinOnce: echo hi | berth run -i cat prints hi and ends', { skip }, async () => {
  const r = await b.exec(['run', '--rm', '-i', ...b.cg, '--', 'cat'], { input: 'hi\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hi\n');
});

test('StdinOnce: create -i, start, attach: the end of the attached stdin closes the container\'s stdin', { skip }, async () => {
  const name = uniqueId('once');
  assert.equal((await b.exec(['create', '-i', '--name', name, ...b.cg, '--', 'sh', '-c', 'cat; echo eof; exit 3'])).code, 0);
  assert.equal(await b.inspect(name, '{{.Config.StdinOnce}}'), 'true');
  assert.equal((await b.exec(['start', name])).code, 0);
  const a = await b.exec(['attach', name], { input: 'hi\n' });
  assert.equal(a.stdout, 'hi\neof\n');
  assert.equal(a.code, 3);
  assert.equal(await b.inspect(name, '{{.State.Status}}'), 'exited');
  assert.equal((await b.exec(['rm', name])).code, 0);
});

test('run -d -i has no StdinOnce: an attach that ends leaves the container\'s stdin open', { skip }, async () => {
  const name = uniqueId('keep');
  assert.equal((await b.exec(['run', '-d', '-i', '--name', name, ...b.cg, '--', 'sh', '-c', 'read a; read b; echo "$a $b"'])).code, 0);
  assert.equal(await b.inspect(name, '{{.Config.StdinOnce}}'), 'false');
  // The first attach writes one line and goes away (killed: its container is still running).
  const first = spawn(process.execPath, [bin, '--data-root', b.data, '--root', b.run, 'attach', name], { stdio: ['pipe', 'ignore', 'ignore'] });
  first.stdin.end('one\n');
  await delay(1500);
  first.kill('SIGKILL');
  assert.equal(await b.inspect(name, '{{.State.Running}}'), 'true', 'stdin was not closed');
  const second = await b.exec(['attach', name], { input: 'two\n' });
  assert.equal(second.stdout, 'one two\n');
  assert.equal((await b.exec(['rm', '-f', name])).code, 0);
});

test('attach -t: the terminal size follows, ctrl-p,ctrl-q detaches with exit 0 and the container keeps running', { skip: skip ?? noPython }, async () => {
  const name = uniqueId('tty');
  assert.equal((await b.exec(['run', '-d', '-i', '-t', '--name', name, ...b.cg, '--', 'sh'])).code, 0);
  const r = await onPty(30, 100, ['s:1', 'w:stty size\\r', 's:1', 'r:41x121', 's:0.5', 'w:stty size\\r', 's:1', 'w:\\x10\\x11', 's:0.5'], ['attach', name]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /30 100/);
  assert.match(r.out, /41 121/);
  assert.match(r.out, /read escape sequence/);
  assert.equal(await b.inspect(name, '{{.State.Status}}'), 'running');
  // --detach-keys: a lone ctrl-p now reaches the container; ctrl-a,x detaches.
  const c = await onPty(30, 100, ['s:1', 'w:echo A\\x10B\\r', 's:1', 'w:\\x01x', 's:0.5'], ['attach', '--detach-keys', 'ctrl-a,x', name]);
  assert.equal(c.code, 0, c.out);
  assert.match(c.out, /A\\x10B\\r\\r\\n/, 'ctrl-p went through');
  assert.equal(await b.inspect(name, '{{.State.Status}}'), 'running');
  const bad = await b.exec(['attach', '--detach-keys', 'ctrl-zz', name]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /invalid detach keys "ctrl-zz"/);
  assert.equal((await b.exec(['rm', '-f', name])).code, 0);
});

test('attach --no-stdin does not feed the container; --sig-proxy forwards signals without a tty', { skip }, async () => {
  const name = uniqueId('nostdin');
  assert.equal((await b.exec(['run', '-d', '-i', '--name', name, ...b.cg, '--', 'sh', '-c',
    'trap "echo usr1; exit 7" USR1; while :; do sleep 0.1; done'])).code, 0);
  const a = spawn(process.execPath, [bin, '--data-root', b.data, '--root', b.run, 'attach', '--no-stdin', name], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  a.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const code = new Promise<number | null>((resolve) => a.on('close', resolve));
  await delay(1500);
  a.kill('SIGUSR1');
  assert.equal(await code, 7);
  assert.equal(out, 'usr1\n');
  // --sig-proxy=false: the signal is berth's own (it dies of it), the container keeps going.
  // (SIGHUP: node takes SIGUSR1 for its inspector.)
  const name2 = uniqueId('noproxy');
  assert.equal((await b.exec(['run', '-d', '--name', name2, ...b.cg, '--', 'sh', '-c', 'trap "exit 7" HUP; while :; do sleep 0.1; done'])).code, 0);
  const n = spawn(process.execPath, [bin, '--data-root', b.data, '--root', b.run, 'attach', '--sig-proxy=false', name2], { stdio: 'ignore' });
  const ncode = new Promise<NodeJS.Signals | null>((resolve) => n.on('close', (_c, sig) => resolve(sig)));
  await delay(1500);
  n.kill('SIGHUP');
  assert.equal(await ncode, 'SIGHUP');
  assert.ok(await until(async () => (await b.inspect(name2, '{{.State.Status}}')) === 'running'));
  assert.equal((await b.exec(['rm', '-f', name, name2])).code, 0);
});

test('run -it: ctrl-p,ctrl-q detaches (exit 0); the container goes on under its helper, attach -i reaches it, the end is recorded', { skip: skip ?? noPython }, async () => {
  const name = uniqueId('runit');
  const r = await onPty(30, 100, ['s:1.5', 'w:echo first\\r', 's:1', 'w:\\x10\\x11', 's:0.5'], ['run', '-it', '--name', name, ...b.cg, '--', 'sh']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /first\\r\\n/);
  assert.equal(await b.inspect(name, '{{.State.Status}}'), 'running');
  const a = await onPty(30, 100, ['s:1', 'w:stty size\\r', 's:1', 'w:echo second\\x3b exit 4\\r', 's:1'], ['attach', name]);
  assert.equal(a.code, 4, a.out);
  assert.ok(await until(async () => (await b.inspect(name, '{{.State.Status}} {{.State.ExitCode}}')) === 'exited 4'));
  const logs = (await b.exec(['logs', name])).stdout;
  assert.match(logs, /first\r\n/);
  assert.match(logs, /30 100\r\n/);
  assert.match(logs, /second\r\n/);
  // start -ai with --detach-keys
  const s2 = await onPty(30, 100, ['s:1.5', 'w:\\x01x', 's:0.5'], ['start', '-ai', '--detach-keys', 'ctrl-a,x', name]);
  assert.equal(s2.code, 0, s2.out);
  assert.equal(await b.inspect(name, '{{.State.Status}}'), 'running');
  assert.equal((await b.exec(['stop', '-t', '1', name])).code, 0);
  assert.equal(await b.inspect(name, '{{.State.Status}}'), 'exited');
  assert.equal((await b.exec(['rm', name])).code, 0);
});
