/** Docker's label filters (src/util/labels.ts). */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { labelsMatch } from '../../../src/util/labels.js';

test('KEY is set, KEY=VALUE has that value, and every filter must hold', () => {
  const labels = { team: 'web', tier: '1', empty: '', eq: 'a=b' };
  assert.equal(labelsMatch(labels, []), true);
  assert.equal(labelsMatch(labels, ['team']), true);
  assert.equal(labelsMatch(labels, ['team=web', 'tier=1']), true);
  assert.equal(labelsMatch(labels, ['team=web', 'tier=2']), false);
  assert.equal(labelsMatch(labels, ['empty=']), true);
  assert.equal(labelsMatch(labels, ['eq=a=b']), true);
  assert.equal(labelsMatch(labels, ['other']), false);
  assert.equal(labelsMatch(undefined, ['team']), false);
  assert.equal(labelsMatch(undefined, []), true);
});
