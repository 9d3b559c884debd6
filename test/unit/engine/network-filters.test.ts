/** `network ls --filter`: Docker's keys and rules (engine/networks.ts matchesNetworkFilters). */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { matchesNetworkFilters, type NetworkSummary } from '../../../src/engine/networks.js';

const net = (Name: string, ID: string, Labels: Record<string, string> = {}, Driver = 'bridge'): NetworkSummary =>
  ({ ID, Name, Driver, Scope: 'local', Internal: false, Labels, CreatedAt: '' });
const all = [net('bridge', 'aa11'), net('host', 'bb22', {}, 'host'), net('web-front', 'cc33', { team: 'web', tier: '1' }), net('db', 'dd44', { team: 'data' })];
const names = (f: Record<string, string[]>) => all.filter((n) => matchesNetworkFilters(n, f)).map((n) => n.Name);

test('values of one key are alternatives (labels all apply); different keys all apply', () => {
  assert.deepEqual(names({}), ['bridge', 'host', 'web-front', 'db']);
  assert.deepEqual(names({ name: ['front', 'db'] }), ['web-front', 'db']);
  assert.deepEqual(names({ label: ['team'], name: ['web'] }), ['web-front']);
  assert.deepEqual(names({ label: ['team=data'] }), ['db']);
  assert.deepEqual(names({ label: ['tier=2'] }), []);
  // Several labels: all of them (dockerd's rule; docker compose relies on it).
  assert.deepEqual(names({ label: ['team=web', 'tier=1'] }), ['web-front']);
  assert.deepEqual(names({ label: ['team=web', 'team=data'] }), []);
  assert.deepEqual(names({ id: ['cc'] }), ['web-front']);
  assert.deepEqual(names({ driver: ['host'] }), ['host']);
  assert.deepEqual(names({ type: ['builtin'] }), ['bridge', 'host']);
  assert.deepEqual(names({ type: ['custom'] }), ['web-front', 'db']);
});

test('an unknown key or type is an error naming what is valid', () => {
  assert.throws(() => names({ colour: ['red'] }), /^BerthError: invalid filter 'colour': use one of driver, id, label, name, scope, type$/);
  assert.throws(() => names({ type: ['mine'] }), /invalid filter 'type=mine': use type=custom or type=builtin/);
});
