/**
 * `berth events [--since T] [--until T] [--filter KEY=VALUE] [--format json|TEMPLATE]`: the
 * engine's events (create, start, die, oom, kill, stop, pause, unpause, destroy, rename …) read
 * from the event log, then followed until interrupted (or until --until has passed).
 */
import { list, str } from '../args.js';
import { eventMatches, formatEvent, readEvents, type EngineEvent, type EventFilter } from '../../engine/events.js';
import { parseTimeArg } from '../../engine/logs.js';
import { BerthError } from '../../util/errors.js';
import { pause } from '../../util/pause.js';
import { CALLER_GONE, type Command } from './context.js';
import { parseTemplate } from '../go-template.js';

/** Parse `--filter` values (container=, event=, type=; Docker's `status=` is `event=`). */
export function eventFilter(values: string[]): EventFilter {
  const f: EventFilter = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    const key = v.slice(0, eq);
    const value = v.slice(eq + 1);
    if (eq <= 0 || !value) throw new BerthError('EINVALID_ARG', `invalid filter ${JSON.stringify(v)}: use KEY=VALUE`);
    if (key === 'container') (f.container ??= []).push(value);
    else if (key === 'event' || key === 'status') (f.event ??= []).push(value);
    else if (key === 'type') (f.type ??= []).push(value);
    else throw new BerthError('EINVALID_ARG', `invalid filter ${JSON.stringify(key)}: supported are container, event and type`);
  }
  return f;
}

export const events: Command = {
  name: 'events',
  aliases: ['system events'],
  usage: 'events [OPTIONS]',
  summary: 'get real time events from the engine',
  warm: () => true,
  flags: [
    { name: 'since', type: 'string', help: 'show all events created since timestamp' },
    { name: 'until', type: 'string', help: 'stream events until this timestamp' },
    { name: 'filter', aliases: ['f'], type: 'list', help: 'filter output based on conditions provided (container=, event=, type=)' },
    { name: 'format', type: 'string', help: 'format output using a go template or json' },
  ],
  args: [0, 0],
  async run(ctx, p) {
    const f = eventFilter(list(p, 'filter'));
    const since = str(p, 'since');
    const until = str(p, 'until');
    // Docker: without --since only new events are shown.
    f.since = since !== undefined ? parseTimeArg(since, 'since') : Date.now() / 1000;
    if (until !== undefined) f.until = parseTimeArg(until, 'until');
    const format = str(p, 'format');
    // Parsed before the first event, so a bad template fails at once rather than at the next event.
    const tpl = format && format !== 'json' ? parseTemplate(format) : undefined;
    const show = (ev: EngineEvent) => {
      if (!eventMatches(ev, f)) return;
      const line = format === 'json' ? JSON.stringify(ev) : tpl ? tpl.execute(ev) : formatEvent(ev);
      ctx.stdout.write(`${line}\n`);
    };
    let offset = 0;
    for (;;) {
      const r = readEvents(ctx.paths, offset);
      offset = r.offset;
      r.events.forEach(show);
      if (f.until !== undefined && Date.now() / 1000 >= f.until) return 0;
      await pause(100, ctx.gone);
      if (ctx.gone?.aborted) return CALLER_GONE;
    }
  },
};
