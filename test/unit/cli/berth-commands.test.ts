/**
 * The lazy command table of berth (src/cli/berth/commands.ts) names each command as the command
 * module itself does: lookup happens before the module is loaded, so a name or alias out of step
 * would make a command unreachable or reach the wrong one.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { COMMAND_TABLE, loadAll } from '../../../src/cli/berth/commands.js';

test('every table entry loads the command it names, with the same aliases', async () => {
  const loaded = await loadAll();
  assert.equal(loaded.length, COMMAND_TABLE.length);
  COMMAND_TABLE.forEach((entry, i) => {
    const cmd = loaded[i]!;
    assert.equal(cmd.name, entry.name, `entry ${i}`);
    assert.deepEqual(cmd.aliases ?? [], entry.aliases ?? [], `aliases of ${entry.name}`);
  });
});

test('names and aliases are unique', () => {
  const names = COMMAND_TABLE.map((e) => e.name);
  assert.equal(new Set(names).size, names.length);
  const aliases = COMMAND_TABLE.flatMap((e) => e.aliases ?? []);
  assert.equal(new Set(aliases).size, aliases.length);
});
