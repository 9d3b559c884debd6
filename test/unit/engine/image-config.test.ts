/**
 * An image's config merged under `run`'s flags exactly as Docker's daemon merges them
 * (moby daemon/commit.go merge), and which image volumes get an anonymous volume.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { anonymousVolumeTargets, applyImageConfig, type ImageRunConfig } from '../../../src/engine/image-config.js';
import { requestFromFlags } from '../../../src/engine/flags.js';
import type { FlagValues } from '../../../src/engine/flags.js';

const IMAGE: ImageRunConfig = {
  Entrypoint: ['/bin/sh', '-c'], Cmd: ['cat /etc/motd'], Env: ['PATH=/usr/bin:/bin', 'LANG=C'], User: 'app', WorkingDir: '/srv',
  StopSignal: 'SIGQUIT', Labels: { a: '1', b: '2' }, ExposedPorts: { '80/tcp': {}, '53/udp': {} }, Volumes: { '/data': {} },
};

function merged(flags: FlagValues, cmd: string[] = []): ReturnType<typeof requestFromFlags>['config'] {
  const c = requestFromFlags(flags, 'img', cmd, { env: {}, cwd: '/' }).config;
  applyImageConfig(c, IMAGE);
  return c;
}

test('with no flags the container gets the image config', () => {
  const c = merged({});
  assert.deepEqual([c.Entrypoint, c.Cmd, c.User, c.WorkingDir, c.StopSignal], [['/bin/sh', '-c'], ['cat /etc/motd'], 'app', '/srv', 'SIGQUIT']);
  assert.deepEqual(c.Env, ['PATH=/usr/bin:/bin', 'LANG=C']);
  assert.deepEqual(c.Labels, { a: '1', b: '2' });
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.deepEqual(c.Volumes, { '/data': {} });
});

test('arguments replace Cmd and keep the entrypoint', () => {
  const c = merged({}, ['echo hi']);
  assert.deepEqual([c.Entrypoint, c.Cmd], [['/bin/sh', '-c'], ['echo hi']]);
});

test('--entrypoint drops the image Cmd; an empty --entrypoint clears the entrypoint', () => {
  assert.deepEqual([merged({ entrypoint: '/bin/ls' }).Entrypoint, merged({ entrypoint: '/bin/ls' }).Cmd], [['/bin/ls'], []]);
  assert.deepEqual([merged({ entrypoint: '' }, ['id']).Entrypoint, merged({ entrypoint: '' }, ['id']).Cmd], [[], ['id']]);
});

test('-e overrides by name, the flags first then the rest of the image env; -u, -w, --stop-signal, -l win', () => {
  const c = merged({ env: ['LANG=fr', 'X=1'], user: '0:0', workdir: '/tmp', 'stop-signal': 'SIGINT', label: ['b=3'] });
  assert.deepEqual(c.Env, ['LANG=fr', 'X=1', 'PATH=/usr/bin:/bin']);
  assert.deepEqual([c.User, c.WorkingDir, c.StopSignal], ['0:0', '/tmp', 'SIGINT']);
  assert.deepEqual(c.Labels, { a: '1', b: '3' });
});

test('an image without config leaves Docker defaults', () => {
  const c = requestFromFlags({}, 'img', ['true'], { env: {}, cwd: '/' }).config;
  applyImageConfig(c, {});
  assert.deepEqual([c.Entrypoint, c.Cmd, c.Env, c.User, c.WorkingDir, c.StopSignal, c.ExposedPorts, c.Volumes], [null, ['true'], [], '', '', undefined, undefined, undefined]);
});

test('a volume the user mounts something on gets no anonymous volume; outer ones first', () => {
  assert.deepEqual(anonymousVolumeTargets({ '/a/b': {}, '/a': {}, '/c/': {}, '/d': {} }, ['/d', '/c']), ['/a', '/a/b']);
  assert.deepEqual(anonymousVolumeTargets(undefined, []), []);
});
