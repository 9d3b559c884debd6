/**
 * Conformance: the `process` object and the UTS names (runtimetest's validateProcess,
 * validateLinuxProcess, validatePosixUser, validateCapabilities, validateRlimits,
 * validateOOMScoreAdj, validateHostname), checked from inside the container with the probe and
 * from outside through /proc/<pid>.
 *
 * Capabilities follow the kernel's execve rules (capabilities(7)), which apply to the container's
 * process as to any other: for uid 0 the permitted and effective sets after exec are bounding ∪
 * inheritable, so the root case uses permitted = effective = bounding (as `runc spec` does); for
 * another uid the permitted and effective sets after exec are exactly the ambient set.
 */
import * as assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { whyNotRoot } from '../../support/bundle.js';
import { capNames, createLive, keyValues, procStatus, runScript, section, useHarness, type Live, type Sections } from './support.js';

const skip = whyNotRoot();

const BOUNDING = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETGID', 'CAP_SETUID'];
const INHERITABLE = ['CAP_KILL', 'CAP_NET_BIND_SERVICE'];
const AMBIENT = ['CAP_NET_BIND_SERVICE'];
const ENV = ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm', 'WITH_EQUALS=a=b=c', 'EMPTY=', 'SPACED=two words'];

/** Everything the probe and busybox can tell about the process, in sections. */
const SCRIPT = [
  section('cmdline'), 'tr "\\0" "\\n" < /proc/1/cmdline',
  section('env'), 'probe env',
  section('cwd'), 'probe cwd',
  section('ids'), 'probe ids',
  section('umask'), 'probe umask',
  section('caps'), 'probe caps',
  section('rlimits'), 'probe rlimits',
  section('uts'), 'probe hostname',
  section('oom'), 'cat /proc/self/oom_score_adj',
].join('\n');

describe('conformance: process', { skip }, () => {
  const h = useHarness();

  describe('as root', () => {
    let out: Sections;
    before(async () => {
      out = await runScript(h, SCRIPT, (s) => {
        s.process!.env = [...ENV];
        s.process!.cwd = '/tmp';
        s.process!.capabilities = { bounding: BOUNDING, effective: BOUNDING, permitted: BOUNDING, inheritable: INHERITABLE, ambient: AMBIENT };
        s.process!.rlimits = [
          { type: 'RLIMIT_NOFILE', soft: 1000, hard: 2000 },
          { type: 'RLIMIT_CORE', soft: 4096, hard: 8192 },
          { type: 'RLIMIT_MSGQUEUE', soft: 4096, hard: 8192 }, // lowering only: no CAP_SYS_RESOURCE here
        ];
        s.process!.noNewPrivileges = true;
        s.process!.oomScoreAdj = 123;
        s.hostname = 'berth-conformance';
        s.domainname = 'conformance.example';
      }, ['argv0', 'with space', '', 'last']);
    });

    test('the run succeeds', () => assert.equal(out.result.code, 0, out.result.stderr));
    test('args reach the process unchanged (/proc/1/cmdline)', () => {
      // NULs became newlines (the script has newlines of its own): compare the joined text
      assert.equal(out.get('cmdline'), ['sh', '-c', SCRIPT, 'argv0', 'with space', '', 'last'].join('\n'));
    });
    test('env holds every process.env entry', () => {
      const env = out.get('env').split('\n');
      for (const e of ENV) assert.ok(env.includes(e), `${e} missing from ${JSON.stringify(env)}`);
    });
    test('cwd is process.cwd', () => assert.equal(out.get('cwd'), 'cwd=/tmp'));
    test('uid 0, gid 0', () => assert.match(out.get('ids'), /^uid=0 gid=0 euid=0 egid=0 /));
    test('the default umask is 0022', () => assert.equal(out.get('umask'), 'umask=0022'));
    test('bounding set', () => assert.deepEqual(capNames(keyValues(out.get('caps'))['CapBnd']!), BOUNDING));
    test('effective set', () => assert.deepEqual(capNames(keyValues(out.get('caps'))['CapEff']!), BOUNDING));
    test('permitted set', () => assert.deepEqual(capNames(keyValues(out.get('caps'))['CapPrm']!), BOUNDING));
    test('inheritable set', () => assert.deepEqual(capNames(keyValues(out.get('caps'))['CapInh']!), INHERITABLE));
    test('ambient set', () => assert.deepEqual(capNames(keyValues(out.get('caps'))['CapAmb']!), AMBIENT));
    test('noNewPrivileges true sets no_new_privs', () => assert.equal(keyValues(out.get('caps'))['NoNewPrivs'], '1'));
    test('rlimits: soft and hard as configured', () => {
      const text = out.get('rlimits');
      assert.match(text, /^rlimit=RLIMIT_NOFILE soft=1000 hard=2000$/m);
      assert.match(text, /^rlimit=RLIMIT_CORE soft=4096 hard=8192$/m);
      assert.match(text, /^rlimit=RLIMIT_MSGQUEUE soft=4096 hard=8192$/m);
    });
    test('hostname and domainname', () => assert.equal(out.get('uts'), 'hostname=berth-conformance domainname=conformance.example'));
    test('oomScoreAdj', () => assert.equal(out.get('oom'), '123'));
  });

  describe('as uid 1000 with additional gids', () => {
    let out: Sections;
    before(async () => {
      out = await runScript(h, SCRIPT, (s) => {
        s.process!.user = { uid: 1000, gid: 100, additionalGids: [5, 1000], umask: 0o027 };
        s.process!.cwd = '/home/berth';
        s.process!.capabilities = { bounding: BOUNDING, effective: BOUNDING, permitted: BOUNDING, inheritable: INHERITABLE, ambient: AMBIENT };
        s.process!.noNewPrivileges = false;
      });
    });

    test('the run succeeds', () => assert.equal(out.result.code, 0, out.result.stderr));
    test('uid, gid and additionalGids', () => {
      const ids = keyValues(out.get('ids').split(' ').join('\n'));
      assert.equal(ids['uid'], '1000');
      assert.equal(ids['euid'], '1000');
      assert.equal(ids['gid'], '100');
      assert.equal(ids['egid'], '100');
      assert.deepEqual((ids['groups'] ?? '').split(',').filter(Boolean).map(Number).sort((a, b) => a - b), [5, 1000]);
    });
    test('umask', () => assert.equal(out.get('umask'), 'umask=0027'));
    test('cwd', () => assert.equal(out.get('cwd'), 'cwd=/home/berth'));
    test('bounding and inheritable sets as configured', () => {
      const caps = keyValues(out.get('caps'));
      assert.deepEqual(capNames(caps['CapBnd']!), BOUNDING);
      assert.deepEqual(capNames(caps['CapInh']!), INHERITABLE);
    });
    test('ambient set kept; permitted and effective are the ambient set after exec', () => {
      const caps = keyValues(out.get('caps'));
      assert.deepEqual(capNames(caps['CapAmb']!), AMBIENT);
      assert.deepEqual(capNames(caps['CapPrm']!), AMBIENT);
      assert.deepEqual(capNames(caps['CapEff']!), AMBIENT);
    });
    test('noNewPrivileges false leaves no_new_privs clear', () => assert.equal(keyValues(out.get('caps'))['NoNewPrivs'], '0'));
  });

  describe('seen from outside (/proc/<pid>)', () => {
    let live: Live;
    before(async () => {
      live = await createLive(h, ['sleep', '30'], (s) => {
        s.process!.user = { uid: 1000, gid: 1000, additionalGids: [100] };
        s.process!.env = [...ENV];
        s.process!.oomScoreAdj = 7; // raising only: lowering needs CAP_SYS_RESOURCE, absent here
      }, true);
    });
    after(async () => { await live?.remove(); });

    test('cmdline is process.args', async () => {
      assert.equal(await readFile(`/proc/${live.pid}/cmdline`, 'utf8'), 'sleep\x0030\x00');
    });
    test('environ is process.env (HOME may be added)', async () => {
      const env = (await readFile(`/proc/${live.pid}/environ`, 'utf8')).split('\0').filter(Boolean);
      assert.deepEqual(env.filter((e) => !e.startsWith('HOME=')), ENV);
    });
    test('Uid, Gid and Groups', async () => {
      assert.equal(await procStatus(live.pid, 'Uid'), '1000 1000 1000 1000');
      assert.equal(await procStatus(live.pid, 'Gid'), '1000 1000 1000 1000');
      assert.equal(await procStatus(live.pid, 'Groups'), '100');
    });
    test('oom_score_adj', async () => {
      assert.equal((await readFile(`/proc/${live.pid}/oom_score_adj`, 'utf8')).trim(), '7');
    });
    test('NoNewPrivs from the default spec', async () => assert.equal(await procStatus(live.pid, 'NoNewPrivs'), '1'));
  });
});
