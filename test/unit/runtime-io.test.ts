/**
 * berth-runtime's command line run with an explicit IO (what the runtime server does for each
 * client): output and errors go to the IO and not to this process, relative paths are the
 * caller's, and the invocations the server cannot run answer COLD. No container is created.
 */
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { COLD, main } from '../../src/cli/runtime/main.js';
import { CollectOutput, noInput, noSignals, type CommandIO } from '../../src/cli/io.js';
import type { HelperLauncher } from '../../src/native/helper-session.js';

const dir = mkdtempSync(join(tmpdir(), `berth-test-${process.pid}-io-`));
const noLaunch: HelperLauncher = () => { throw new Error('no helper in this test'); };

function io(extra: Partial<Omit<CommandIO, 'stdout' | 'stderr'>> = {}): CommandIO & { stdout: CollectOutput; stderr: CollectOutput } {
  return {
    cwd: dir, env: {}, umask: 0o022, stdin: noInput(), signals: noSignals,
    stdout: new CollectOutput(), stderr: new CollectOutput(),
    ...extra,
  };
}

describe('berth-runtime main with a caller IO', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes --version to the IO', async () => {
    const c = io();
    assert.equal(await main(['--version'], c), 0);
    assert.match(c.stdout.text, /^berth-runtime version \d/);
    assert.equal(c.stderr.text, '');
  });

  it('reports an error as one line on the IO\'s stderr, status 1', async () => {
    const c = io();
    assert.equal(await main(['--root', 'state-root', 'state', 'nope'], c), 1);
    assert.equal(c.stderr.text, 'berth-runtime: container nope does not exist\n');
    assert.equal(c.stdout.text, '');
  });

  it('takes relative --log and spec --bundle from the caller\'s cwd', async () => {
    const c = io();
    assert.equal(await main(['--log', 'runtime.log', '--log-format', 'json', 'state', 'nope'], c), 1);
    const line = JSON.parse(readFileSync(join(dir, 'runtime.log'), 'utf8').trim());
    assert.equal(line.level, 'error');
    mkdirSync(join(dir, 'bundle'));
    assert.equal(await main(['spec', '--bundle', 'bundle'], io()), 0);
    assert.ok(existsSync(join(dir, 'bundle', 'config.json')));
  });

  it('answers COLD in the server for events without --stats and update -r -', async () => {
    const c = io({ launch: noLaunch, callerPid: process.pid, served: true });
    assert.equal(await main(['events', 'x'], c), COLD);
    assert.equal(await main(['update', '-r', '-', 'x'], c), COLD);
    assert.equal(c.stdout.text + c.stderr.text, '');
    // Served in-process: the same command fails normally.
    assert.equal(await main(['--root', 'state-root', 'events', '--stats', 'x'], c), 1);
    assert.match(c.stderr.text, /container x does not exist/);
  });

  it('runs cold-only commands normally outside the server', async () => {
    const c = io();
    assert.equal(await main(['--root', 'state-root', 'update', '-r', 'missing.json', 'x'], c), 1);
    assert.match(c.stderr.text, /--resources missing\.json/);
  });
});
