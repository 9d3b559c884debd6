/**
 * parseConfig: json syntax errors, top-level fields, root, process, mounts, hooks.
 */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../src/oci/validate.js';
import { findJsonSyntaxError } from '../../../src/oci/json-error.js';
import { baseSpec, expectInvalid, expectValid, fixture } from './helpers.js';

function jsonError(text: string): string {
  try {
    parseConfig(text, '/bundle');
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
}

describe('json syntax errors', () => {
  it('names line and column', () => {
    assert.equal(jsonError('{\n  "ociVersion": "1.2.0",\n  "root": }'),
      'config.json: invalid json at line 3 column 11: expected a value, found "}"');
    assert.equal(jsonError('{\n "a": 1,\n}'),
      'config.json: invalid json at line 3 column 1: expected a double-quoted property name, found "}"');
    assert.equal(jsonError('{"a": 1'), 'config.json: invalid json at line 1 column 8: expected \',\' or \'}\' after property value, found end of input');
    assert.equal(jsonError(''), 'config.json: invalid json at line 1 column 1: expected a value, found end of input');
    assert.equal(jsonError('[1 2]'), 'config.json: invalid json at line 1 column 4: expected \',\' or \']\' after array element, found "2"');
    assert.equal(jsonError('{"a": tru}'), 'config.json: invalid json at line 1 column 7: expected a value, found "t"');
    assert.equal(jsonError('{} x'), 'config.json: invalid json at line 1 column 4: unexpected data after the end of the document');
    assert.equal(jsonError('{"a": "x\ny"}'),
      'config.json: invalid json at line 1 column 9: control character in string (escape it as \\n, \\t or \\u00XX)');
    assert.equal(jsonError('{"a": "abc'), 'config.json: invalid json at line 1 column 7: unterminated string');
    assert.equal(jsonError('{"a": 01}'), 'config.json: invalid json at line 1 column 8: expected \',\' or \'}\' after property value, found "1"');
  });
  it('is one line', () => {
    assert.ok(!jsonError('{\n\n\n,').includes('\n'));
  });
  it('finds nothing in valid json', () => {
    assert.equal(findJsonSyntaxError('{"a": [1, 2.5e3, -0, true, null, "\\u00e9\\n"]}'), undefined);
  });
  it('rejects a document that is not an object', () => {
    assert.equal(jsonError('[]'), 'config.json: the document must be a json object, not an array');
    assert.equal(jsonError('null'), 'config.json: the document must be a json object, not null');
    assert.equal(jsonError('"x"'), 'config.json: the document must be a json object, not a string');
  });
});

describe('valid configs', () => {
  it('accepts runc spec output and resolves root.path against the bundle', () => {
    const spec = parseConfig(fixture('runc-spec.json'), '/run/bundle');
    assert.equal(spec.root?.path, '/run/bundle/rootfs');
    assert.equal(spec.ociVersion, '1.0.2-dev');
  });
  it('accepts runc spec --rootless output', () => {
    assert.equal(parseConfig(fixture('runc-spec-rootless.json'), '/b').root?.path, '/b/rootfs');
  });
  it('keeps an absolute root.path and resolves relative bind sources', () => {
    const s = expectValid((s) => {
      s.root.path = '/srv/root';
      s.mounts.push({ destination: '/data', source: 'data', options: ['rbind'] });
      s.mounts.push({ destination: '/abs', source: '/abs', options: ['bind'] });
    });
    assert.equal(s.root?.path, '/srv/root');
    assert.equal(s.mounts?.at(-2)?.source, '/bundle/data');
    assert.equal(s.mounts?.at(-1)?.source, '/abs');
  });
  it('ignores unknown keys at every level', () => {
    expectValid((s) => {
      s.vm = { hypervisor: {} };
      s.windows = 1;
      s.process.futureField = true;
      s.linux.futureField = [];
    });
  });
  it('treats null as absent', () => {
    expectValid((s) => {
      s.hooks = null;
      s.process.rlimits = null;
    });
  });
  it('accepts ociVersion suffixes', () => {
    for (const v of ['1.0.0', '1.2.0', '1.0.2-dev', '1.3.0-rc.1+abc']) expectValid((s) => (s.ociVersion = v));
  });
});

describe('top-level fields', () => {
  const cases: Array<[string, (s: any) => void, string]> = [
    ['ociVersion missing', (s) => delete s.ociVersion, 'config.json: ociVersion is required'],
    ['ociVersion 2.0.0', (s) => (s.ociVersion = '2.0.0'), 'config.json: ociVersion "2.0.0" must be a 1.x.y version (this runtime implements 1.2.0)'],
    ['ociVersion number', (s) => (s.ociVersion = 1), 'config.json: ociVersion 1 must be a string'],
    ['root missing', (s) => delete s.root, 'config.json: root is required (root.path names the container\'s root filesystem)'],
    ['root.path missing', (s) => delete s.root.path, 'config.json: root.path is required'],
    ['root.path empty', (s) => (s.root.path = ''), 'config.json: root.path "" must name the root filesystem directory'],
    ['root.readonly string', (s) => (s.root.readonly = 'yes'), 'config.json: root.readonly "yes" must be true or false'],
    ['hostname without uts', (s) => {
      s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'uts');
    }, 'config.json: hostname "runc" cannot be set without a private uts namespace; add {"type": "uts"} to linux.namespaces'],
    ['domainname without uts', (s) => {
      delete s.hostname;
      s.domainname = 'example.org';
      s.linux.namespaces = [{ type: 'mount' }];
    }, 'config.json: domainname "example.org" cannot be set without a private uts namespace; add {"type": "uts"} to linux.namespaces'],
    ['annotation value', (s) => (s.annotations = { a: 1 }), 'config.json: annotations.a 1 must be a string'],
    ['linux not object', (s) => (s.linux = []), 'config.json: linux [] must be an object'],
  ];
  for (const [name, mutate, msg] of cases) it(name, () => expectInvalid(mutate, msg));
});

describe('process', () => {
  const cases: Array<[string, (s: any) => void, string]> = [
    ['cwd relative', (s) => (s.process.cwd = 'foo'), 'config.json: process.cwd "foo" must be an absolute path'],
    ['cwd missing', (s) => delete s.process.cwd, 'config.json: process.cwd is required'],
    ['user missing', (s) => delete s.process.user, 'config.json: process.user is required'],
    ['uid string', (s) => (s.process.user.uid = '0'), 'config.json: process.user.uid "0" must be an integer from 0 to 4294967295'],
    ['gid negative', (s) => (s.process.user.gid = -1), 'config.json: process.user.gid -1 must be an integer from 0 to 4294967295'],
    ['uid fraction', (s) => (s.process.user.uid = 1.5), 'config.json: process.user.uid 1.5 must be an integer from 0 to 4294967295'],
    ['additionalGids', (s) => (s.process.user.additionalGids = [1, 'x']), 'config.json: process.user.additionalGids[1] "x" must be an integer from 0 to 4294967295'],
    ['umask', (s) => (s.process.user.umask = 9999), 'config.json: process.user.umask 9999 must be an integer from 0 to 4095'],
    ['args empty', (s) => (s.process.args = []), 'config.json: process.args is required and must have at least one entry'],
    ['args not strings', (s) => (s.process.args = ['sh', 1]), 'config.json: process.args[1] 1 must be a string'],
    ['args NUL', (s) => (s.process.args = ['a\u0000b']), 'config.json: process.args[0] "a\\u0000b" must not contain a NUL byte'],
    ['env without =', (s) => s.process.env.push('FOO'), 'config.json: process.env[2] "FOO" must have the form NAME=value'],
    ['env starting with =', (s) => s.process.env.push('=x'), 'config.json: process.env[2] "=x" must have the form NAME=value'],
    ['terminal', (s) => (s.process.terminal = 1), 'config.json: process.terminal 1 must be true or false'],
    ['consoleSize', (s) => (s.process.consoleSize = { height: 10 }), 'config.json: process.consoleSize.width is required'],
    ['unknown capability', (s) => (s.process.capabilities.bounding = ['CAP_FOO']),
      'config.json: process.capabilities.bounding[0] "CAP_FOO" is not a known capability'],
    ['lower-case capability', (s) => s.process.capabilities.ambient.push('cap_kill'),
      'config.json: process.capabilities.ambient[3] "cap_kill" is not a known capability'],
    ['capability set not array', (s) => (s.process.capabilities.effective = 'CAP_KILL'),
      'config.json: process.capabilities.effective "CAP_KILL" must be an array'],
    ['rlimit type', (s) => (s.process.rlimits[0].type = 'RLIMIT_FOO'),
      'config.json: process.rlimits[0].type "RLIMIT_FOO" is not one of RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_DATA, RLIMIT_STACK, RLIMIT_CORE, RLIMIT_RSS, RLIMIT_NPROC, RLIMIT_NOFILE, RLIMIT_MEMLOCK, RLIMIT_AS, RLIMIT_LOCKS, RLIMIT_SIGPENDING, RLIMIT_MSGQUEUE, RLIMIT_NICE, RLIMIT_RTPRIO, RLIMIT_RTTIME'],
    ['rlimit duplicate', (s) => s.process.rlimits.push({ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }),
      'config.json: process.rlimits[1].type "RLIMIT_NOFILE" is a duplicate of process.rlimits[0]'],
    ['rlimit soft > hard', (s) => (s.process.rlimits[0].soft = 2048),
      'config.json: process.rlimits[0].soft 2048 must not be greater than hard 1024'],
    ['rlimit negative', (s) => (s.process.rlimits[0].hard = -1),
      'config.json: process.rlimits[0].hard -1 must be a non-negative integer'],
    ['rlimit hard missing', (s) => delete s.process.rlimits[0].hard, 'config.json: process.rlimits[0].hard is required'],
    ['oomScoreAdj', (s) => (s.process.oomScoreAdj = 1001), 'config.json: process.oomScoreAdj 1001 must be an integer from -1000 to 1000'],
    ['ioPriority class', (s) => (s.process.ioPriority = { class: 'RT', priority: 1 }),
      'config.json: process.ioPriority.class "RT" is not one of IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE'],
    ['ioPriority priority', (s) => (s.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 8 }),
      'config.json: process.ioPriority.priority 8 must be an integer from 0 to 7'],
    ['scheduler policy', (s) => (s.process.scheduler = { policy: 'FIFO' }),
      'config.json: process.scheduler.policy "FIFO" is not one of SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, SCHED_IDLE, SCHED_DEADLINE'],
    ['scheduler nice', (s) => (s.process.scheduler = { policy: 'SCHED_OTHER', nice: 20 }),
      'config.json: process.scheduler.nice 20 must be an integer from -20 to 19'],
    ['scheduler priority with OTHER', (s) => (s.process.scheduler = { policy: 'SCHED_OTHER', priority: 5 }),
      'config.json: process.scheduler.priority is only valid with SCHED_FIFO or SCHED_RR, not SCHED_OTHER'],
    ['scheduler runtime with RR', (s) => (s.process.scheduler = { policy: 'SCHED_RR', runtime: 5 }),
      'config.json: process.scheduler.runtime is only valid with SCHED_DEADLINE, not SCHED_RR'],
    ['execCPUAffinity', (s) => (s.process.execCPUAffinity = { initial: '0-' }),
      'config.json: process.execCPUAffinity.initial "0-" is not a cpu list like "0-2,4"'],
  ];
  for (const [name, mutate, msg] of cases) it(name, () => expectInvalid(mutate, msg));
  it('accepts RLIM_INFINITY as written in json', () => {
    const s = baseSpec() as any;
    s.process.rlimits[0].hard = 1;
    const text = JSON.stringify(s).replace('"hard":1', '"hard":18446744073709551615');
    parseConfig(text, '/b');
  });
  it('accepts a spec without process', () => void expectValid((s) => delete s.process));
});

describe('mounts and hooks', () => {
  const cases: Array<[string, (s: any) => void, string]> = [
    ['relative destination', (s) => (s.mounts[0].destination = 'proc'), 'config.json: mounts[0].destination "proc" must be an absolute path'],
    ['destination missing', (s) => delete s.mounts[1].destination, 'config.json: mounts[1].destination is required'],
    ['options not strings', (s) => (s.mounts[1].options = ['ro', 5]), 'config.json: mounts[1].options[1] 5 must be a string'],
    ['mounts not array', (s) => (s.mounts = {}), 'config.json: mounts {} must be an array'],
    ['ridmap on proc', (s) => s.mounts[0].options = ['ridmap'],
      'config.json: mounts[0].options[0] "ridmap" (mount on /proc) is only supported for bind mounts, not type "proc"; add "bind" or "rbind" to options'],
    ['idmap bind without userns', (s) => s.mounts.push({ destination: '/x', source: '/x', options: ['rbind', 'idmap'] }),
      'config.json: mounts[7].options[1] "idmap" (mount on /x) needs a user namespace; add {"type": "user"} to linux.namespaces'],
    ['bind without source', (s) => s.mounts.push({ destination: '/x', options: ['bind'] }), 'config.json: mounts[7].source is required for a bind mount'],
    ['idmap without userns', (s) => s.mounts.push({
      destination: '/x', source: '/x', options: ['bind'],
      uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
    }), 'config.json: mounts[7].uidMappings needs a user namespace; add {"type": "user"} to linux.namespaces'],
    ['idmap only uid', (s) => s.mounts.push({
      destination: '/x', source: '/x', options: ['bind'], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
    }), 'config.json: mounts[7].gidMappings is required when the other mapping is given'],
    ['idmap not bind', (s) => {
      s.linux.namespaces.push({ type: 'user' });
      s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 10 }];
      s.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 10 }];
      s.mounts.push({
        destination: '/x', type: 'tmpfs', source: 'tmpfs',
        uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
      });
    }, 'config.json: mounts[7].uidMappings is only supported for bind mounts (add "bind" or "rbind" to options)'],
    ['hook path relative', (s) => (s.hooks = { prestart: [{ path: 'bin/hook' }] }), 'config.json: hooks.prestart[0].path "bin/hook" must be an absolute path'],
    ['hook path missing', (s) => (s.hooks = { poststop: [{ args: [] }] }), 'config.json: hooks.poststop[0].path is required'],
    ['hook timeout 0', (s) => (s.hooks = { createRuntime: [{ path: '/h', timeout: 0 }] }),
      'config.json: hooks.createRuntime[0].timeout 0 must be an integer from 1 to 2147483647'],
    ['hook args', (s) => (s.hooks = { startContainer: [{ path: '/h', args: 'x' }] }), 'config.json: hooks.startContainer[0].args "x" must be an array'],
    ['hook kind not array', (s) => (s.hooks = { poststart: {} }), 'config.json: hooks.poststart {} must be an array'],
  ];
  for (const [name, mutate, msg] of cases) it(name, () => expectInvalid(mutate, msg));
  it('accepts hooks of every kind and unknown kinds', () => {
    expectValid((s) => {
      s.hooks = {
        prestart: [{ path: '/a' }], createRuntime: [{ path: '/b', args: ['b'], env: ['A=1'], timeout: 5 }],
        createContainer: [], startContainer: [], poststart: [], poststop: [], futureHook: [{}],
      };
    });
  });
});
