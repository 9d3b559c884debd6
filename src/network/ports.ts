/**
 * Docker's port publishing: `-p/--publish`, `-P/--publish-all` and `--expose` parsed into the
 * shapes Docker keeps (ExposedPorts, HostConfig.PortBindings, as go-connections/nat ParsePortSpecs
 * and the docker CLI make them), resolved into concrete forwards for the network backend, and
 * printed as `docker port` and the PORTS column of `docker ps` print them.
 *
 * Pure: which host ports are free comes in as functions, so the decisions are testable without
 * binding a socket. A binding's HostIp '' means all addresses and resolves to 0.0.0.0.
 */
import { isIP } from 'node:net';
import { BerthError } from '../util/errors.js';

/** A transport protocol a port can be published for. */
export type PortProto = 'tcp' | 'udp' | 'sctp';
/** Docker's nat.PortBinding as inspect prints it (HostIp '' = all addresses, HostPort '' = pick one). */
export interface PortBinding { HostIp: string; HostPort: string }
/** Docker's PortMap: key "80/tcp" → bindings. */
export type PortMap = Record<string, PortBinding[]>;
/** Docker's ExposedPorts set: key "80/tcp" → {}. */
export type PortSet = Record<string, Record<string, never>>;
/** One resolved forward: what the network backend gets. */
export interface PortMapping { hostIp: string; hostPort: number; containerPort: number; protocol: PortProto }

const PROTOS: readonly string[] = ['tcp', 'udp', 'sctp'];
const PUBLISH_USAGE = 'use [HOST-IP:][HOST-PORT:]CONTAINER-PORT[/PROTOCOL], e.g. 127.0.0.1:8080:80/tcp';
const EXPOSE_USAGE = 'use PORT[/PROTOCOL] or START-END[/PROTOCOL], e.g. 8000-8010/udp';
const WILDCARDS = new Set(['0.0.0.0', '::']);
const q = JSON.stringify;
const invalid = (message: string) => new BerthError('EINVALID_ARG', message);
type Fail = (problem: string) => BerthError;

/** "80" or "8000-8010" → [start, end], each 1..65535 and start <= end. */
function parseRange(text: string, what: string, fail: Fail): [number, number] {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!m) throw fail(text === '' ? `the ${what} is missing` : `the ${what} ${q(text)} is not a number`);
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start < 1 || end < 1 || start > 65535 || end > 65535) throw fail(`the ${what} ${q(text)} is out of range: ports are 1-65535`);
  if (start > end) throw fail(`the ${what} range ${q(text)} ends before it starts`);
  return [start, end];
}

/** "80/udp", "8000-8010", "80/" → ports and protocol (tcp when none is given, as Docker's SplitProtoPort). */
function parsePortProto(text: string, what: string, fail: Fail): { start: number; end: number; protocol: PortProto } {
  const slash = text.indexOf('/');
  const [start, end] = parseRange(slash < 0 ? text : text.slice(0, slash), what, fail);
  const proto = slash < 0 ? 'tcp' : text.slice(slash + 1).toLowerCase() || 'tcp';
  if (!PROTOS.includes(proto)) throw fail(`the protocol ${q(text.slice(slash + 1))} is not tcp, udp or sctp`);
  return { start, end, protocol: proto as PortProto };
}

/** A PortMap/PortSet key "80/tcp" → port and protocol. */
function parseKey(key: string): { port: number; protocol: PortProto } {
  const fail: Fail = (problem) => invalid(`invalid port key ${q(key)}: ${problem}: use PORT/PROTOCOL, e.g. 80/tcp`);
  const { start, end, protocol } = parsePortProto(key, 'port', fail);
  if (start !== end) throw fail('it is a range');
  return { port: start, protocol };
}

/** host:port, with an IPv6 host in brackets (Go's net.JoinHostPort). */
const joinHostPort = (ip: string, port: number | string) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/** By protocol (alphabetical), then container port, host ip, host port. */
const byProtoPort = (a: PortMapping, b: PortMapping) =>
  cmp(a.protocol, b.protocol) || a.containerPort - b.containerPort || cmp(a.hostIp, b.hostIp) || a.hostPort - b.hostPort;
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Docker's order for `docker port` lines (sortorder.NaturalLess): runs of digits compare as
 * numbers and sort before other characters; other characters compare by code.
 */
function naturalCompare(a: string, b: string): number {
  const ta = a.match(/\d+|\D/g) ?? [];
  const tb = b.match(/\d+|\D/g) ?? [];
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const x = ta[i]!;
    const y = tb[i]!;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx !== dy) return dx ? -1 : 1;
    const c = dx ? Number(x) - Number(y) || x.length - y.length : cmp(x, y);
    if (c !== 0) return c;
  }
  return ta.length - tb.length;
}

/**
 * `-p/--publish` values → the ports they expose and Docker's HostConfig.PortBindings, e.g.
 * `127.0.0.1:8080:80/udp` → exposed {"80/udp": {}}, bindings {"80/udp": [{HostIp: "127.0.0.1", HostPort: "8080"}]}.
 * Equal-size ranges pair one to one; a host range for one container port ("8000-8010:80") stays
 * one binding with HostPort "8000-8010" for resolvePortMappings. IPv6 host ips may be bracketed.
 */
export function parsePublish(specs: readonly string[]): { exposed: PortSet; bindings: PortMap } {
  const exposed: PortSet = {};
  const bindings: PortMap = {};
  for (const spec of specs) {
    const fail: Fail = (problem) => invalid(`invalid -p ${q(spec)}: ${problem}: ${PUBLISH_USAGE}`);
    if (spec === '') throw fail('the value is empty');
    let ip: string;
    let hostText: string;
    let containerText: string;
    const bracketed = /^\[([^\]]*)\]:([^:]*):([^:]*)$/.exec(spec);
    if (bracketed) {
      [ip, hostText, containerText] = [bracketed[1] ?? '', bracketed[2] ?? '', bracketed[3] ?? ''];
    } else if (spec.startsWith('[')) {
      throw fail('a bracketed host ip must be followed by :HOST-PORT:CONTAINER-PORT (HOST-PORT may be empty)');
    } else {
      // Docker's splitParts: the last part is the container port, the one before it the host
      // port, and everything before that the host ip (so an unbracketed IPv6 ip works too).
      const parts = spec.split(':');
      containerText = parts.pop() ?? '';
      hostText = parts.pop() ?? '';
      ip = parts.join(':');
    }
    if (ip !== '' && isIP(ip) === 0) throw fail(`the host ip ${q(ip)} is not an IPv4 or IPv6 address`);
    const { start, end, protocol } = parsePortProto(containerText, 'container port', fail);
    const [hostStart, hostEnd] = hostText === '' ? [0, 0] : parseRange(hostText, 'host port', fail);
    if (hostText !== '' && start !== end && end - start !== hostEnd - hostStart) {
      throw fail(`the host ports ${q(hostText)} and the container ports ${q(`${start}-${end}`)} are ranges of different sizes`);
    }
    for (let port = start; port <= end; port++) {
      const key = `${port}/${protocol}`;
      const hostPort = hostText === '' ? '' : start === end && hostStart !== hostEnd ? `${hostStart}-${hostEnd}` : String(hostStart + port - start);
      exposed[key] = {};
      const list = (bindings[key] ??= []);
      if (!list.some((b) => b.HostIp === ip && b.HostPort === hostPort)) list.push({ HostIp: ip, HostPort: hostPort });
    }
  }
  return { exposed, bindings };
}

/** `--expose` values ("80", "80/udp", "8000-8010", "8000-8010/tcp") → PortSet. */
export function parseExpose(specs: readonly string[]): PortSet {
  const exposed: PortSet = {};
  for (const spec of specs) {
    const fail: Fail = (problem) => invalid(`invalid --expose ${q(spec)}: ${problem}: ${EXPOSE_USAGE}`);
    if (spec === '') throw fail('the value is empty');
    if (spec.includes(':')) throw fail('--expose takes no host ip or host port (publish those with -p)');
    const { start, end, protocol } = parsePortProto(spec, 'port', fail);
    for (let port = start; port <= end; port++) exposed[`${port}/${protocol}`] = {};
  }
  return exposed;
}

/**
 * Resolve bindings to concrete forwards. A binding with HostPort '' gets `pickFree(protocol, hostIp)`;
 * a host range with a single container port ("8000-8010:80") takes the first port of the range for
 * which `isFree(protocol, hostIp, port)` is true and that no earlier forward of this call holds
 * (error if none, naming the range); with publishAll (-P) every exposed port that has no binding
 * gets a random host port (pickFree). HostIp '' resolves to 0.0.0.0, and the functions get that.
 * Two forwards of the same host port and protocol on overlapping addresses are an error.
 * Output sorted by protocol then container port.
 */
export function resolvePortMappings(bindings: PortMap, exposed: PortSet, publishAll: boolean,
  pickFree: (protocol: PortProto, hostIp: string) => number,
  isFree: (protocol: PortProto, hostIp: string, port: number) => boolean): PortMapping[] {
  const out: PortMapping[] = [];
  // 0.0.0.0 overlaps every IPv4 address and :: every IPv6 one (Docker binds both for HostIp '').
  const held = (protocol: PortProto, hostIp: string, port: number) => out.find((m) => m.protocol === protocol && m.hostPort === port
    && (m.hostIp === hostIp || ((WILDCARDS.has(m.hostIp) || WILDCARDS.has(hostIp)) && isIP(m.hostIp) === isIP(hostIp))));
  const add = (key: string, b: PortBinding) => {
    const { port: containerPort, protocol } = parseKey(key);
    const fail: Fail = (problem) => invalid(`invalid binding ${q(b)} for ${key}: ${problem}: use a HostPort of "", a port or a range, e.g. "8080"`);
    if (b.HostIp !== '' && isIP(b.HostIp) === 0) throw fail(`the host ip ${q(b.HostIp)} is not an IPv4 or IPv6 address`);
    const hostIp = b.HostIp === '' ? '0.0.0.0' : b.HostIp;
    let hostPort: number;
    if (b.HostPort === '') {
      hostPort = pickFree(protocol, hostIp);
    } else {
      const [start, end] = parseRange(b.HostPort, 'host port', fail);
      if (start === end) {
        const other = held(protocol, hostIp, start);
        if (other) {
          throw invalid(`host port ${joinHostPort(hostIp, start)}/${protocol} is published twice (for ${other.containerPort}/${protocol} and ${key}): give each -p its own host port`);
        }
        hostPort = start;
      } else {
        let found = 0;
        for (let p = start; p <= end && found === 0; p++) if (!held(protocol, hostIp, p) && isFree(protocol, hostIp, p)) found = p;
        if (found === 0) throw invalid(`no free host port in ${q(b.HostPort)} on ${hostIp} for ${key}: free one or give a wider range`);
        hostPort = found;
      }
    }
    out.push({ hostIp, hostPort, containerPort, protocol });
  };
  const sortedKeys = (keys: string[]) => keys.map((k) => ({ k, ...parseKey(k) }))
    .sort((a, b) => cmp(a.protocol, b.protocol) || a.port - b.port).map((e) => e.k);
  for (const key of sortedKeys(Object.keys(bindings))) for (const b of bindings[key] ?? []) add(key, b);
  if (publishAll) {
    for (const key of sortedKeys(Object.keys(exposed))) if (!bindings[key]?.length) add(key, { HostIp: '', HostPort: '' });
  }
  return out.sort(byProtoPort);
}

/** `docker port` lines for all ports: "80/tcp -> 0.0.0.0:8080" (IPv6 hosts in brackets: "[::]:8080"), in Docker's natural order. */
export function formatPortLines(mappings: readonly PortMapping[]): string[] {
  return mappings.map((m) => `${m.containerPort}/${m.protocol} -> ${joinHostPort(m.hostIp, m.hostPort)}`).sort(naturalCompare);
}

/**
 * `docker port C 80/tcp` (protocol defaults to tcp): "0.0.0.0:8080" lines. A malformed query is
 * EINVALID_ARG; a port with no forward is ENOT_FOUND with Docker's message,
 * `no public port '80/tcp' published for NAME`.
 */
export function formatPortQuery(mappings: readonly PortMapping[], query: string, containerName: string): string[] {
  const fail: Fail = (problem) => invalid(`invalid port ${q(query)}: ${problem}: use PORT[/PROTOCOL], e.g. 80/tcp`);
  const { start, end, protocol } = parsePortProto(query, 'port', fail);
  if (start !== end) throw fail('give one port, not a range');
  const lines = mappings.filter((m) => m.containerPort === start && m.protocol === protocol).map((m) => joinHostPort(m.hostIp, m.hostPort));
  if (lines.length === 0) throw new BerthError('ENOT_FOUND', `no public port '${start}/${protocol}' published for ${containerName}`);
  return lines.sort(naturalCompare);
}

/**
 * The PORTS column of `docker ps`, as the docker CLI's DisplayablePorts makes it: forwards whose host
 * port equals the container port, and exposed but unpublished ports, are compacted into ranges per
 * host ip and protocol ("0.0.0.0:8000-8002->8000-8002/tcp", "443-444/tcp"); other forwards are listed
 * one by one after them ("0.0.0.0:8080->80/tcp", "[::]:8080->80/tcp").
 */
export function formatPsPorts(mappings: readonly PortMapping[], exposed: PortSet): string {
  const ports = mappings.map((m) => ({ ip: m.hostIp, pub: m.hostPort, priv: m.containerPort, type: m.protocol as string }));
  for (const key of Object.keys(exposed)) {
    const { port, protocol } = parseKey(key);
    if (!mappings.some((m) => m.containerPort === port && m.protocol === protocol)) ports.push({ ip: '', pub: 0, priv: port, type: protocol });
  }
  ports.sort((a, b) => a.priv - b.priv || cmp(a.ip, b.ip) || a.pub - b.pub || cmp(a.type, b.type));
  const groups = new Map<string, { ip: string; type: string; first: number; last: number }>();
  const form = (g: { ip: string; type: string; first: number; last: number }) => {
    const range = g.first === g.last ? `${g.first}` : `${g.first}-${g.last}`;
    return g.ip === '' ? `${range}/${g.type}` : `${joinHostPort(g.ip, range)}->${range}/${g.type}`;
  };
  const result: string[] = [];
  const single: string[] = [];
  for (const p of ports) {
    if (p.ip !== '' && p.pub !== p.priv) {
      single.push(`${joinHostPort(p.ip, p.pub)}->${p.priv}/${p.type}`);
      continue;
    }
    const key = `${p.ip}/${p.type}`;
    const g = groups.get(key);
    if (g && p.priv === g.last + 1) {
      g.last = p.priv;
      continue;
    }
    // A gap closes the group; the key keeps its first place for the groups still open at the end.
    if (g) result.push(form(g));
    groups.set(key, { ip: p.ip, type: p.type, first: p.priv, last: p.priv });
  }
  for (const g of groups.values()) result.push(form(g));
  return [...result, ...single].join(', ');
}
