/**
 * Docker's /containers endpoints over the engine: list, create, inspect, start, stop, kill,
 * wait, logs, remove. The same engine functions the CLI calls (src/engine/), with dockerd's
 * status codes and shapes (moby api/server/router/container).
 */
import { closeSync, openSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EngineCaller } from '../engine/caller.js';
import { findContainer, inspectDocument, listEngineContainers, refresh, removeEngineContainer, stopEngineContainer, waitNotRunning } from '../engine/containers.js';
import { openStdinWriter, resizeDetached, type StdinWriter } from '../engine/attach.js';
import { createEngineContainer } from '../engine/create.js';
import { recordMountPoints } from '../engine/volumes.js';
import { matchesContainerFilters } from '../engine/container-filters.js';
import { restartEngineContainer } from '../engine/restart.js';
import { pauseEngineContainer, pruneContainers, renameEngineContainer, updateEngineContainer, type UpdateFields } from '../engine/control.js';
import { killEngineContainer } from '../engine/launch.js';
import { eventsPath, readEvents } from '../engine/events.js';
import { fixedNanos, parseTimeArg, readLog, type LogEntry } from '../engine/logs.js';
import { startDetached } from '../engine/monitor.js';
import { publishedPorts } from '../engine/networking.js';
import { statusText } from '../engine/status.js';
import { EngineStore, type EnginePaths, type EngineRecord } from '../engine/store.js';
import { BerthError } from '../util/errors.js';
import { createRequestFromBody, isZero } from './create-body.js';
import { ApiError, boolParam, filtersParam, frame, intParam, readJson, sendEmpty, sendJson, streamType } from './http.js';

/**
 * What a streaming handler gets (attach, exec start: the routes a client may hijack), on a plain
 * response or on a hijacked connection alike: the engine's paths and caller, the query, the
 * route's captures, and the answer's stream.
 */
export interface StreamContext {
  paths: EnginePaths;
  caller: EngineCaller;
  query: URLSearchParams;
  params: string[];
  /** Aborted when the client goes away (a follow or a wait ends with it). */
  gone: AbortSignal;
  /** The request's JSON body (`{}` when empty). */
  body(): Promise<Record<string, unknown>>;
  /** Begin the answer with this Content-Type: the response's body, or the connection after its 101. */
  stream(contentType: string): NodeJS.WritableStream;
  /** On a hijacked connection: what the client sends after its request (a container's stdin). */
  input?: { stream: NodeJS.ReadableStream; head: Buffer };
}

/** What any other handler gets besides: the request and the response. */
export interface ApiContext extends StreamContext {
  req: IncomingMessage;
  res: ServerResponse;
}

/** One of moby's types.Port: a published port, or an exposed one (no IP, no public port). */
interface ApiPort { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }

/** GET /containers/json's summary of one container (moby types.Container). */
export function summary(r: EngineRecord): Record<string, unknown> {
  const ports: ApiPort[] = r.State.Running ? publishedPorts(r).map((p) => ({ IP: p.hostIp || '0.0.0.0', PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.protocol })) : [];
  for (const key of Object.keys(r.Config.ExposedPorts ?? {})) {
    const [port, proto] = key.split('/');
    if (!ports.some((p) => p.PrivatePort === Number(port))) ports.push({ PrivatePort: Number(port), Type: proto ?? 'tcp' });
  }
  return {
    Id: r.Id, Names: [`/${r.Name}`], Image: r.Config.Image || (r.UserRootfs ? r.RootPath : 'host'), ImageID: r.ImageId ?? '',
    Command: [r.Path, ...r.Args].map(shellQuote).join(' '), Created: Math.floor(Date.parse(r.Created) / 1000), Ports: ports, Labels: r.Config.Labels ?? {},
    State: r.State.Status, Status: statusText(r), HostConfig: { NetworkMode: r.HostConfig.NetworkMode || 'none' },
    NetworkSettings: { Networks: r.NetworkSettings?.Networks ?? {} }, Mounts: recordMountPoints(r),
  };
}

/** An argument as dockerd's list shows it: as is when plain, else single-quoted for a shell. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** GET /containers/json?all&limit&filters */
export async function listContainers(c: ApiContext): Promise<void> {
  const filters = filtersParam(c.query);
  // dockerd: stopped containers are listed with all=1, or when a status filter asks for them.
  const all = boolParam(c.query, 'all') || (filters.status ?? []).some((s) => s !== 'running');
  const every = await listEngineContainers(c.paths, true);
  let recs = every.filter((r) => (all || r.State.Running) && matchesContainerFilters(r, filters, every));
  const limit = intParam(c.query, 'limit');
  if (limit !== undefined && limit > 0) recs = recs.slice(0, limit);
  sendJson(c.res, 200, recs.map(summary));
}

/** POST /containers/create?name= */
export async function createContainer(c: ApiContext): Promise<void> {
  // The engine checks the name (Docker's rule, engine/store.ts); a leading / is Docker's spelling.
  const req = createRequestFromBody(await readJson(c.req), c.query.get('name')?.replace(/^\//, '') || undefined);
  if (c.query.get('platform')) req.platform = c.query.get('platform')!;
  const warnings: string[] = [];
  // A missing image is dockerd's 404: the client pulls it (with its progress) and creates again.
  const rec = await createEngineContainer(c.paths, req, (w) => warnings.push(w), {}, { ...c.caller, noPull: true });
  sendJson(c.res, 201, { Id: rec.Id, Warnings: warnings });
}

/** GET /containers/{id}/json */
export async function inspectContainer(c: ApiContext): Promise<void> {
  const rec = await findContainer(c.paths, c.params[0]!);
  sendJson(c.res, 200, inspectDocument(rec, c.paths));
}

/** POST /containers/{id}/start: 204, or 304 when it already runs. */
export async function startContainer(c: ApiContext): Promise<void> {
  const rec = await findContainer(c.paths, c.params[0]!);
  if (rec.State.Running) return sendEmpty(c.res, 304);
  await startDetached(c.paths, rec.Id, () => {}, undefined, c.caller.cgroupOf);
  sendEmpty(c.res, 204);
}

/** POST /containers/{id}/stop?t=SECS: 204, or 304 when it was not running. */
export async function stopContainer(c: ApiContext): Promise<void> {
  const rec = await findContainer(c.paths, c.params[0]!);
  if (!rec.State.Running) return sendEmpty(c.res, 304);
  await stopEngineContainer(c.paths, rec.Id, intParam(c.query, 't'));
  sendEmpty(c.res, 204);
}

/** POST /containers/{id}/kill?signal=SIG (SIGKILL by default) */
export async function killContainer(c: ApiContext): Promise<void> {
  // A container that is not running: the engine's EBAD_STATE, dockerd's 409.
  const rec = await findContainer(c.paths, c.params[0]!);
  await killEngineContainer(c.paths, rec.Id, c.query.get('signal') || 'SIGKILL', 'the Engine API (kill)');
  sendEmpty(c.res, 204);
}

/**
 * POST /containers/{id}/wait?condition=not-running|next-exit|removed: the exit status once the
 * condition holds. next-exit of a container that is not running waits for it to start and end.
 */
export async function waitContainer(c: ApiContext): Promise<void> {
  const condition = c.query.get('condition') || 'not-running';
  if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw new ApiError(400, `invalid condition ${JSON.stringify(condition)}: use not-running, next-exit or removed`);
  const rec = await findContainer(c.paths, c.params[0]!);
  const store = new EngineStore(c.paths);
  // A container removed when it ends (--rm) takes its record along: its exit status is then the
  // one its `die` event recorded, in the events written from now on.
  let eventsFrom = 0;
  try { eventsFrom = statSync(eventsPath(c.paths)).size; } catch { /* no events yet */ }
  // The status line goes out at once, the body when the condition holds: a client (the docker
  // CLI's run) waits for the headers of its wait before it sends the start (dockerd does the same).
  c.res.writeHead(200, { 'Content-Type': 'application/json' });
  c.res.flushHeaders();
  if (condition === 'next-exit' && !rec.State.Running) {
    // Until a start records it running (a client's create → wait → start).
    while (!c.gone.aborted) {
      const r = store.load(rec.Id);
      if (!r || r.State.Running || Date.parse(r.State.StartedAt) > Date.parse(rec.State.StartedAt)) break;
      await new Promise((res) => setTimeout(res, 20));
    }
  }
  const end = await waitNotRunning(c.paths, rec.Id, -1, c.gone);
  if (condition === 'removed') {
    while (!c.gone.aborted && store.load(rec.Id)) await new Promise((res) => setTimeout(res, 50));
  }
  let status = (end ?? rec).State.ExitCode;
  let error = (end ?? rec).State.Error;
  if (!end || !store.load(rec.Id)) {
    const die = readEvents(c.paths, eventsFrom).events.filter((e) => e.id === rec.Id && e.Action === 'die').pop();
    if (die) { status = Number(die.Actor.Attributes.exitCode ?? status); error = ''; }
  }
  c.res.end(`${JSON.stringify({ StatusCode: status, Error: error ? { Message: error } : null })}\n`);
}

/**
 * Write log entries to `out` as dockerd streams them: the chosen streams only, multiplexed
 * frames without a TTY (stdout 1, stderr 2), the bare bytes with one.
 */
function logWriter(out: NodeJS.WritableStream, o: { tty: boolean; stdout: boolean; stderr: boolean; timestamps?: boolean }): (e: LogEntry) => void {
  return (e) => {
    if (e.stream === 'stdout' ? !o.stdout : !o.stderr) return;
    const payload = Buffer.from(o.timestamps ? `${fixedNanos(e.time)} ${e.log}` : e.log);
    out.write(o.tty ? payload : frame(e.stream === 'stdout' ? 1 : 2, payload));
  };
}

/** GET /containers/{id}/logs?stdout&stderr&follow&timestamps&tail&since&until */
export async function containerLogs(c: ApiContext): Promise<void> {
  const rec = await findContainer(c.paths, c.params[0]!);
  const q = c.query;
  const wantOut = boolParam(q, 'stdout');
  const wantErr = boolParam(q, 'stderr');
  if (!wantOut && !wantErr) throw new ApiError(400, 'Bad parameters: you must choose at least one stream');
  const tailText = q.get('tail') || 'all';
  if (tailText !== 'all' && !/^-?\d+$/.test(tailText)) throw new ApiError(400, `invalid value for tail ${JSON.stringify(tailText)}: a number or "all"`);
  const time = (name: string) => { const v = q.get(name); return v && v !== '0' ? parseTimeArg(v, name) : undefined; };
  const store = new EngineStore(c.paths);
  c.res.writeHead(200, { 'Content-Type': streamType(rec.Config.Tty) });
  await readLog(store.logPath(rec.Id), {
    tail: tailText === 'all' || Number(tailText) < 0 ? undefined : Number(tailText),
    since: time('since'), until: time('until'),
    follow: boolParam(q, 'follow'), signal: c.gone,
    done: async () => {
      const r = store.load(rec.Id);
      return !r || !(await refresh(c.paths, r))?.State.Running;
    },
  }, logWriter(c.res, { tty: rec.Config.Tty, stdout: wantOut, stderr: wantErr, timestamps: boolParam(q, 'timestamps') }));
  c.res.end();
}

/** DELETE /containers/{id}?force&v */
export async function deleteContainer(c: ApiContext): Promise<void> {
  // A running container without force: the engine's EBAD_STATE (Docker's words), dockerd's 409.
  await removeEngineContainer(c.paths, c.params[0]!, boolParam(c.query, 'force'), { volumes: boolParam(c.query, 'v') });
  sendEmpty(c.res, 204);
}

/** Copy `input` into the container's stdin fifo once its monitor opens it (after the start). */
function feedStdin(paths: EnginePaths, id: string, input: { stream: NodeJS.ReadableStream; head: Buffer }, gone: AbortSignal): void {
  const pending: Buffer[] = input.head.length ? [input.head] : [];
  let writer: StdinWriter | undefined;
  let ended = false;
  input.stream.on('data', (d: Buffer) => { if (writer) writer.write(d); else pending.push(d); });
  input.stream.once('end', () => { ended = true; if (writer) void writer.end(); });
  input.stream.resume();
  void (async () => {
    const store = new EngineStore(paths);
    while (!gone.aborted) {
      const w = await openStdinWriter(paths, id, 500);
      if (w) {
        writer = w;
        for (const d of pending.splice(0)) w.write(d);
        if (ended) await w.end();
        return;
      }
      // Not started yet: keep waiting while it may still start; a container that ran and ended is done.
      const r = store.load(id);
      if (!r || r.State.Status === 'exited' || r.State.Status === 'dead') return;
    }
  })();
}

/** POST /containers/{id}/pause and /unpause */
export async function pauseContainer(c: ApiContext, pause: boolean): Promise<void> {
  const rec = await findContainer(c.paths, c.params[0]!);
  await pauseEngineContainer(c.paths, rec.Id, pause);
  sendEmpty(c.res, 204);
}

/** POST /containers/{id}/rename?name= */
export async function renameContainer(c: ApiContext): Promise<void> {
  const name = c.query.get('name');
  if (!name) throw new ApiError(400, 'name is required (rename?name=NEW)');
  const rec = await findContainer(c.paths, c.params[0]!);
  await renameEngineContainer(c.paths, rec.Id, name);
  sendEmpty(c.res, 204);
}

/** POST /containers/{id}/restart?t=: stop (when running), then start. */
export async function restartContainer(c: ApiContext): Promise<void> {
  await restartEngineContainer(c.paths, c.params[0]!, intParam(c.query, 't'), () => {}, c.caller.cgroupOf);
  sendEmpty(c.res, 204);
}

/** The fields of Docker's UpdateConfig that Berth's update changes (engine/control.ts). */
const UPDATE_FIELDS = ['Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuShares', 'CpuPeriod', 'CpuQuota', 'CpusetCpus', 'CpusetMems', 'PidsLimit', 'BlkioWeight', 'RestartPolicy'] as const;

/**
 * POST /containers/{id}/update: as dockerd, a zero field is "unchanged" (clients send every field);
 * a non-zero field Berth cannot change is a 400 naming it.
 */
export async function updateContainer(c: ApiContext): Promise<void> {
  const body = await readJson(c.req);
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (isZero(v)) continue;
    if (!(UPDATE_FIELDS as readonly string[]).includes(k)) throw new ApiError(400, `${k} cannot be updated by Berth: it changes ${UPDATE_FIELDS.join(', ')}`);
    fields[k] = v;
  }
  const rec = await findContainer(c.paths, c.params[0]!);
  await updateEngineContainer(c.paths, rec.Id, fields as UpdateFields, c.caller.cgroupOf);
  sendJson(c.res, 200, { Warnings: [] });
}

/** POST /containers/prune */
export async function pruneContainersApi(c: ApiContext): Promise<void> {
  if (Object.keys(filtersParam(c.query)).length) throw new ApiError(400, 'container prune filters are not supported by Berth yet');
  const removed = await pruneContainers(c.paths);
  sendJson(c.res, 200, { ContainersDeleted: removed.length ? removed : null, SpaceReclaimed: 0 });
}

/**
 * POST /containers/{id}/attach?stream=1&stdout=1&stderr=1 (what `docker run` without -d and
 * `docker attach` send, before or after the start): the container's output from now on, on the
 * answer's stream (the hijacked connection or the response), multiplexed without a TTY, until it stops.
 * The output comes from the container's log (the monitor writes every line there), so an attach
 * made before the start sees everything the container prints. With stdin=1 (`docker run -i`),
 * what the client sends on `input` (the hijacked connection; `head`, what came with the headers,
 * first) goes to the container's stdin fifo once its monitor reads it, and the client's end of
 * sending closes it (the container sees EOF, Docker's StdinOnce).
 */
export async function streamAttach(c: StreamContext): Promise<void> {
  const { paths, query, gone, input } = c;
  const ref = c.params[0]!;
  const rec = await findContainer(paths, ref);
  if (boolParam(query, 'logs')) throw new ApiError(400, 'attach with logs=1 is not served yet: read GET /containers/{id}/logs first');
  const withStdin = boolParam(query, 'stdin') && rec.Config.OpenStdin;
  if (withStdin && !input) throw new ApiError(400, 'attaching stdin needs the hijacked connection (Connection: Upgrade, Upgrade: tcp)');
  const out = c.stream(streamType(rec.Config.Tty));
  if (withStdin) feedStdin(paths, rec.Id, input!, gone);
  // Without stdin what the client sends is dropped: the connection keeps being read, so that its close is seen.
  else input?.stream.resume();
  if (!boolParam(query, 'stream')) return;
  const store = new EngineStore(paths);
  const startedAt = rec.State.StartedAt;
  let seenRunning = rec.State.Running;
  // Held open from now on (made if the container never ran): with --rm the file goes with the
  // container, possibly before the next read; the monitor appends to this same file.
  let fd: number;
  try { fd = openSync(store.logPath(rec.Id), 'a+', 0o640); } catch (err) { throw new BerthError('ENOT_FOUND', `container ${ref} is gone: ${(err as Error).message}`); }
  try {
    await readLog(store.logPath(rec.Id), {
      tail: 0, follow: true, signal: gone, fd,
      // Done once it ran and stopped (a container attached before its start is waited for).
      done: async () => {
        let now: EngineRecord | undefined;
        try {
          const r = store.load(rec.Id);
          now = r && await refresh(paths, r);
        } catch {
          // A --rm container can go while it is being looked at (the next read still gets its
          // last lines, through fd).
        }
        if (!now) return true;
        if (now.State.Running) { seenRunning = true; return false; }
        return seenRunning || now.State.StartedAt !== startedAt;
      },
    }, logWriter(out, { tty: rec.Config.Tty, stdout: boolParam(query, 'stdout'), stderr: boolParam(query, 'stderr') }));
  } finally {
    closeSync(fd);
  }
}

/** POST /containers/{id}/resize?h=ROWS&w=COLS: the TTY's size (a container without one: 200, nothing to do, as dockerd). */
export async function resizeContainer(c: ApiContext): Promise<void> {
  const h = intParam(c.query, 'h');
  const w = intParam(c.query, 'w');
  if (!h || !w || h < 0 || w < 0) throw new ApiError(400, 'h and w (rows and columns, both above 0) are required');
  const rec = await findContainer(c.paths, c.params[0]!);
  if (!rec.State.Running) throw new ApiError(409, `Container ${rec.Id} is not running`);
  if (rec.Config.Tty) await resizeDetached(c.paths, rec, h, w);
  sendEmpty(c.res, 200);
}
