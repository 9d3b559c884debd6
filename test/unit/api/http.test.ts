/** The Engine API's HTTP rules (src/api/http.ts) and create bodies (src/api/create-body.ts). */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createRequestFromBody } from '../../../src/api/create-body.js';
import { ApiError, boolParam, filtersParam, frame, statusOf, versionOf } from '../../../src/api/http.js';
import { BerthError } from '../../../src/util/errors.js';

test('versions: a prefix within 1.24-1.41 is served, none means the newest, others are dockerd\'s 400', () => {
  assert.deepEqual(versionOf('/v1.41/containers/json'), { version: '1.41', route: '/containers/json' });
  assert.deepEqual(versionOf('/v1.24/_ping'), { version: '1.24', route: '/_ping' });
  assert.deepEqual(versionOf('/containers/json'), { version: '1.41', route: '/containers/json' });
  assert.throws(() => versionOf('/v1.42/info'), (e: ApiError) => e.status === 400 && /too new/.test(e.message));
  assert.throws(() => versionOf('/v1.9/info'), (e: ApiError) => e.status === 400 && /too old/.test(e.message));
});

test('engine errors map to dockerd\'s status codes', () => {
  assert.equal(statusOf(new BerthError('ENOT_FOUND', 'x')), 404);
  assert.equal(statusOf(new BerthError('EEXISTS', 'x')), 409);
  assert.equal(statusOf(new BerthError('EBAD_STATE', 'x')), 409);
  assert.equal(statusOf(new BerthError('EINVALID_ARG', 'x')), 400);
  assert.equal(statusOf(new Error('x')), 500);
});

test('query parameters: Docker\'s booleans and both shapes of filters', () => {
  const q = new URLSearchParams('a=1&b=true&c=0&d=&f={"status":["running"],"label":{"x=y":true}}');
  assert.deepEqual([boolParam(q, 'a'), boolParam(q, 'b'), boolParam(q, 'c'), boolParam(q, 'd', true), boolParam(q, 'e')], [true, true, false, true, false]);
  assert.deepEqual(filtersParam(new URLSearchParams({ filters: q.get('f')! })), { status: ['running'], label: ['x=y'] });
});

test('a multiplexed frame: stream, three zero bytes, big-endian length, payload', () => {
  assert.deepEqual([...frame(2, Buffer.from('hi'))], [2, 0, 0, 0, 0, 0, 0, 2, 0x68, 0x69]);
});

test('create bodies: null is the default, unknown fields must ask for nothing, -1 swappiness is unset', () => {
  const r = createRequestFromBody({
    Image: 'busybox', Cmd: ['true'], Env: null, Labels: null, OnBuild: null, Healthcheck: null,
    HostConfig: { Binds: null, Memory: 1048576, MemorySwappiness: -1, LogConfig: { Type: 'json-file', Config: {} }, ConsoleSize: [0, 0], Isolation: '', NetworkMode: 'default' },
    NetworkingConfig: { EndpointsConfig: { web: { Aliases: ['a'] } } },
  }, 'c1');
  assert.equal(r.name, 'c1');
  assert.deepEqual(r.config.Env, []);
  assert.deepEqual(r.config.Labels, {});
  assert.deepEqual(r.hostConfig.Binds, []);
  assert.equal(r.hostConfig.Memory, 1048576);
  assert.equal(r.hostConfig.MemorySwappiness, null);
  assert.equal(r.hostConfig.NetworkMode, '');
  assert.deepEqual(r.networkingConfig, { EndpointsConfig: { web: { Aliases: ['a'] } } });
  assert.throws(() => createRequestFromBody({ Image: 'x', HostConfig: { Runtime: 'nvidia' } }, undefined), (e: ApiError) => e.status === 400 && e.message === 'HostConfig.Runtime is not supported by Berth ("nvidia"): leave it unset');
  assert.doesNotThrow(() => createRequestFromBody({ Image: 'x', HostConfig: { Runtime: 'runc' } }, undefined)); // what inspect shows, sent back
  assert.equal(createRequestFromBody({ Image: 'x', name: 'from-body' }, undefined).name, 'from-body'); // dockerode sends it there too
  assert.equal(createRequestFromBody({ Image: 'x', name: 'from-body' }, 'from-query').name, 'from-query');
  assert.throws(() => createRequestFromBody({ Image: 'x', HostConfig: { LogConfig: { Type: 'syslog' } } }, undefined), /HostConfig\.LogConfig is not supported/);
  assert.throws(() => createRequestFromBody({ Cmd: ['true'] }, undefined), /Config\.Image is required/);
});
