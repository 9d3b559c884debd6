/**
 * The container record (src/engine/store.ts): Docker's fields and Berth's bookkeeping, kept flat
 * in container.json as every version so far wrote it, told apart by recordParts; and the inspect
 * document (src/engine/inspect.ts), which shows Docker's fields and Berth's only under `Berth`.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultContainerConfig, defaultHostConfig } from '../../../src/engine/config.js';
import { inspectDocument } from '../../../src/engine/inspect.js';
import { createdState, EngineStore, recordParts, type EngineRecord } from '../../../src/engine/store.js';

const id = 'c'.repeat(64);

/** A record with every field set, as container.json holds it. */
function fullRecord(): EngineRecord {
  return {
    Id: id, Name: 'web', Created: '2026-01-02T03:04:05.000Z', Path: 'sh', Args: ['-c', 'exit 3'],
    Config: { ...defaultContainerConfig(), Image: 'busybox' }, HostConfig: { ...defaultHostConfig(), Binds: ['/a:/b:ro'] },
    State: createdState(), RestartCount: 1,
    RootPath: '/var/lib/berth/containers/x/rootfs', UserRootfs: false, Report: true,
    Monitor: { pid: 10, startTime: 20, kind: 'helper' }, ManuallyStopped: true,
    KilledBy: { signal: 'SIGKILL', by: 'berth kill', at: '2026-01-02T03:04:06.000Z' },
    RestartWaiter: { pid: 11 }, RestartBackoffMs: 200, ImageId: `sha256:${'d'.repeat(64)}`, StorageDriver: 'overlay',
    AnonVolumes: [{ Name: 'v1', Source: '/var/lib/berth/volumes/v1', Destination: '/data' }],
  };
}

test('recordParts puts every field of a record in exactly one part', () => {
  const rec = fullRecord();
  const { docker, berth } = recordParts(rec);
  const dockerKeys = Object.keys(docker);
  const berthKeys = Object.keys(berth);
  assert.deepEqual(dockerKeys.filter((k) => berthKeys.includes(k)), []);
  assert.deepEqual([...dockerKeys, ...berthKeys].sort(), Object.keys(rec).sort());
  assert.deepEqual(dockerKeys, ['Id', 'Name', 'Created', 'Path', 'Args', 'Config', 'HostConfig', 'State', 'RestartCount']);
});

test('inspect shows no bookkeeping field as a Docker field; the outcome and KilledBy only under Berth', () => {
  const doc = inspectDocument(fullRecord(), { dataRoot: '/d', runtimeRoot: '/r' });
  const { berth } = recordParts(fullRecord());
  const leaked = Object.keys(doc).filter((k) => k in berth);
  assert.deepEqual(leaked, []);
  assert.deepEqual(Object.keys(doc), ['Id', 'Created', 'Path', 'Args', 'State', 'Image', 'ResolvConfPath', 'HostnamePath', 'HostsPath',
    'LogPath', 'Name', 'RestartCount', 'Driver', 'Platform', 'MountLabel', 'ProcessLabel', 'AppArmorProfile', 'ExecIDs', 'HostConfig', 'GraphDriver',
    'Mounts', 'Config', 'NetworkSettings', 'Berth']);
  assert.equal(doc.Name, '/web');
  assert.equal(doc.Image, `sha256:${'d'.repeat(64)}`);
  assert.equal(doc.Driver, 'overlay');
  assert.deepEqual(doc.Berth, { Report: null, KilledBy: { signal: 'SIGKILL', by: 'berth kill', at: '2026-01-02T03:04:06.000Z' } });
  assert.deepEqual(doc.Mounts.map((m) => m.Type), ['bind', 'volume']);
});

test('a container.json in the layout written so far loads and inspects', () => {
  const dataRoot = mkdtempSync(join(tmpdir(), 'berth-unit-record-'));
  try {
    const store = new EngineStore({ dataRoot, runtimeRoot: '/run/x' });
    mkdirSync(store.dir(id), { recursive: true });
    // The flat layout: Docker's fields and Berth's side by side, as store.save writes them.
    writeFileSync(join(store.dir(id), 'container.json'), JSON.stringify(fullRecord(), null, 1));
    const rec = store.load(id)!;
    assert.deepEqual(rec, fullRecord());
    assert.equal(inspectDocument(rec, store.paths).GraphDriver.Data.RootPath, '/var/lib/berth/containers/x/rootfs');
    store.save(rec);
    assert.deepEqual(store.load(id), fullRecord(), 'saved in the same layout');
  } finally {
    rmSync(dataRoot, { recursive: true, force: true });
  }
});
