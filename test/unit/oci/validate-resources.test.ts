/**
 * parseConfig: `linux.resources`.
 */
import { describe, it } from 'node:test';
import { expectInvalid, expectValid } from './helpers.js';

const res = (r: object) => (s: any) => (s.linux.resources = { ...s.linux.resources, ...r });

describe('linux.resources', () => {
  it('accepts a full set of sane values', () => {
    expectValid(res({
      memory: { limit: 67108864, reservation: 33554432, swap: 134217728, swappiness: 60, disableOOMKiller: false },
      cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0-2,4', mems: '0', realtimeRuntime: -1, idle: 0 },
      pids: { limit: 100 },
      blockIO: { weight: 500, weightDevice: [{ major: 8, minor: 0, weight: 10 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] },
      hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
      network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 500 }] },
      rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 } },
      unified: { 'memory.high': '1G', 'io.max': '8:0 rbps=1' },
    }));
  });
  it('accepts unlimited values', () => {
    expectValid(res({ memory: { limit: -1, swap: -1 }, cpu: { quota: -1 }, pids: { limit: -1 } }));
    expectValid(res({ memory: { limit: 1000000, swap: -1 } }));
    expectValid(res({ memory: { limit: -1, swap: 1000 } }));
  });
  const cases: Array<[string, (s: any) => void, string]> = [
    ['memory swap below limit', res({ memory: { limit: 2000000, swap: 1000000 } }),
      'config.json: linux.resources.memory.swap 1000000 must be at least memory.limit 2000000 (swap counts memory plus swap), or -1 for unlimited'],
    ['memory limit -2', res({ memory: { limit: -2 } }), 'config.json: linux.resources.memory.limit -2 must be an integer of at least -1'],
    ['memory limit string', res({ memory: { limit: '64m' } }), 'config.json: linux.resources.memory.limit "64m" must be an integer of at least -1'],
    ['swappiness 101', res({ memory: { swappiness: 101 } }), 'config.json: linux.resources.memory.swappiness 101 must be an integer from 0 to 100'],
    ['oom killer', res({ memory: { disableOOMKiller: 'true' } }), 'config.json: linux.resources.memory.disableOOMKiller "true" must be true or false'],
    ['cpu shares negative', res({ cpu: { shares: -1 } }), 'config.json: linux.resources.cpu.shares -1 must be a non-negative integer'],
    ['cpu quota tiny', res({ cpu: { quota: 10 } }), 'config.json: linux.resources.cpu.quota 10 must be -1 (unlimited) or at least 1000 (microseconds)'],
    ['cpu period', res({ cpu: { period: 2000000 } }), 'config.json: linux.resources.cpu.period 2000000 must be from 1000 to 1000000 (microseconds)'],
    ['cpus syntax', res({ cpu: { cpus: '0-2;4' } }), 'config.json: linux.resources.cpu.cpus "0-2;4" is not a cpu list like "0-2,4"'],
    ['cpus reversed range', res({ cpu: { cpus: '3-1' } }), 'config.json: linux.resources.cpu.cpus "3-1" is not a cpu list like "0-2,4"'],
    ['mems syntax', res({ cpu: { mems: 'all' } }), 'config.json: linux.resources.cpu.mems "all" is not a cpu list like "0-2,4"'],
    ['cpu idle', res({ cpu: { idle: 2 } }), 'config.json: linux.resources.cpu.idle 2 must be an integer from 0 to 1'],
    ['pids limit missing', res({ pids: {} }), 'config.json: linux.resources.pids.limit is required'],
    ['blkio weight', res({ blockIO: { weight: 5 } }), 'config.json: linux.resources.blockIO.weight 5 must be from 10 to 1000'],
    ['blkio weight high', res({ blockIO: { weight: 1001 } }), 'config.json: linux.resources.blockIO.weight 1001 must be an integer from 0 to 1000'],
    ['throttle rate missing', res({ blockIO: { throttleWriteIOPSDevice: [{ major: 8, minor: 0 }] } }),
      'config.json: linux.resources.blockIO.throttleWriteIOPSDevice[0].rate is required'],
    ['hugepage size', res({ hugepageLimits: [{ pageSize: '2M', limit: 1 }] }),
      'config.json: linux.resources.hugepageLimits[0].pageSize "2M" must be a size like "2MB" or "1GB"'],
    ['device access empty', res({ devices: [{ allow: true, access: '' }] }),
      'config.json: linux.resources.devices[0].access is required (a combination of r, w and m)'],
    ['device access bad', res({ devices: [{ allow: true, access: 'rx' }] }),
      'config.json: linux.resources.devices[0].access "rx" must be a combination of r, w and m'],
    ['device allow missing', res({ devices: [{ access: 'rwm' }] }), 'config.json: linux.resources.devices[0].allow is required'],
    ['device type', res({ devices: [{ allow: true, type: 'p', access: 'r' }] }),
      'config.json: linux.resources.devices[0].type "p" is not one of a, b, c'],
    ['unified key with slash', res({ unified: { '../memory.max': '1' } }),
      'config.json: linux.resources.unified.../memory.max must name a cgroup file like "memory.high" (no "/")'],
    ['network classID', res({ network: { classID: -1 } }), 'config.json: linux.resources.network.classID -1 must be an integer from 0 to 4294967295'],
  ];
  for (const [name, mutate, msg] of cases) it(name, () => expectInvalid(mutate, msg));
});
