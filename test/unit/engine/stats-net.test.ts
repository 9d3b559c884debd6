/** stats' NET I/O column: the container's interfaces from /proc/<pid>/net/dev (src/engine/stats.ts). */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { netDevTotals } from '../../../src/engine/stats.js';

test('stats NET I/O: /proc/<pid>/net/dev totals without lo', () => {
  const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0
  eth0:    1500      10    0    0    0     0          0         0      700       5    0    0    0     0       0          0
  eth1:      20       1    0    0    0     0          0         0       30       1    0    0    0     0       0          0
`;
  assert.deepEqual(netDevTotals(text), { rx: 1520, tx: 730 });
});
