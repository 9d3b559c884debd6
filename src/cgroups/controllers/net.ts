/**
 * net_cls and net_prio (cgroup v1 only). v2 has neither: packets are matched on the cgroup path
 * instead (nftables "socket cgroupv2", or an eBPF cgroup_skb program), so the knobs fail there.
 */
import type { LinuxResources } from '../../oci/spec.js';
import { writeValue } from '../files.js';
import { type Controller, unsupported, checkInt, invalid } from './controller.js';

/** The cgroup v1 net_cls controller: network.classID → net_cls.classid. */
export const netClsV1: Controller = {
  name: 'net_cls',
  wants: (r: LinuxResources) => r.network?.classID !== undefined,
  validate(_dir, r) {
    checkInt('network.classID', r.network!.classID, 0, 0xffffffff);
  },
  apply(dir, r) {
    writeValue(dir, 'net_cls.classid', r.network!.classID!);
  },
};

/** The cgroup v1 net_prio controller: network.priorities → net_prio.ifpriomap, one write each. */
export const netPrioV1: Controller = {
  name: 'net_prio',
  wants: (r: LinuxResources) => !!r.network?.priorities?.length,
  validate(_dir, r) {
    for (const [i, p] of r.network!.priorities!.entries()) {
      if (!/^[^\s/]{1,15}$/.test(p.name)) throw invalid(`network.priorities[${i}].name`, `${JSON.stringify(p.name)} is not an interface name`);
      checkInt(`network.priorities[${i}].priority`, p.priority, 0, 0xffffffff);
    }
  },
  apply(dir, r) {
    for (const p of r.network!.priorities!) writeValue(dir, 'net_prio.ifpriomap', `${p.name} ${p.priority}`);
  },
};

/** On v2 the network knobs have no file; fail loudly with the alternative. */
export const networkV2: Controller = {
  name: null,
  wants: (r: LinuxResources) => r.network?.classID !== undefined || !!r.network?.priorities?.length,
  validate(_dir, r) {
    const knob = r.network!.classID !== undefined ? 'network.classID' : 'network.priorities';
    throw unsupported(knob, 'cgroup v2 has no net_cls/net_prio controllers', 'match the container\'s cgroup path in nftables ("socket cgroupv2") instead');
  },
  apply() {},
};
