/**
 * Logs of foreground runs (issue 4): `berth run` without -d shows the output live and also records
 * it in the json-file log (the helper tees it, native/monitor.c), so `berth logs` works after it
 * as `docker logs` does; the streams stay apart, exit codes and the OOM report are unchanged, and
 * with -t the pty's output is logged as stdout.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertNoLeaks, processTag, repoRoot, uniqueId, whyNotRoot } from '../support/bundle.js';
import { BerthCli } from './engine-cli.js';

const skip = whyNotRoot();
const noScript = spawnSync('script', ['--version']).status === 0 ? undefined : 'script(1) from util-linux is not installed';
let b: BerthCli;

before(() => { if (!skip) b = new BerthCli('engine-logfg'); });
after(async () => {
  if (skip) return;
  await b.cleanup();
  await b.settle();
  await assertNoLeaks(processTag());
});

test('foreground run: output live on stdout/stderr and in the json-file log; logs splits the streams', { skip }, async () => {
  const name = uniqueId('fg');
  const r = await b.exec(['run', '--name', name, ...b.cg, '--', 'sh', '-c', 'echo out1; echo err1 >&2; echo out2; printf tail; exit 3']);
  assert.equal(r.code, 3, r.stderr);
  assert.equal(r.stdout, 'out1\nout2\ntail');
  assert.equal(r.stderr, 'err1\n');
  const id = await b.inspect(name, '{{.Id}}');
  const lines = readFileSync(join(b.data, 'containers', id, `${id}-json.log`), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.filter((l) => l.stream === 'stdout').map((l) => l.log), ['out1\n', 'out2\n', 'tail']);
  assert.deepEqual(lines.filter((l) => l.stream === 'stderr').map((l) => l.log), ['err1\n']);
  for (const l of lines) assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
  const logs = await b.exec(['logs', name]);
  assert.equal(logs.stdout, 'out1\nout2\ntail');
  assert.equal(logs.stderr, 'err1\n');
  // A second run appends, as Docker's json-file does across restarts.
  assert.equal((await b.exec(['start', '-a', name])).code, 3);
  assert.equal((await b.exec(['logs', name])).stdout, 'out1\nout2\ntailout1\nout2\ntail');
  assert.equal((await b.exec(['rm', name])).code, 0);
});

test('foreground run: a large output is drained before the exit is reported', { skip }, async () => {
  const name = uniqueId('fgbig');
  const r = await b.exec(['run', '--name', name, ...b.cg, '--', 'sh', '-c', 'seq 1 20000; seq 1 3000 >&2; exit 0']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split('\n').length, 20001);
  assert.equal(r.stderr.split('\n').length, 3001);
  const logs = await b.exec(['logs', name]);
  assert.equal(logs.stdout, r.stdout);
  assert.equal(logs.stderr, r.stderr);
  assert.equal((await b.exec(['rm', name])).code, 0);
});

test('foreground run: the OOM report and the exit code are unchanged with the log', { skip }, async () => {
  const name = uniqueId('fgoom');
  const r = await b.exec(['run', '--name', name, ...b.cg, '--memory', '16m', '--memory-swap', '16m', '--', 'sh', '-c',
    'echo before; x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo after']);
  assert.equal(r.code, 137, r.stderr);
  assert.match(r.stderr, /OOM killer/);
  assert.equal(r.stdout, 'before\n');
  assert.equal(await b.inspect(name, '{{.State.OOMKilled}} {{.State.ExitCode}}'), 'true 137');
  assert.equal((await b.exec(['logs', name])).stdout, 'before\n');
  assert.equal((await b.exec(['rm', name])).code, 0);
});

test('foreground run -t: the terminal output is shown and logged as stdout', { skip: skip ?? noScript }, async () => {
  const name = uniqueId('fgtty');
  const cmd = [process.execPath, join(repoRoot, 'bin/berth.js'), '--data-root', b.data, '--root', b.run, 'run', '-t', '--name', name,
    ...b.cg, '--', 'sh', '-c', 'echo tty-out; echo tty-err >&2; exit 5'];
  // script(1) gives berth a real terminal; its stdin stays open (not EOF) until berth exits.
  const shown = await new Promise<{ code: number; out: string }>((resolve) => {
    const child = spawn('script', ['-q', '-e', '-c', cmd.map((a) => `'${a}'`).join(' '), '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
  assert.equal(shown.code, 5);
  assert.match(shown.out, /tty-out\r\ntty-err\r\n/);
  const logs = await b.exec(['logs', name]);
  assert.equal(logs.stdout, 'tty-out\r\ntty-err\r\n');
  assert.equal(logs.stderr, '');
  assert.equal((await b.exec(['rm', name])).code, 0);
});
