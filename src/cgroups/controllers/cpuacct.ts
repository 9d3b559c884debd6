/**
 * cpuacct controller (v1 only; on v2 usage is in cpu.stat). Mounted separately on this host and
 * co-mounted as "cpu,cpuacct" on most others: the manager treats both the same, because the
 * host detection maps each controller to its mount. Nothing to apply; usage statistics only.
 */
import { readOpt, readNumber, parseFlatKeyed, parseNumberList } from '../files.js';
import type { Controller } from './controller.js';

/** USER_HZ: the unit of cpuacct.stat (100 on every Linux architecture Node runs on). */
const CLOCK_TICKS = 100;

/** The cgroup v1 cpuacct controller. */
export const cpuacctV1: Controller = {
  name: 'cpuacct',
  wants: () => false,
  validate() {},
  apply() {},
  stats(dir, out) {
    const total = readNumber(dir, 'cpuacct.usage');
    if (total === undefined) return;
    out.cpu ??= { usageTotal: 0, raw: {} };
    out.cpu.usageTotal = total;
    // cpuacct.usage_user/_sys are in ns (linux ≥ 4.6); cpuacct.stat is in USER_HZ ticks.
    const user = readNumber(dir, 'cpuacct.usage_user');
    const sys = readNumber(dir, 'cpuacct.usage_sys');
    if (user !== undefined && sys !== undefined) {
      out.cpu.usageUser = user;
      out.cpu.usageSystem = sys;
    } else {
      const st = parseFlatKeyed(readOpt(dir, 'cpuacct.stat'));
      if (st?.['user'] !== undefined) out.cpu.usageUser = (st['user'] * 1e9) / CLOCK_TICKS;
      if (st?.['system'] !== undefined) out.cpu.usageSystem = (st['system'] * 1e9) / CLOCK_TICKS;
    }
    const percpu = parseNumberList(readOpt(dir, 'cpuacct.usage_percpu'));
    if (percpu) out.cpu.percpu = percpu;
  },
};
