/**
 * Conformance: `linux.devices`, the default devices and the /dev symlinks (runtimetest's
 * validateLinuxDevices — type, major:minor, fileMode, uid, gid —, validateDefaultDevices and
 * validateDefaultSymlinks), and the device cgroup that decides which of them can be opened.
 */
import * as assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { parseProbe, whyNotRoot } from '../../support/bundle.js';
import { runScript, section, useHarness, type Sections } from './support.js';

const skip = whyNotRoot();

const DEVICES = [
  { path: '/dev/conf-null', type: 'c', major: 1, minor: 3, fileMode: 0o640, uid: 1000, gid: 100 },
  { path: '/dev/conf-loop', type: 'b', major: 7, minor: 200, fileMode: 0o600, uid: 0, gid: 6 },
  { path: '/dev/conf-fifo', type: 'p', fileMode: 0o644, uid: 0, gid: 0 },
  { path: '/dev/sub/dir/conf-zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/conf-wide', type: 'c', major: 300, minor: 70000, fileMode: 0o600, uid: 0, gid: 0 },
];
const DEFAULTS: Record<string, [number, number]> = {
  '/dev/null': [1, 3], '/dev/zero': [1, 5], '/dev/full': [1, 7], '/dev/random': [1, 8], '/dev/urandom': [1, 9], '/dev/tty': [5, 0],
};
const LINKS: Record<string, string> = {
  '/dev/fd': '/proc/self/fd', '/dev/stdin': '/proc/self/fd/0', '/dev/stdout': '/proc/self/fd/1', '/dev/stderr': '/proc/self/fd/2',
};

const SCRIPT = [
  section('stat'), `probe stat ${[...DEVICES.map((d) => d.path), ...Object.keys(DEFAULTS), ...Object.keys(LINKS), '/dev/ptmx'].join(' ')}`,
  section('ptmx'), 'probe stat /dev/pts/ptmx',
  section('open-null'), 'probe open /dev/null w',
  section('open-zero'), 'probe open /dev/zero r',
  section('open-full'), 'probe open /dev/full w',
  section('open-urandom'), 'probe open /dev/urandom r',
  section('open-ptmx'), 'probe open /dev/ptmx w',
  section('open-allowed'), 'probe open /dev/sub/dir/conf-zero r',
  section('open-denied'), 'probe open /dev/conf-loop r',
].join('\n');

describe('conformance: devices', { skip }, () => {
  const h = useHarness();
  let out: Sections;
  let stat: Map<string, Record<string, string>>;
  before(async () => {
    out = await runScript(h, SCRIPT, (s) => {
      s.linux!.devices = DEVICES;
      // the test spec denies every device (the runtime adds the defaults); allow 1:5 explicitly
      s.linux!.resources!.devices!.push({ allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' });
      // a node the spec's own rules name and deny stays denied (runc adds no rules for
      // linux.devices; Berth allows the nodes no spec rule names, see src/runtime/devices.ts)
      s.linux!.resources!.devices!.push({ allow: false, type: 'b', major: 7, minor: 200, access: 'rwm' });
    });
    stat = new Map(parseProbe(out.get('stat')).map((r) => [r['path']!, r]));
  });

  test('the run succeeds', () => assert.equal(out.result.code, 0, out.result.stderr));
  for (const d of DEVICES) {
    test(`${d.path}: type ${d.type}, ${d.major ?? 0}:${d.minor ?? 0}, mode ${d.fileMode.toString(8)}, owner ${d.uid}:${d.gid}`, () => {
      const s = stat.get(d.path);
      assert.ok(s, out.get('stat'));
      assert.equal(s['type'], d.type);
      if (d.type !== 'p') assert.equal(`${s['major']}:${s['minor']}`, `${d.major}:${d.minor}`);
      assert.equal(s['mode'], d.fileMode.toString(8).padStart(4, '0'));
      assert.equal(`${s['uid']}:${s['gid']}`, `${d.uid}:${d.gid}`);
    });
  }
  test('default devices exist as character devices with their numbers', () => {
    for (const [path, [major, minor]] of Object.entries(DEFAULTS)) {
      const s = stat.get(path);
      assert.equal(s?.['type'], 'c', `${path}: ${JSON.stringify(s)}`);
      assert.equal(`${s?.['major']}:${s?.['minor']}`, `${major}:${minor}`, path);
    }
  });
  test('default symlinks /dev/fd, /dev/stdin, /dev/stdout, /dev/stderr', () => {
    for (const [path, target] of Object.entries(LINKS)) {
      assert.equal(stat.get(path)?.['type'], 'l', path);
      assert.equal(stat.get(path)?.['target'], target, path);
    }
  });
  test('/dev/ptmx leads to the devpts instance\'s ptmx', () => {
    const s = stat.get('/dev/ptmx');
    assert.ok(s?.['type'] === 'l' ? s['target'] === 'pts/ptmx' : s?.['type'] === 'c', JSON.stringify(s));
    assert.match(out.get('ptmx'), /^type=c .*major=5 minor=2 /);
  });
  test('default devices can be opened (device cgroup allows them)', () => {
    for (const s of ['open-null', 'open-zero', 'open-full', 'open-urandom', 'open-ptmx']) assert.equal(out.get(s), 'ok', s);
  });
  test('an allowed configured device can be opened', () => assert.equal(out.get('open-allowed'), 'ok'));
  test('a configured device a spec rule denies cannot be opened (EPERM)', () => assert.equal(out.get('open-denied'), 'EPERM'));
});
