/** `berth-runtime pause ID` and `resume ID`: freeze and thaw every process of the container. */
import { pauseContainer, resumeContainer } from '../../runtime/lifecycle.js';
import type { Command } from './context.js';

export const pause: Command = {
  name: 'pause',
  usage: 'pause <container-id>',
  summary: 'suspend all processes inside the container',
  flags: [],
  args: [1, 1],
  async run(ctx, p) {
    await pauseContainer(ctx.root, p.positional[0]!);
    return 0;
  },
};

export const resume: Command = {
  name: 'resume',
  usage: 'resume <container-id>',
  summary: 'resume all processes that have been previously paused',
  flags: [],
  args: [1, 1],
  async run(ctx, p) {
    await resumeContainer(ctx.root, p.positional[0]!);
    return 0;
  },
};
