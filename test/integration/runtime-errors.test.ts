/**
 * Bad input, table-driven: a malformed or invalid config.json, an unknown or duplicate id, a
 * command in the wrong state, bad flags, a bad signal. Each case must give exactly one line on
 * stderr (`berth-runtime: <message>`), exit status 1, the same message as the last JSON line of
 * `--log` (level "error": containerd quotes it), and leave nothing behind: no state directory, no
 * cgroup, mount or process (a namespace outlives its creator only through a process or a bind
 * mount, so those two checks cover namespaces too). A case on an existing container must leave
 * that container exactly as it was.
 */
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Spec } from '../../src/oci/spec.js';
import { assertNoLeaks, makeBundle, processTag, uniqueId, whyNotRoot, type TestBundle } from '../support/bundle.js';
import { makeRoot, otherRuntime, runtime } from '../support/runtime.js';

const skip = whyNotRoot() ?? (otherRuntime ? 'Berth\'s own messages' : undefined);

/** Containers the wrong-state cases act on, made once in `before`. */
interface Fixtures {
  created: TestBundle;
  running: TestBundle;
  stopped: TestBundle;
}

interface Case {
  name: string;
  /** The command line after the global flags; `id` is a fresh id, `b` a fresh bundle (with `spec` applied). */
  args: (x: { id: string; b: TestBundle; f: Fixtures }) => string[];
  /** Change the fresh bundle's spec (written as config.json). */
  spec?: (s: Spec) => void;
  /** Replace config.json with this text. */
  raw?: string;
  /** Which existing container the case touches (its status must not change). */
  on?: keyof Fixtures;
  error: RegExp;
  /** No JSON log is possible (the log format itself is the error: the line is logged as text). */
  noLog?: boolean;
}

const CASES: Case[] = [
  // config.json
  { name: 'malformed json', raw: '{"ociVersion": "1.2.0", "process": ', args: ({ id, b }) => ['create', '-b', b.dir, id], error: /config\.json/ },
  { name: 'config.json is not an object', raw: '[]', args: ({ id, b }) => ['create', '-b', b.dir, id], error: /config\.json/ },
  { name: 'no config.json in the bundle', raw: '', args: ({ id, b }) => ['create', '-b', b.dir, id], error: /config\.json does not exist/ },
  { name: 'bundle directory missing', args: ({ id, b }) => ['create', '-b', join(b.dir, 'nowhere'), id], error: /nowhere/ },
  { name: 'ociVersion not a version', spec: (s) => { s.ociVersion = 'banana'; }, args: ({ id, b }) => ['create', '-b', b.dir, id], error: /ociVersion/ },
  { name: 'empty process.args', spec: (s) => { s.process!.args = []; }, args: ({ id, b }) => ['create', '-b', b.dir, id], error: /process\.args/ },
  { name: 'relative process.cwd', spec: (s) => { s.process!.cwd = 'tmp'; }, args: ({ id, b }) => ['create', '-b', b.dir, id], error: /process\.cwd/ },
  { name: 'unknown capability', spec: (s) => { s.process!.capabilities!.bounding = ['CAP_NOPE']; }, args: ({ id, b }) => ['create', '-b', b.dir, id], error: /CAP_NOPE/ },
  { name: 'unknown rlimit', spec: (s) => { s.process!.rlimits = [{ type: 'RLIMIT_NOPE', soft: 1, hard: 1 }]; }, args: ({ id, b }) => ['create', '-b', b.dir, id], error: /RLIMIT_NOPE/ },
  { name: 'unknown namespace type', spec: (s) => { s.linux!.namespaces!.push({ type: 'nope' as never }); }, args: ({ id, b }) => ['create', '-b', b.dir, id], error: /linux\.namespaces/ },
  { name: 'namespace path that does not exist', spec: (s) => { s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/proc/999999999/ns/net' } : n)); }, args: ({ id, b }) => ['create', '-b', b.dir, id], error: /\/proc\/999999999\/ns\/net/ },
  { name: 'no mount namespace', spec: (s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount'); }, args: ({ id, b }) => ['create', '-b', b.dir, id], error: /mount namespace/ },
  { name: 'relative mount destination', spec: (s) => { s.mounts!.push({ destination: 'data', type: 'tmpfs', source: 'tmpfs' }); }, args: ({ id, b }) => ['create', '-b', b.dir, id], error: /destination/ },
  { name: 'bind mount source missing', spec: (s) => { s.mounts!.push({ destination: '/data', type: 'bind', source: '/nonexistent-berth-src', options: ['bind'] }); }, args: ({ id, b }) => ['create', '-b', b.dir, id], error: /nonexistent-berth-src/ },
  { name: 'root.path missing on disk', spec: (s) => { s.root!.path = 'no-such-rootfs'; }, args: ({ id, b }) => ['create', '-b', b.dir, id], error: /no-such-rootfs/ },
  { name: 'apparmor profile on a host without apparmor', spec: (s) => { s.process!.apparmorProfile = 'x'; }, args: ({ id, b }) => ['create', '-b', b.dir, id], error: /apparmorProfile/ },
  { name: 'selinux label on a host without selinux', spec: (s) => { s.process!.selinuxLabel = 'x'; }, args: ({ id, b }) => ['create', '-b', b.dir, id], error: /selinuxLabel/ },
  { name: 'unknown personality domain', spec: (s) => { s.linux!.personality = { domain: 'PDP11' }; }, args: ({ id, b }) => ['create', '-b', b.dir, id], error: /linux\.personality\.domain/ },
  { name: 'memory swap below the memory limit', spec: (s) => { s.linux!.resources = { ...s.linux!.resources, memory: { limit: 64 << 20, swap: 32 << 20 } }; }, args: ({ id, b }) => ['create', '-b', b.dir, id], error: /swap/ },
  { name: 'unknown seccomp action', spec: (s) => { s.linux!.seccomp = { defaultAction: 'SCMP_ACT_NOPE' }; }, args: ({ id, b }) => ['create', '-b', b.dir, id], error: /SCMP_ACT_NOPE/ },
  { name: 'process binary missing', spec: (s) => { s.process!.args = ['/no/such/binary']; }, args: ({ id, b }) => ['create', '-b', b.dir, id], error: /exec: \/no\/such\/binary: No such file or directory/ },
  { name: 'process.cwd missing in the rootfs', spec: (s) => { s.process!.cwd = '/no/such/dir'; }, args: ({ id, b }) => ['create', '-b', b.dir, id], error: /\/no\/such\/dir/ },
  { name: 'terminal without a console socket, detached', spec: (s) => { s.process!.terminal = true; }, args: ({ id, b }) => ['run', '-d', '-b', b.dir, id], error: /--console-socket/ },
  { name: 'console socket that does not exist', spec: (s) => { s.process!.terminal = true; }, args: ({ id, b }) => ['create', '--console-socket', join(b.dir, 'no.sock'), '-b', b.dir, id], error: /no\.sock/ },
  // ids
  { name: 'id with a slash', args: ({ b }) => ['create', '-b', b.dir, `${processTag()}/x`], error: /id/ },
  { name: 'id that is ..', args: ({ b }) => ['create', '-b', b.dir, '..'], error: /id/ },
  { name: 'duplicate id', on: 'running', args: ({ b, f }) => ['create', '-b', b.dir, f.running.id], error: /already exists/ },
  { name: 'state of an unknown id', args: ({ id }) => ['state', id], error: /does not exist/ },
  { name: 'start of an unknown id', args: ({ id }) => ['start', id], error: /does not exist/ },
  { name: 'kill of an unknown id', args: ({ id }) => ['kill', id, 'KILL'], error: /does not exist/ },
  { name: 'delete of an unknown id', args: ({ id }) => ['delete', id], error: /does not exist/ },
  { name: 'exec in an unknown id', args: ({ id }) => ['exec', id, 'true'], error: /does not exist/ },
  { name: 'pause of an unknown id', args: ({ id }) => ['pause', id], error: /does not exist/ },
  { name: 'ps of an unknown id', args: ({ id }) => ['ps', id], error: /does not exist/ },
  { name: 'update of an unknown id', args: ({ id }) => ['update', '--pids-limit', '10', id], error: /does not exist/ },
  { name: 'events of an unknown id', args: ({ id }) => ['events', '--stats', id], error: /does not exist/ },
  // wrong state
  { name: 'start of a running container', on: 'running', args: ({ f }) => ['start', f.running.id], error: /it is running, not created/ },
  { name: 'start of a stopped container', on: 'stopped', args: ({ f }) => ['start', f.stopped.id], error: /it has stopped/ },
  { name: 'delete of a running container', on: 'running', args: ({ f }) => ['delete', f.running.id], error: /not stopped: it is running/ },
  { name: 'delete of a created container', on: 'created', args: ({ f }) => ['delete', f.created.id], error: /not stopped: it is created/ },
  { name: 'exec in a stopped container', on: 'stopped', args: ({ f }) => ['exec', f.stopped.id, 'true'], error: /cannot exec in container .*: it is stopped/ },
  { name: 'kill of a stopped container', on: 'stopped', args: ({ f }) => ['kill', f.stopped.id, 'TERM'], error: /not running/ },
  { name: 'pause of a created container', on: 'created', args: ({ f }) => ['pause', f.created.id], error: /it is created, not running/ },
  { name: 'resume of a running container', on: 'running', args: ({ f }) => ['resume', f.running.id], error: /not paused/ },
  { name: 'update of a stopped container', on: 'stopped', args: ({ f }) => ['update', '--pids-limit', '10', f.stopped.id], error: /it has stopped/ },
  // signals
  { name: 'unknown signal name', on: 'running', args: ({ f }) => ['kill', f.running.id, 'SIGNOPE'], error: /SIGNOPE/ },
  { name: 'signal number out of range', on: 'running', args: ({ f }) => ['kill', f.running.id, '99'], error: /99/ },
  // flags
  { name: 'unknown global flag', args: ({ id }) => ['--no-such-global', 'state', id], error: /no-such-global/ },
  { name: 'unknown command flag', args: ({ id, b }) => ['create', '--no-such-flag', '-b', b.dir, id], error: /no-such-flag/ },
  { name: 'missing container id', args: ({ b }) => ['create', '-b', b.dir], error: /requires exactly 1 argument/ },
  { name: 'unknown command', args: () => ['frobnicate'], error: /frobnicate/ },
  { name: 'non-numeric --preserve-fds', args: ({ id, b }) => ['create', '--preserve-fds', 'many', '-b', b.dir, id], error: /preserve-fds/ },
  { name: 'bad --memory value', on: 'running', args: ({ f }) => ['update', '--memory', 'lots', f.running.id], error: /--memory/ },
  { name: 'bad list --format', args: () => ['list', '--format', 'yaml'], error: /yaml/ },
  { name: 'bad events --interval', on: 'running', args: ({ f }) => ['events', '--interval', '0s', f.running.id], error: /0s/ },
  { name: 'exec without a command', on: 'running', args: ({ f }) => ['exec', f.running.id], error: /needs a command/ },
  { name: 'bad --log-format', noLog: true, args: ({ id }) => ['--log-format', 'xml', 'state', id], error: /xml/ },
];

describe('berth-runtime bad input: one line, exit 1, logged, nothing left', { skip }, () => {
  let root: ReturnType<typeof makeRoot>;
  const bundles: TestBundle[] = [];
  const f = {} as Fixtures;
  const rt = (args: string[]) => runtime(root.root, args);
  const status = async (id: string) => JSON.parse((await rt(['state', id])).stdout).status as string;

  before(async () => {
    root = makeRoot();
    const fixture = async (args: string[]) => { const b = await makeBundle({ args }); bundles.push(b); return b; };
    f.created = await fixture(['sleep', '100']);
    f.running = await fixture(['sleep', '100']);
    f.stopped = await fixture(['true']);
    assert.equal((await rt(['create', '-b', f.created.dir, f.created.id])).code, 0);
    assert.equal((await rt(['run', '-d', '-b', f.running.dir, f.running.id])).code, 0);
    assert.equal((await rt(['run', '-d', '-b', f.stopped.dir, f.stopped.id])).code, 0);
    for (let i = 0; i < 200 && (await status(f.stopped.id)) !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 20));
  });
  after(async () => {
    for (const b of bundles) await rt(['delete', '--force', b.id]);
    for (const b of bundles) await b.cleanup();
    root.cleanup();
    await assertNoLeaks(processTag());
  });

  test('the table has at least 25 cases', () => assert.ok(CASES.length >= 25));

  for (const c of CASES) {
    test(c.name, async () => {
      const id = uniqueId('err');
      const b = await makeBundle({ args: ['sleep', '100'], mutate: c.spec });
      bundles.push(b);
      if (c.raw !== undefined) {
        if (c.raw === '') rmSync(join(b.dir, 'config.json'));
        else writeFileSync(join(b.dir, 'config.json'), c.raw);
      }
      const before = c.on ? await status(f[c.on].id) : undefined;
      const logDir = join(b.dir, 'logs');
      mkdirSync(logDir);
      const log = join(logDir, 'log.json');
      const r = await rt(['--log', log, '--log-format', 'json', ...c.args({ id, b, f })]);
      // A case that wrongly succeeded must not leave its container to the next ones.
      if (r.code === 0 && !c.on) await rt(['delete', '--force', id]);

      assert.equal(r.code, 1, `exit status; stderr: ${r.stderr}`);
      const lines = r.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, `one line on stderr:\n${r.stderr}`);
      const line = lines[0]!;
      assert.match(line, /^berth-runtime: \S/);
      assert.match(line, c.error);
      assert.doesNotMatch(line, /internal error|    at /, 'no stack trace for bad input');
      const msg = line.slice('berth-runtime: '.length);
      if (!c.noLog) {
        const last = JSON.parse(readFileSync(log, 'utf8').trim().split('\n').pop()!);
        assert.equal(last.level, 'error');
        assert.equal(last.msg, msg, 'the log has the same message');
      }
      assert.equal(existsSync(join(root.root, id)), false, 'no state directory for the new id');
      if (c.on) assert.equal(await status(f[c.on].id), before, `${c.on} container unchanged`);
      await assertNoLeaks(id);
      await assertNoLeaks(b.id);
    });
  }
});
