/**
 * engine/volumes.ts without containers: Docker's volume filters, names, and the store on a
 * temporary data root (create, list, inspect, users from volumes.json, rm refusing a volume in
 * use, prune with and without named volumes).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkVolumeName, createVolume, inspectVolume, listVolumes, matchesVolumeFilters, pruneVolumes, removeVolume, volumeUsers, type Volume } from '../../../src/engine/volumes.js';

const vol = (over: Partial<Volume>): Volume => ({ CreatedAt: '', Driver: 'local', Labels: {}, Mountpoint: '', Name: 'v', Options: {}, Scope: 'local', ...over });

test('filters: values of a key OR, keys AND; label filters AND; dangling; unknown keys named', () => {
  const v = vol({ Name: 'web-data', Labels: { team: 'a', tier: '' } });
  assert.equal(matchesVolumeFilters(v, 0, { name: ['web', 'zzz'] }), true);
  assert.equal(matchesVolumeFilters(v, 0, { name: ['zzz'] }), false);
  assert.equal(matchesVolumeFilters(v, 0, { label: ['team=a', 'tier'] }), true);
  assert.equal(matchesVolumeFilters(v, 0, { label: ['team=b'] }), false);
  assert.equal(matchesVolumeFilters(v, 1, { dangling: ['true'] }), false);
  assert.equal(matchesVolumeFilters(v, 1, { dangling: ['false'], driver: ['local'] }), true);
  assert.throws(() => matchesVolumeFilters(v, 0, { dangling: ['maybe'] }), /dangling=maybe: use true or false/);
  assert.throws(() => matchesVolumeFilters(v, 0, { colour: ['red'] }), /invalid filter "colour": use one of dangling, driver, label, name/);
});

test('names: Docker\'s rule, and nothing that walks out of the volumes directory', () => {
  for (const ok of ['ab', 'a.b-c_d', '0x']) checkVolumeName(ok);
  for (const bad of ['a', '..', '.lock', '-x', 'a/b', '../x', '']) assert.throws(() => checkVolumeName(bad), /invalid volume name/);
});

test('the store: create, list, inspect, users, rm refused while used, prune', async () => {
  const dataRoot = mkdtempSync(join(tmpdir(), 'berth-unit-volumes-'));
  const paths = { dataRoot, runtimeRoot: join(dataRoot, 'run') };
  try {
    const a = await createVolume(paths, { name: 'named', labels: { k: 'v' } });
    assert.equal(a.Mountpoint, join(dataRoot, 'volumes', 'named', '_data'));
    assert.deepEqual(await createVolume(paths, { name: 'named' }), a);
    const anon = await createVolume(paths, {});
    assert.match(anon.Name, /^[a-f0-9]{64}$/);
    assert.deepEqual((await listVolumes(paths)).map((v) => v.Name).sort(), [anon.Name, 'named'].sort());
    await assert.rejects(inspectVolume(paths, '../volumes'), /no such volume: \.\.\/volumes/);
    await assert.rejects(createVolume(paths, { name: 'x1', driver: 'nfs' }), /volume driver "nfs" is not available/);
    // a container that lists the volume uses it
    mkdirSync(join(dataRoot, 'containers', 'c1'), { recursive: true });
    writeFileSync(join(dataRoot, 'containers', 'c1', 'volumes.json'), JSON.stringify([{ Name: 'named', Source: a.Mountpoint, Destination: '/d', Shared: true }]));
    assert.deepEqual(volumeUsers(paths).get('named'), ['c1']);
    await assert.rejects(removeVolume(paths, 'named'), /remove named: volume is in use - \[c1\]/);
    assert.deepEqual((await pruneVolumes(paths)).names, [anon.Name]);
    rmSync(join(dataRoot, 'containers', 'c1'), { recursive: true });
    assert.deepEqual((await pruneVolumes(paths, { anonymousOnly: true })).names, []); // made by volume create: named, even without a name given
    assert.deepEqual((await pruneVolumes(paths, { labels: ['k=other'] })).names, []);
    assert.deepEqual((await pruneVolumes(paths, { labels: ['k=v'] })).names, ['named']);
    assert.equal(await removeVolume(paths, 'named', true), false);
  } finally {
    rmSync(dataRoot, { recursive: true, force: true });
  }
});
