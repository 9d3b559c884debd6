/**
 * The namespace flags (src/engine/namespaces.ts): --userns mappings, container:NAME joins by
 * /proc path in the spec, Docker's conflicts and the validation messages.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { buildSpec, type SpecContext } from '../../../src/engine/spec.js';
import { requestFromFlags } from '../../../src/engine/flags.js';
import { adaptHostConfig, validateHostConfig } from '../../../src/engine/validate.js';
import { checkNamespaceConflicts, mapToHost, parseUsernsMapping } from '../../../src/engine/namespaces.js';

const HOST = { ncpu: 2, cpus: '0-1', mems: '0', swapAccounting: true };
const ctx: SpecContext = {
  id: 'b'.repeat(64), rootPath: '/r', hostMounts: [], user: { uid: 0, gid: 0, additionalGids: [], home: '/root' },
  device: () => undefined, cgroupMode: 'hybrid', hostHostname: 'thehost', arch: 'x64',
};

function spec(flags: Record<string, string>, joinPids: SpecContext['joinPids'] = {}) {
  const r = requestFromFlags(flags, undefined, ['sh'], { env: {}, cwd: '/' });
  adaptHostConfig(r.hostConfig, HOST);
  validateHostConfig(r.hostConfig, HOST);
  return buildSpec(r.config, r.hostConfig, { ...ctx, joinPids });
}

test('--userns mapping: parsed, mapped, and refused when malformed, overlapping or without root', () => {
  assert.equal(parseUsernsMapping('host'), undefined);
  assert.equal(parseUsernsMapping(''), undefined);
  const m = parseUsernsMapping('0:100000:65536')!;
  assert.deepEqual(m, [{ containerID: 0, hostID: 100000, size: 65536 }]);
  assert.equal(mapToHost(m, 5), 100005);
  assert.equal(mapToHost(m, 65536), undefined);
  assert.deepEqual(parseUsernsMapping('0:1000:1,1:100000:65535')!.length, 2);
  assert.throws(() => parseUsernsMapping('banana'), /^BerthError: invalid --userns "banana": use host or CONTAINER-ID:HOST-ID:SIZE/);
  assert.throws(() => parseUsernsMapping('0:100:0'), /invalid --userns/);
  assert.throws(() => parseUsernsMapping('0:100:10,5:200:10'), /overlap/);
  assert.throws(() => parseUsernsMapping('1:100:10'), /container id 0 \(root\) must be mapped/);
});

test('--userns mapping in the spec: a user namespace with the same uid and gid maps; tty gid only when mapped', () => {
  const s = spec({ userns: '0:100000:65536' });
  assert.deepEqual(s.linux!.namespaces!.map((n) => n.type), ['mount', 'user', 'network', 'uts', 'pid', 'ipc']);
  assert.deepEqual(s.linux!.uidMappings, [{ containerID: 0, hostID: 100000, size: 65536 }]);
  assert.deepEqual(s.linux!.gidMappings, s.linux!.uidMappings);
  assert.ok(s.mounts!.find((x) => x.destination === '/dev/pts')!.options!.includes('gid=5'));
  assert.ok(!spec({ userns: '0:100000:2' }).mounts!.find((x) => x.destination === '/dev/pts')!.options!.includes('gid=5'));
  assert.equal(spec({ userns: 'host' }).linux!.uidMappings, undefined);
});

test('container:NAME joins the other init\'s namespace by path; host leaves it out', () => {
  const s = spec({ pid: 'container:other', ipc: 'container:other', uts: 'container:other', network: 'container:other' },
    { pid: 42, ipc: 42, uts: 42, network: 42 });
  assert.deepEqual(s.linux!.namespaces, [
    { type: 'mount' }, { type: 'network', path: '/proc/42/ns/net' }, { type: 'uts', path: '/proc/42/ns/uts' },
    { type: 'pid', path: '/proc/42/ns/pid' }, { type: 'ipc', path: '/proc/42/ns/ipc' },
  ]);
  assert.equal(s.hostname, undefined, 'a joined uts namespace keeps its own hostname');
  const h = spec({ pid: 'host', ipc: 'host', uts: 'host', network: 'host' });
  assert.deepEqual(h.linux!.namespaces!.map((n) => n.type), ['mount']);
  assert.equal(h.hostname, undefined);
  assert.deepEqual(spec({ network: 'none' }).linux!.namespaces!.map((n) => n.type), ['mount', 'network', 'uts', 'pid', 'ipc']);
});

test('namespace flags: Docker-like one-line errors and conflicts', () => {
  assert.throws(() => spec({ pid: 'banana' }), /^BerthError: invalid --pid "banana": use host or private or container:NAME$/);
  // A network's name passes here; whether it exists is create's question (networking.ts).
  assert.doesNotThrow(() => spec({ network: 'bridge' }));
  assert.throws(() => spec({ uts: 'container:' }), /invalid --uts "container:"/);
  assert.throws(() => spec({ userns: 'nope' }), /invalid --userns "nope"/);
  const hc = requestFromFlags({ network: 'container:x' }, undefined, ['sh'], { env: {}, cwd: '/' }).hostConfig;
  assert.throws(() => checkNamespaceConflicts(hc, 'myhost'), /^BerthError: conflicting options: --hostname and --network\/--uts container:NAME/);
  assert.throws(() => checkNamespaceConflicts({ ...hc, NetworkMode: 'host', UsernsMode: '0:100000:65536' }, ''), /--userns with a mapping and --network host/);
  assert.doesNotThrow(() => checkNamespaceConflicts(hc, ''));
});
