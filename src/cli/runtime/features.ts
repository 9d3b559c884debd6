/** `berth-runtime features`: what this runtime supports, as JSON generated from its own tables. */
import { features as featuresDoc } from '../../oci/features.js';
import type { Command } from './context.js';

export const features: Command = {
  name: 'features',
  usage: 'features',
  summary: 'show the enabled features',
  flags: [],
  args: [0, 0],
  run(ctx) {
    ctx.out(JSON.stringify(featuresDoc(), null, '    ') + '\n');
    return 0;
  },
};
