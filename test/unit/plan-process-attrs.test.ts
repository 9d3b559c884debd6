/**
 * The plan ops for the keyring, personality, I/O priority, scheduler and CPU affinity (no root
 * needed): every name the validator accepts has a number here, the ops come before seccomp and
 * the user switch, and a foreground terminal without a console socket becomes `console-local`.
 */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Spec } from '../../src/oci/spec.js';
import { parseConfig } from '../../src/oci/validate.js';
import { buildCreatePlan } from '../../src/runtime/plan.js';
import type { OpOf } from '../../src/native/ops.js';
import { cpuListNumbers, execAffinityOps, IOPRIO_CLASSES, PERSONALITY_DOMAINS, priorityOps, SCHED_FLAGS, SCHED_POLICIES } from '../../src/runtime/process-attrs.js';

function spec(mutate: (s: Spec) => void = () => {}): Spec {
  const s = {
    ociVersion: '1.2.0',
    root: { path: '/nonexistent-rootfs' },
    process: { args: ['true'], cwd: '/', user: { uid: 1000, gid: 1000 } },
    linux: { namespaces: [{ type: 'mount' }, { type: 'pid' }] },
  } as Spec;
  mutate(s);
  return s;
}
const names = (ops: ReturnType<typeof buildCreatePlan>) => ops.map((o) => o.op);

describe('plan: process attributes', () => {
  it('accepts every validated name and maps it to the kernel number', () => {
    for (const policy of Object.keys(SCHED_POLICIES)) {
      const s = parseConfig(JSON.stringify(spec((x) => { x.process!.scheduler = { policy, flags: Object.keys(SCHED_FLAGS) }; })), '/b');
      const [op] = priorityOps(s.process!);
      assert.equal(op?.op, 'sched');
      assert.equal((op as OpOf<'sched'>).policy, SCHED_POLICIES[policy]);
      assert.equal((op as OpOf<'sched'>).flags, 0x7f);
    }
    for (const cls of Object.keys(IOPRIO_CLASSES)) {
      const s = parseConfig(JSON.stringify(spec((x) => { x.process!.ioPriority = { class: cls, priority: 4 }; })), '/b');
      assert.deepEqual(priorityOps(s.process!)[0], { op: 'ioprio', class: IOPRIO_CLASSES[cls], level: 4 });
    }
    for (const domain of Object.keys(PERSONALITY_DOMAINS)) parseConfig(JSON.stringify(spec((x) => { x.linux!.personality = { domain }; })), '/b');
  });

  it('puts keyring, personality, ioprio and sched before seccomp and the user switch', () => {
    const ops = buildCreatePlan(spec((s) => {
      s.linux!.personality = { domain: 'LINUX32', flags: ['ADDR_NO_RANDOMIZE'] };
      s.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 2 };
      s.process!.scheduler = { policy: 'SCHED_BATCH', nice: 3 };
      s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
    }), { bundle: '/b', monitor: false, keyring: 'c1' });
    const n = names(ops);
    const at = (op: string) => (n as string[]).lastIndexOf(op);
    assert.deepEqual(ops[at('keyring')], { op: 'keyring', name: 'c1' });
    assert.deepEqual(ops[at('personality')], { op: 'personality', persona: 0x8 | 0x40000 });
    assert.deepEqual(ops[at('sched')], { op: 'sched', policy: 3, flags: 0, nice: 3, priority: 0, runtime: 0, deadline: 0, period: 0 });
    for (const op of ['keyring', 'personality', 'ioprio', 'sched']) {
      assert.ok(at(op) < at('seccomp') && at(op) < at('user'), `${op} before seccomp and user: ${n.join(' ')}`);
    }
    assert.equal(names(buildCreatePlan(spec(), { bundle: '/b', monitor: false })).includes('keyring'), false, '--no-new-keyring');
  });

  it('sends the pty master to the monitor when run in the foreground without a console socket', () => {
    const t = spec((s) => { s.process!.terminal = true; });
    assert.ok(names(buildCreatePlan(t, { bundle: '/b', monitor: true })).includes('console-local'));
    assert.ok(names(buildCreatePlan(t, { bundle: '/b', monitor: true, consoleSocket: '/s' })).includes('console-socket'));
    assert.throws(() => buildCreatePlan(t, { bundle: '/b', monitor: false }), /--console-socket is required when the container is detached/);
  });

  it('expands cpu lists and splits execCPUAffinity into a parent and a child op', () => {
    assert.equal(cpuListNumbers('0-2,5, 7', 'f'), '0,1,2,5,7');
    assert.throws(() => cpuListNumbers('3-1', 'process.execCPUAffinity.final'), /process\.execCPUAffinity\.final "3-1"/);
    const a = execAffinityOps({ args: ['x'], cwd: '/', user: { uid: 0, gid: 0 }, execCPUAffinity: { initial: '0-1', final: '1' } });
    assert.deepEqual(a, { parent: [{ op: 'affinity', cpus: '0,1' }], child: [{ op: 'affinity', cpus: '1' }] });
  });
});
