/**
 * The spec's recursive mount options (rro, rnosuid, rnoexec …, runc's and crun's extension,
 * listed in `berth-runtime features`) reach every mount of a bind's tree, not only its top: a
 * host directory with a tmpfs mounted inside it is bound with them, and the container checks the
 * submount's flags and tries to write to it.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { assertNoLeaks, makeBundle, processTag, whyNotRoot, type TestBundle } from '../support/bundle.js';
import { makeRoot, runtime } from '../support/runtime.js';

const skip = whyNotRoot();
let root: ReturnType<typeof makeRoot>;
let src: string;
const bundles: TestBundle[] = [];

before(() => {
  if (skip) return;
  root = makeRoot();
  src = mkdtempSync(join(tmpdir(), `${processTag()}-mattr-`));
  mkdirSync(join(src, 'sub'));
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', join(src, 'sub')], { encoding: 'utf8' });
  assert.equal(m.status, 0, m.stderr);
});

after(async () => {
  if (skip) return;
  for (const b of bundles) await runtime(root.root, ['delete', '--force', b.id]);
  for (const b of bundles) await b.cleanup();
  spawnSync('umount', ['-l', join(src, 'sub')]);
  rmSync(src, { recursive: true, force: true });
  root.cleanup();
  await assertNoLeaks(processTag());
});

test('rro makes the whole bound tree read-only; rnosuid and rnoexec reach the submount too', { skip }, async () => {
  const b = await makeBundle({
    args: ['sh', '-c', 'touch /ro/top 2>&1; touch /ro/sub/f 2>&1; touch /rw/sub/f && echo rw-ok; grep " /flags/sub " /proc/self/mountinfo | cut -d" " -f6'],
    mutate: (s) => {
      s.mounts!.push(
        { destination: '/ro', type: 'bind', source: src, options: ['rbind', 'rro'] },
        { destination: '/rw', type: 'bind', source: src, options: ['rbind'] },
        { destination: '/flags', type: 'bind', source: src, options: ['rbind', 'rnosuid', 'rnoexec'] },
      );
    },
  });
  bundles.push(b);
  const r = await runtime(root.root, ['run', '--bundle', b.dir, b.id]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /\/ro\/top.*Read-only file system/);
  assert.match(lines[1]!, /\/ro\/sub\/f.*Read-only file system/);
  assert.equal(lines[2], 'rw-ok', 'a bind without rro stays writable');
  assert.match(lines[3]!, /(^|,)nosuid(,|$)/);
  assert.match(lines[3]!, /(^|,)noexec(,|$)/);
});
