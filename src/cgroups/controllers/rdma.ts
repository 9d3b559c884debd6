/** rdma controller: rdma.max "<device> hca_handle=N hca_object=N", the same on v1 and v2. */
import type { LinuxResources } from '../../oci/spec.js';
import { readOpt, writeValue } from '../files.js';
import { type Controller, checkInt, invalid, unsupported } from './controller.js';

/** The rdma controller (both versions). */
export const rdmaController: Controller = {
  name: 'rdma',
  wants: (r: LinuxResources) => !!r.rdma && Object.keys(r.rdma).length > 0,
  validate(dir, r) {
    const current = readOpt(dir, 'rdma.max') ?? '';
    for (const [dev, lim] of Object.entries(r.rdma!)) {
      if (!/^\S+$/.test(dev)) throw invalid(`rdma[${JSON.stringify(dev)}]`, 'device name must not contain spaces');
      checkInt(`rdma[${dev}].hcaHandles`, lim.hcaHandles, 0);
      checkInt(`rdma[${dev}].hcaObjects`, lim.hcaObjects, 0);
      if (!current.split('\n').some((l) => l.startsWith(dev + ' '))) {
        throw unsupported(`rdma[${JSON.stringify(dev)}]`, 'no such rdma device in rdma.max', 'check the name with "rdma link" on the host');
      }
    }
  },
  apply(dir, r) {
    for (const [dev, lim] of Object.entries(r.rdma!)) {
      const parts = [dev];
      if (lim.hcaHandles !== undefined) parts.push(`hca_handle=${lim.hcaHandles}`);
      if (lim.hcaObjects !== undefined) parts.push(`hca_object=${lim.hcaObjects}`);
      if (parts.length > 1) writeValue(dir, 'rdma.max', parts.join(' '));
    }
  },
};
