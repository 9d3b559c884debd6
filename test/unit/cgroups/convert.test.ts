import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { sharesToWeight, blkioWeightToIoWeight, memSwapToV2, cpuMaxValue, pidsMaxValue, memValueToV2 } from '../../../src/cgroups/convert.js';

test('cpu.shares → cpu.weight (runc ≥ 1.3.2 fit): reference points are exact', () => {
  assert.equal(sharesToWeight(0), 0);
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(1024), 100);
  assert.equal(sharesToWeight(262144), 10000);
  // values computed with runc's Go formula
  assert.equal(sharesToWeight(512), 59);
  assert.equal(sharesToWeight(2048), 174);
  assert.equal(sharesToWeight(100), 17);
});

test('blkio.weight → io.weight', () => {
  assert.equal(blkioWeightToIoWeight(10), 1);
  assert.equal(blkioWeightToIoWeight(1000), 10000);
  assert.equal(blkioWeightToIoWeight(500), 4950);
  assert.equal(blkioWeightToIoWeight(0), 0);
});

test('memory.swap (memory+swap) → memory.swap.max (swap alone)', () => {
  assert.equal(memSwapToV2(64 << 20, 32 << 20), String(32 << 20));
  assert.equal(memSwapToV2(32 << 20, 32 << 20), '0');
  assert.equal(memSwapToV2(-1, 32 << 20), 'max');
  assert.equal(memSwapToV2(undefined, -1), 'max');
  assert.equal(memSwapToV2(undefined, 32 << 20), undefined);
  assert.throws(() => memSwapToV2(16 << 20, 32 << 20), RangeError);
  assert.throws(() => memSwapToV2(16 << 20, -1), RangeError);
  assert.equal(memValueToV2(-1), 'max');
});

test('cpu.max from quota and period', () => {
  assert.equal(cpuMaxValue(50000, 100000), '50000 100000');
  assert.equal(cpuMaxValue(-1, 100000), 'max 100000');
  assert.equal(cpuMaxValue(50000, undefined), '50000');
  assert.equal(cpuMaxValue(undefined, undefined), undefined);
  assert.equal(cpuMaxValue(undefined, 20000, '30000'), '30000 20000', 'a period-only update keeps the quota');
});

test('pids.max', () => {
  assert.equal(pidsMaxValue(10), '10');
  assert.equal(pidsMaxValue(-1), 'max');
  assert.equal(pidsMaxValue(0), undefined);
});
