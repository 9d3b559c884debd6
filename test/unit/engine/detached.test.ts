/**
 * Pure parts of detached containers and the commands around them: time arguments, log
 * timestamps, restart rules, event filters and text, stats columns, the exec'd process.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { entrySeconds, fixedNanos, parseTimeArg } from '../../../src/engine/logs.js';
import { shouldRestart } from '../../../src/engine/reap.js';
import { eventMatches, formatEvent, type EngineEvent } from '../../../src/engine/events.js';
import { statsRow, type StatsSample } from '../../../src/engine/stats.js';
import { execProcess } from '../../../src/engine/exec.js';
import { defaultContainerConfig, defaultHostConfig } from '../../../src/engine/config.js';
import { makeReport } from '../../../src/engine/report.js';
import type { EngineRecord } from '../../../src/engine/store.js';
import type { Spec } from '../../../src/oci/spec.js';

test('parseTimeArg takes dates, unix timestamps and durations before now', () => {
  const now = Date.parse('2026-01-02T03:04:05Z');
  assert.equal(parseTimeArg('2026-01-02T03:00:00Z', 'since', now), Date.parse('2026-01-02T03:00:00Z') / 1000);
  assert.equal(parseTimeArg('1700000000.5', 'since', now), 1700000000.5);
  assert.equal(parseTimeArg('10m', 'since', now), now / 1000 - 600);
  assert.equal(parseTimeArg('1h30m', 'since', now), now / 1000 - 5400);
  assert.throws(() => parseTimeArg('banana', 'since', now), /invalid value for --since "banana": use a date/);
});

test('log timestamps keep their nanoseconds', () => {
  assert.equal(entrySeconds('2026-01-02T03:04:05.123456789Z'), Date.parse('2026-01-02T03:04:05Z') / 1000 + 0.123456789);
  assert.equal(fixedNanos('2026-01-02T03:04:05.1Z'), '2026-01-02T03:04:05.100000000Z');
  assert.equal(fixedNanos('2026-01-02T03:04:05Z'), '2026-01-02T03:04:05.000000000Z');
});

test('restart policies follow Docker', () => {
  const rec = (Name: string, MaximumRetryCount = 0, RestartCount = 0, ManuallyStopped = false) =>
    ({ HostConfig: { ...defaultHostConfig(), RestartPolicy: { Name, MaximumRetryCount } }, RestartCount, ManuallyStopped });
  assert.equal(shouldRestart(rec('no'), 1), false);
  assert.equal(shouldRestart(rec('always'), 0), true);
  assert.equal(shouldRestart(rec('unless-stopped'), 0), true);
  assert.equal(shouldRestart(rec('always', 0, 0, true), 137), false, 'stopped by the user');
  assert.equal(shouldRestart(rec('on-failure'), 0), false);
  assert.equal(shouldRestart(rec('on-failure'), 1), true);
  assert.equal(shouldRestart(rec('on-failure', 2, 1), 1), true);
  assert.equal(shouldRestart(rec('on-failure', 2, 2), 1), false);
});

const ev: EngineEvent = {
  status: 'die', id: 'a'.repeat(64), from: 'host', Type: 'container', Action: 'die',
  Actor: { ID: 'a'.repeat(64), Attributes: { name: 'web', image: 'host', exitCode: '3' } },
  scope: 'local', time: 1767323045, timeNano: 1767323045_123_000_000,
};

test('event filters and Docker\'s text form', () => {
  assert.equal(eventMatches(ev, { container: ['web'] }), true);
  assert.equal(eventMatches(ev, { container: ['aaaa'] }), true);
  assert.equal(eventMatches(ev, { container: ['other'] }), false);
  assert.equal(eventMatches(ev, { event: ['start', 'die'], type: ['container'] }), true);
  assert.equal(eventMatches(ev, { since: 1767323046 }), false);
  assert.equal(eventMatches(ev, { until: 1767323044 }), false);
  assert.match(formatEvent(ev), /^2026-01-02T03:04:05\.123\d{6}Z container die a{64} \(exitCode=3, image=host, name=web\)$/);
});

test('stats columns: CPU % over the interval, working set against the limit', () => {
  const base: StatsSample = { id: 'b'.repeat(64), name: 'web', at: 0n, cpuNs: 0, mem: 0, limit: 64 << 20, blkRead: 0, blkWrite: 0, pids: 1 };
  const cur = { ...base, at: 1_000_000_000n, cpuNs: 250_000_000, mem: 16 << 20, blkRead: 12_300, blkWrite: 0, pids: 3 };
  assert.deepEqual(statsRow(base, cur), {
    BlockIO: '12.3kB / 0B', CPUPerc: '25.00%', Container: 'b'.repeat(12), ID: 'b'.repeat(12),
    MemPerc: '25.00%', MemUsage: '16MiB / 64MiB', Name: 'web', NetIO: '--', PIDs: '3',
  });
  assert.equal(statsRow(undefined, cur).CPUPerc, '0.00%');
});

test('exec runs with the container\'s process settings and the request\'s changes', () => {
  const spec: Spec = {
    ociVersion: '1.2.0', root: { path: '/x' },
    process: { terminal: false, user: { uid: 0, gid: 0 }, args: ['sleep', '60'], env: ['PATH=/bin', 'A=1'], cwd: '/', noNewPrivileges: true, capabilities: { bounding: ['CAP_KILL'] } },
  };
  const rec = { Name: 'web', UserRootfs: false, RootPath: '/x', Config: { ...defaultContainerConfig(), Image: 'host' } } as unknown as EngineRecord;
  const p = execProcess(spec, rec, { cmd: ['sh', '-c', 'id'], env: ['A=2', 'B=3'], workdir: '/tmp', user: '1234:5678' });
  assert.deepEqual(p.args, ['sh', '-c', 'id']);
  assert.deepEqual(p.env, ['PATH=/bin', 'A=2', 'B=3', 'HOME=/']);
  assert.equal(p.cwd, '/tmp');
  assert.deepEqual(p.user, { uid: 1234, gid: 5678 });
  assert.equal(p.noNewPrivileges, true);
  assert.deepEqual(p.capabilities, { bounding: ['CAP_KILL'] });
  assert.throws(() => execProcess(spec, rec, { cmd: ['true'], workdir: 'tmp' }), /invalid --workdir "tmp": the working directory must be an absolute path/);
});

test('the report tells berth stop and a timeout apart from the OOM killer', () => {
  const usage = { memory: {}, cpu: {}, pids: {}, oomKills: 0 };
  const at = new Date();
  const r = (by: string, sig = 'SIGKILL') => makeReport({ exitCode: 137, signal: 9, usage, sent: { signal: sig, by }, startedAt: at, finishedAt: at }).summary;
  assert.equal(r('berth stop'), 'stopped by berth stop (SIGKILL after the stop timeout)');
  assert.equal(r('timeout'), 'timed out: killed by SIGKILL');
  assert.equal(r('berth kill'), 'killed by SIGKILL (sent by berth kill)');
  assert.equal(makeReport({ exitCode: 137, signal: 9, usage: { ...usage, oomKills: 1 }, startedAt: at, finishedAt: at }).oomKilled, true);
});
