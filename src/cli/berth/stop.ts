/**
 * `berth stop [-t SECONDS] [-s SIGNAL] CONTAINER...`: the stop signal (SIGTERM, or the
 * container's --stop-signal), then SIGKILL to every process after the timeout (default 10 s, or
 * the container's --stop-timeout). The outcome then says "stopped by berth stop", never an OOM kill.
 */
import { int, str } from '../args.js';
import { stopEngineContainer } from '../../engine/containers.js';
import { EngineStore } from '../../engine/store.js';
import type { Command } from './context.js';
import { eachContainer } from './each.js';

export const stop: Command = {
  name: 'stop',
  aliases: ['container stop'],
  usage: 'stop [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'stop one or more running containers',
  warm: () => true,
  flags: [
    { name: 'time', aliases: ['t', 'timeout'], type: 'int', help: 'seconds to wait before killing the container' },
    { name: 'signal', aliases: ['s'], type: 'string', help: 'signal to send to the container' },
  ],
  args: [1, -1],
  run(ctx, p) {
    const signal = str(p, 'signal');
    return eachContainer(ctx, p.positional, async (ref) => {
      if (signal) {
        const store = new EngineStore(ctx.paths);
        const rec = store.find(ref);
        await store.locked(rec.Id, () => {
          const r = store.load(rec.Id);
          if (r) { r.Config.StopSignal = signal; store.save(r); }
        });
      }
      await stopEngineContainer(ctx.paths, ref, int(p, 'time'), ctx.gone);
    });
  },
};
