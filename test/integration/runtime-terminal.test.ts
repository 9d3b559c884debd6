/**
 * A terminal in the foreground: `berth-runtime run` (and `exec -t`) of a process with a terminal
 * and no --console-socket, typed in a real terminal. util-linux's `script` gives the runtime a
 * pty of its own, as a user's shell would; the container's pty comes from its own devpts and the
 * helper's monitor proxies between the two (native/tty.c). Checked: the container sees a tty on
 * fds 0-2 named /dev/pts/N of its devpts, input reaches it, the size is copied at start and on
 * SIGWINCH, the exit status comes back, and the user's terminal settings are restored.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { assertNoLeaks, makeBundle, processTag, requireCommand, requireProbe, whyNotRoot, type TestBundle } from '../support/bundle.js';
import { makeRoot, otherRuntime, runtime, runtimeBin } from '../support/runtime.js';

const skip = whyNotRoot();

/**
 * Run `sh -c command` under `script` (a pty as stdin/stdout/stderr); `input` is typed after
 * `typeAfterMs`. Returns the terminal's output with \r removed.
 */
function inTerminal(command: string, input = '', typeAfterMs = 1500): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const typer = setTimeout(() => { if (input) child.stdin.write(input); }, typeAfterMs);
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`terminal timed out: ${out}`)); }, 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      clearTimeout(typer);
      resolve({ code: code ?? -1, out: out.replace(/\r/g, '') });
    });
  });
}

describe('berth-runtime with a terminal in the foreground', { skip: skip ?? (otherRuntime ? 'Berth only' : undefined) }, () => {
  let root: ReturnType<typeof makeRoot>;
  const bundles: TestBundle[] = [];
  const bundle = async (args: string[]) => {
    const b = await makeBundle({ args, mutate: (s) => { s.process!.terminal = true; } });
    bundles.push(b);
    return b;
  };
  const rt = `${process.execPath} ${runtimeBin}`;

  before(() => { root = makeRoot(); });
  after(async () => {
    for (const b of bundles) await runtime(root.root, ['delete', '--force', b.id]);
    for (const b of bundles) await b.cleanup();
    root.cleanup();
    await assertNoLeaks(processTag());
  });

  test('run proxies the container pty to the caller\'s terminal and restores it', async (t) => {
    if (!requireCommand(t, 'script') || !requireProbe(t)) return;
    const b = await bundle(['sh', '-c', 'probe isatty; probe winsize; tty; read line; echo got=$line; exit 7']);
    const r = await inTerminal(`stty rows 33 cols 101; echo before=$(stty -g); `
      + `${rt} --root ${root.root} run --bundle ${b.dir} ${b.id}; echo status=$?; echo after=$(stty -g)`, 'hello\n');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^fd0=1 fd1=1 fd2=1$/m, r.out);
    assert.match(r.out, /^rows=33 cols=101$/m, 'the size of the caller\'s terminal is copied at start');
    assert.match(r.out, /^\/dev\/pts\/\d+$/m, 'the pty is one of the container\'s devpts');
    assert.match(r.out, /^got=hello$/m, 'input reaches the container');
    assert.match(r.out, /^status=7$/m, 'run exits with the container\'s status');
    const before = /^before=(.*)$/m.exec(r.out)?.[1];
    const afterMode = /^after=(.*)$/m.exec(r.out)?.[1];
    assert.ok(before && afterMode, r.out);
    assert.equal(afterMode, before, 'the terminal leaves raw mode when the container exits');
    await assertNoLeaks(b.id);
  });

  test('a resize of the caller\'s terminal reaches the container (SIGWINCH, TIOCSWINSZ)', async (t) => {
    if (!requireCommand(t, 'script') || !requireProbe(t)) return;
    const b = await bundle(['sh', '-c', 'probe winsize; sleep 3; probe winsize']);
    // A background job of a non-interactive shell has /dev/null as stdin: resize through /dev/tty.
    const r = await inTerminal(`stty rows 20 cols 70; (sleep 1.5; stty rows 41 cols 121 </dev/tty) & `
      + `${rt} --root ${root.root} run --bundle ${b.dir} ${b.id}; echo status=$?`);
    assert.match(r.out, /^rows=20 cols=70\nrows=41 cols=121$/m, r.out);
    assert.match(r.out, /^status=0$/m, r.out);
    await assertNoLeaks(b.id);
  });

  test('exec -t without a console socket proxies the same way', async (t) => {
    if (!requireCommand(t, 'script') || !requireProbe(t)) return;
    const b = await makeBundle({ args: ['sleep', '100'] });
    bundles.push(b);
    assert.equal((await runtime(root.root, ['run', '-d', '--bundle', b.dir, b.id])).code, 0);
    const r = await inTerminal(`stty rows 25 cols 90; ${rt} --root ${root.root} exec -t ${b.id} sh -c 'probe isatty; probe winsize; exit 3'; echo status=$?`);
    assert.match(r.out, /^fd0=1 fd1=1 fd2=1$/m, r.out);
    assert.match(r.out, /^rows=25 cols=90$/m, r.out);
    assert.match(r.out, /^status=3$/m, r.out);
    await runtime(root.root, ['delete', '--force', b.id]);
    await assertNoLeaks(b.id);
  });

  test('a detached container with a terminal still needs --console-socket', async () => {
    const b = await bundle(['true']);
    const r = await runtime(root.root, ['run', '-d', '--bundle', b.dir, b.id]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--console-socket is required when the container is detached/);
    await assertNoLeaks(b.id);
  });
});
