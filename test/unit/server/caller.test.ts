/**
 * Whom the runtime server serves (src/server/caller.ts, native/PROTOCOL.md "Who is served"):
 * issue 10, part 3. A caller in another mount namespace was served a plan made for the server's
 * view ("cgroup-fd: open /sys/fs/cgroup/unified/berth/<id>: No such file or directory"), and a
 * client of another installation sharing the socket was served by the other's code.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { CALLER_FIELDS, judgeCaller, measureSelf, type Identity } from '../../../src/server/caller.js';
import { parseRequest } from '../../../src/server/connection.js';

const own: Identity = {
  exe: '65024:100', root: '65024:2', mnt: '4:4026531841', pid: '4:4026531836', net: '4:4026531840',
  cgroup: '4:4026531835', user: '4:4026531837', ipc: '4:4026531839', uts: '4:4026531838',
};
const fields = (id: Identity) => ['caller', ...CALLER_FIELDS.map((f) => id[f])];

test('a caller that sees what the server sees, of its build, is served', () => {
  assert.deepEqual(judgeCaller(fields(own), own), { kind: 'serve' });
});

test('another view goes cold, whatever its build: every namespace, the root, and what could not be measured', () => {
  for (const f of CALLER_FIELDS.filter((x) => x !== 'exe')) {
    for (const v of ['4:1', '-']) {
      const r = judgeCaller(fields({ ...own, [f]: v }), own);
      assert.equal(r.kind, 'cold', `${f}=${v}`);
    }
    // The view is judged first: a client of another build in another view is not handed over to.
    assert.equal(judgeCaller(fields({ ...own, [f]: '4:1', exe: '65024:7' }), own).kind, 'cold');
  }
  assert.match((judgeCaller(fields({ ...own, mnt: '4:1', root: '9:9' }), own) as { reason: string }).reason, /root directory, mnt namespace differ/);
  assert.equal(judgeCaller(fields({ ...own, exe: '-' }), own).kind, 'cold', 'an unmeasured executable');
  assert.equal(judgeCaller(fields(own), { ...own, net: '-' }).kind, 'cold', 'what the server cannot measure of itself');
  assert.equal(judgeCaller(['caller', own.exe, own.root], own).kind, 'cold', 'fields missing');
});

test('a client of another build, or one from before "caller", makes the server hand over', () => {
  assert.equal(judgeCaller(fields({ ...own, exe: '65024:101' }), own).kind, 'other-build');
  assert.equal(judgeCaller(fields({ ...own, exe: '65025:100' }), own).kind, 'other-build');
  assert.equal(judgeCaller(['request', '/', '1', '--version'], own).kind, 'other-build');
  assert.equal(judgeCaller(['engine', '/', '1', '22', '000', '0', '0', '1', 'ps'], own).kind, 'other-build');
});

test('a client of this build with extra fields is malformed', () => {
  assert.deepEqual(judgeCaller([...fields(own), '1:1'], own), { kind: 'malformed' });
});

test('a server from before "caller" refuses the new first message (so that client goes cold)', () => {
  // parseRequest is what such a server applies to the first message: it must not take "caller"
  // for a request (it closes the connection, and the client goes cold on EOF before any message).
  assert.equal(parseRequest(fields(own)), undefined);
});

test('the server measures itself as the client does', () => {
  const me = measureSelf('/proc/self/exe');
  for (const f of CALLER_FIELDS) assert.match(me[f], /^\d+:\d+$/, f);
  assert.equal(measureSelf('/nonexistent/berth-helper').exe, '-');
});
