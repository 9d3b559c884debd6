/**
 * parseConfig: the `linux` object — namespaces, id mappings, sysctl, devices, seccomp, misc.
 */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sysctlDots } from '../../../src/oci/validate-linux.js';
import { expectInvalid, expectValid } from './helpers.js';

const NS_LIST = 'pid, network, mount, ipc, uts, user, cgroup, time';
const userns = (s: any) => {
  s.linux.namespaces.push({ type: 'user' });
  s.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  s.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
};

describe('namespaces', () => {
  const cases: Array<[string, (s: any) => void, string]> = [
    ['unknown type', (s) => (s.linux.namespaces[2].type = 'pidd'), `config.json: linux.namespaces[2].type "pidd" is not one of ${NS_LIST}`],
    ['type missing', (s) => (s.linux.namespaces[0] = {}), 'config.json: linux.namespaces[0].type is required'],
    ['duplicate', (s) => s.linux.namespaces.push({ type: 'pid', path: '/proc/1/ns/pid' }),
      'config.json: linux.namespaces[5].type "pid" is a duplicate of linux.namespaces[0]'],
    ['relative path', (s) => (s.linux.namespaces[1].path = 'proc/1/ns/net'),
      'config.json: linux.namespaces[1].path "proc/1/ns/net" must be an absolute path'],
    ['entry not object', (s) => (s.linux.namespaces[1] = 'net'), 'config.json: linux.namespaces[1] "net" must be an object'],
  ];
  for (const [name, mutate, msg] of cases) it(name, () => expectInvalid(mutate, msg));
});

describe('user namespace and id mappings', () => {
  const cases: Array<[string, (s: any) => void, string]> = [
    ['new userns without uid map', (s) => s.linux.namespaces.push({ type: 'user' }),
      'config.json: linux.uidMappings is required when linux.namespaces creates a user namespace'],
    ['new userns without gid map', (s) => {
      userns(s);
      delete s.linux.gidMappings;
    }, 'config.json: linux.gidMappings is required when linux.namespaces creates a user namespace'],
    ['mappings without userns', (s) => (s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]),
      'config.json: linux.uidMappings needs a user namespace; add {"type": "user"} to linux.namespaces'],
    ['size 0', (s) => {
      userns(s);
      s.linux.uidMappings[0].size = 0;
    }, 'config.json: linux.uidMappings[0].size 0 must be an integer from 1 to 4294967295'],
    ['hostID missing', (s) => {
      userns(s);
      delete s.linux.gidMappings[0].hostID;
    }, 'config.json: linux.gidMappings[0].hostID is required'],
    ['overlap', (s) => {
      userns(s);
      s.linux.uidMappings.push({ containerID: 1000, hostID: 0, size: 1 });
    }, 'config.json: linux.uidMappings[1] container ids 1000-1000 overlap linux.uidMappings[0]'],
    ['range past 2^32', (s) => {
      userns(s);
      s.linux.uidMappings[0].containerID = 4294967295;
      s.linux.uidMappings[0].size = 2;
    }, 'config.json: linux.uidMappings[0].size 2 makes the range run past id 4294967295'],
  ];
  for (const [name, mutate, msg] of cases) it(name, () => expectInvalid(mutate, msg));
  it('joining a user namespace needs no mappings', () => {
    expectValid((s) => s.linux.namespaces.push({ type: 'user', path: '/proc/1/ns/user' }));
  });
  it('accepts an id-mapped bind mount inside a user namespace', () => {
    expectValid((s) => {
      userns(s);
      s.mounts.push({
        destination: '/x', source: '/x', options: ['rbind'],
        uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
        gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      });
    });
  });
});

describe('time offsets', () => {
  it('needs a time namespace', () => expectInvalid((s) => (s.linux.timeOffsets = { monotonic: { secs: 1 } }),
    'config.json: linux.timeOffsets needs a time namespace; add {"type": "time"} to linux.namespaces'));
  it('knows the clocks', () => expectInvalid((s) => {
    s.linux.namespaces.push({ type: 'time' });
    s.linux.timeOffsets = { realtime: { secs: 1 } };
  }, 'config.json: linux.timeOffsets.realtime "realtime" is not one of monotonic, boottime'));
  it('checks nanosecs', () => expectInvalid((s) => {
    s.linux.namespaces.push({ type: 'time' });
    s.linux.timeOffsets = { boottime: { nanosecs: 1e9 } };
  }, 'config.json: linux.timeOffsets.boottime.nanosecs 1000000000 must be an integer from 0 to 999999999'));
});

describe('sysctl', () => {
  const withoutNs = (s: any, type: string) => (s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== type));
  const cases: Array<[string, (s: any) => void, string]> = [
    ['net without netns', (s) => {
      withoutNs(s, 'network');
      s.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
    }, 'config.json: linux.sysctl.net.ipv4.ip_forward is not allowed in the host network namespace'],
    ['net in joined host netns', (s) => {
      s.linux.namespaces[1].path = '/proc/self/ns/net';
      s.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
    }, 'config.json: linux.sysctl.net.ipv4.ip_forward is not allowed in the host network namespace'],
    ['ipc without ipcns', (s) => {
      withoutNs(s, 'ipc');
      s.linux.sysctl = { 'kernel.shmmax': '1' };
    }, 'config.json: linux.sysctl.kernel.shmmax is not allowed without a private ipc namespace'],
    ['mqueue without ipcns', (s) => {
      withoutNs(s, 'ipc');
      s.linux.sysctl = { 'fs.mqueue.msg_max': '1' };
    }, 'config.json: linux.sysctl.fs.mqueue.msg_max is not allowed without a private ipc namespace'],
    ['kernel.hostname', (s) => (s.linux.sysctl = { 'kernel.hostname': 'x' }),
      'config.json: linux.sysctl.kernel.hostname is not allowed as it conflicts with the hostname field; set hostname instead'],
    ['domainname without uts', (s) => {
      withoutNs(s, 'uts');
      delete s.hostname;
      s.linux.sysctl = { 'kernel.domainname': 'x' };
    }, 'config.json: linux.sysctl.kernel.domainname is not in a separate kernel namespace and would change the host'],
    ['host-wide sysctl', (s) => (s.linux.sysctl = { 'vm.swappiness': '10' }),
      'config.json: linux.sysctl.vm.swappiness is not in a separate kernel namespace and would change the host'],
    ['slash form', (s) => {
      withoutNs(s, 'network');
      s.linux.sysctl = { 'net/ipv4/ip_forward': '1' };
    }, 'config.json: linux.sysctl.net/ipv4/ip_forward is not allowed in the host network namespace'],
    ['value not string', (s) => (s.linux.sysctl = { 'kernel.shmmax': 1 }), 'config.json: linux.sysctl.kernel.shmmax 1 must be a string'],
  ];
  for (const [name, mutate, msg] of cases) it(name, () => expectInvalid(mutate, msg));
  it('accepts namespaced sysctls', () => {
    expectValid((s) => {
      s.linux.sysctl = {
        'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1', 'kernel.sem': '1 2 3 4', 'fs.mqueue.queues_max': '1',
        'kernel.domainname': 'x', 'net/ipv4/conf/eth0.100/rp_filter': '1',
      };
    });
  });
  it('normalises slash separators like sysctl(8)', () => {
    assert.equal(sysctlDots('net/ipv4/conf/eno2.100/rp_filter'), 'net.ipv4.conf.eno2/100.rp_filter');
    assert.equal(sysctlDots('net.ipv4.ip_forward'), 'net.ipv4.ip_forward');
  });
});

describe('devices and misc', () => {
  const cases: Array<[string, (s: any) => void, string]> = [
    ['device type', (s) => (s.linux.devices = [{ path: '/dev/fuse', type: 'x', major: 10, minor: 229 }]),
      'config.json: linux.devices[0].type "x" is not one of c, b, u, p'],
    ['device path relative', (s) => (s.linux.devices = [{ path: 'dev/fuse', type: 'c', major: 10, minor: 229 }]),
      'config.json: linux.devices[0].path "dev/fuse" must be an absolute path'],
    ['device major missing', (s) => (s.linux.devices = [{ path: '/dev/fuse', type: 'c', minor: 229 }]),
      'config.json: linux.devices[0].major is required for a c device'],
    ['device duplicate', (s) => (s.linux.devices = [
      { path: '/dev/fuse', type: 'c', major: 10, minor: 229 }, { path: '/dev/fuse', type: 'c', major: 10, minor: 229 }]),
    'config.json: linux.devices[1].path "/dev/fuse" is a duplicate of linux.devices[0]'],
    ['rootfsPropagation', (s) => (s.linux.rootfsPropagation = 'privat'),
      'config.json: linux.rootfsPropagation "privat" is not one of rprivate, private, rslave, slave, rshared, shared, runbindable, unbindable'],
    ['maskedPaths relative', (s) => s.linux.maskedPaths.push('proc/kcore'),
      'config.json: linux.maskedPaths[10] "proc/kcore" must be an absolute path'],
    ['maskedPaths without mount ns', (s) => (s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'mount')),
      'config.json: linux.maskedPaths needs a mount namespace; add {"type": "mount"} to linux.namespaces'],
    ['personality', (s) => (s.linux.personality = { domain: 'LINUX64' }),
      'config.json: linux.personality.domain "LINUX64" is not one of LINUX, LINUX32'],
    ['intelRdt closID', (s) => (s.linux.intelRdt = { closID: '../x' }),
      'config.json: linux.intelRdt.closID "../x" must be a plain directory name (no "/", not "." or "..")'],
    ['cgroupsPath', (s) => (s.linux.cgroupsPath = 5), 'config.json: linux.cgroupsPath 5 must be a string'],
  ];
  for (const [name, mutate, msg] of cases) it(name, () => expectInvalid(mutate, msg));
  it('accepts a fifo without numbers', () => void expectValid((s) => (s.linux.devices = [{ path: '/dev/f', type: 'p' }])));
});

describe('seccomp', () => {
  const base = (s: any) => (s.linux.seccomp = {
    defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_MIPS'],
    syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] }],
  });
  it('accepts a profile', () => void expectValid(base));
  const cases: Array<[string, (s: any) => void, string]> = [
    ['defaultAction missing', (s) => {
      base(s);
      delete s.linux.seccomp.defaultAction;
    }, 'config.json: linux.seccomp.defaultAction is required'],
    ['defaultAction unknown', (s) => {
      base(s);
      s.linux.seccomp.defaultAction = 'SCMP_ACT_DENY';
    }, 'config.json: linux.seccomp.defaultAction "SCMP_ACT_DENY" is not one of SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY'],
    ['arch unknown', (s) => {
      base(s);
      s.linux.seccomp.architectures.push('SCMP_ARCH_AMD64');
    }, /* the list is long; check the prefix below */ ''],
    ['op unknown', (s) => {
      base(s);
      s.linux.seccomp.syscalls[1].args[0].op = 'SCMP_CMP_EQUAL';
    }, 'config.json: linux.seccomp.syscalls[1].args[0].op "SCMP_CMP_EQUAL" is not one of SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ'],
    ['arg index', (s) => {
      base(s);
      s.linux.seccomp.syscalls[1].args[0].index = 6;
    }, 'config.json: linux.seccomp.syscalls[1].args[0].index 6 must be an integer from 0 to 5'],
    ['names empty', (s) => {
      base(s);
      s.linux.seccomp.syscalls[0].names = [];
    }, 'config.json: linux.seccomp.syscalls[0].names is required and must list at least one syscall'],
    ['errnoRet with ALLOW', (s) => {
      base(s);
      s.linux.seccomp.syscalls[0].errnoRet = 1;
    }, 'config.json: linux.seccomp.syscalls[0].errnoRet is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not SCMP_ACT_ALLOW'],
    ['flag unknown', (s) => {
      base(s);
      s.linux.seccomp.flags = ['SECCOMP_FILTER_FLAG_FOO'];
    }, 'config.json: linux.seccomp.flags[0] "SECCOMP_FILTER_FLAG_FOO" is not one of SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW, SECCOMP_FILTER_FLAG_NEW_LISTENER, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
    ['notify without listener', (s) => {
      base(s);
      s.linux.seccomp.syscalls[0].action = 'SCMP_ACT_NOTIFY';
    }, 'config.json: linux.seccomp.listenerPath is required when an action is SCMP_ACT_NOTIFY'],
  ];
  for (const [name, mutate, msg] of cases) {
    if (msg === '') {
      it(name, () => assert.throws(() => expectValid(mutate),
        /^BerthError: config\.json: linux\.seccomp\.architectures\[2\] "SCMP_ARCH_AMD64" is not one of SCMP_ARCH_X86_64, /));
      continue;
    }
    it(name, () => expectInvalid(mutate, msg));
  }
});
