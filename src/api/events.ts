/**
 * GET /events?since&until&filters: the engine's event log (engine/events.ts) as dockerd streams
 * it, one JSON object a line. Without `until` it follows new events until the client goes.
 */
import { statSync } from 'node:fs';
import { eventMatches, eventsPath, readEvents, type EngineEvent, type EventFilter } from '../engine/events.js';
import { parseTimeArg } from '../engine/logs.js';
import { pause } from '../util/pause.js';
import type { ApiContext } from './containers.js';
import { ApiError, filtersParam } from './http.js';

/** GET /events */
export async function streamEvents(c: ApiContext): Promise<void> {
  const filters = filtersParam(c.query);
  const unknown = Object.keys(filters).filter((k) => !['container', 'event', 'type'].includes(k));
  if (unknown.length) throw new ApiError(400, `invalid filter '${unknown[0]}': Berth filters events by container, event and type`);
  const time = (name: string) => { const v = c.query.get(name); return v ? parseTimeArg(v, name) : undefined; };
  const f: EventFilter = { since: time('since'), until: time('until'), ...filters };
  c.res.writeHead(200, { 'Content-Type': 'application/json' });
  c.res.flushHeaders();
  const send = (list: EngineEvent[]) => { for (const e of list) if (eventMatches(e, f)) c.res.write(`${JSON.stringify(e)}\n`); };
  // Past events only when asked for (since); otherwise from the log's end on, as dockerd.
  let offset = 0;
  let events: EngineEvent[];
  if (f.since !== undefined) {
    ({ events, offset } = readEvents(c.paths));
    send(events);
  } else {
    try { offset = statSync(eventsPath(c.paths)).size; } catch { /* no events yet */ }
  }
  while (!c.gone.aborted && (f.until === undefined || Date.now() / 1000 <= f.until)) {
    await pause(200, c.gone);
    ({ events, offset } = readEvents(c.paths, offset));
    send(events);
  }
  c.res.end();
}
