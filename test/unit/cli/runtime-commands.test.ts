/**
 * The lazy command table of berth-runtime (src/cli/runtime/commands.ts) names each command as the
 * command module itself does: lookup happens before the module is loaded, so a name out of step
 * would make a command unreachable or reach the wrong one.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { COMMAND_TABLE, loadAll } from '../../../src/cli/runtime/commands.js';

test('every table entry loads the command it names', async () => {
  const loaded = await loadAll();
  assert.equal(loaded.length, COMMAND_TABLE.length);
  COMMAND_TABLE.forEach((entry, i) => assert.equal(loaded[i]!.name, entry.name, `entry ${i}`));
});

test('names are unique', () => {
  const names = COMMAND_TABLE.map((e) => e.name);
  assert.equal(new Set(names).size, names.length);
});
