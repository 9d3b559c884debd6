/** Docker's port publishing: -p, --expose, -P resolution, `docker port` and `docker ps` formats (src/network/ports.ts). */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { BerthError } from '../../../src/util/errors.js';
import {
  formatPortLines, formatPortQuery, formatPsPorts, parseExpose, parsePublish, resolvePortMappings,
  type PortMapping, type PortProto,
} from '../../../src/network/ports.js';

/** A BerthError with `code` whose message matches `re`. */
const fails = (re: RegExp, code = 'EINVALID_ARG') => (e: unknown) => e instanceof BerthError && e.code === code && re.test(e.message);
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** An EINVALID_ARG for `-p spec` that names the spec, the problem and the usage. */
const badP = (spec: string, problem: RegExp) =>
  fails(new RegExp(`^invalid -p ${esc(JSON.stringify(spec))}: ${problem.source}: use \\[HOST-IP:\\]\\[HOST-PORT:\\]CONTAINER-PORT\\[/PROTOCOL\\], e\\.g\\. 127\\.0\\.0\\.1:8080:80/tcp$`));
const map = (hostIp: string, hostPort: number, containerPort: number, protocol: PortProto = 'tcp'): PortMapping => ({ hostIp, hostPort, containerPort, protocol });

test('-p: every form Docker accepts, as ExposedPorts and PortBindings', () => {
  assert.deepEqual(parsePublish(['80']), { exposed: { '80/tcp': {} }, bindings: { '80/tcp': [{ HostIp: '', HostPort: '' }] } });
  assert.deepEqual(parsePublish(['8080:80']).bindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }] });
  assert.deepEqual(parsePublish(['127.0.0.1:8080:80']).bindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] });
  assert.deepEqual(parsePublish(['127.0.0.1::80']).bindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
  assert.deepEqual(parsePublish([':80']).bindings, { '80/tcp': [{ HostIp: '', HostPort: '' }] });
  assert.deepEqual(parsePublish(['[::1]:8080:80']).bindings, { '80/tcp': [{ HostIp: '::1', HostPort: '8080' }] });
  assert.deepEqual(parsePublish(['[::]::53/udp']).bindings, { '53/udp': [{ HostIp: '::', HostPort: '' }] });
  assert.deepEqual(parsePublish(['::1:8080:80']).bindings, { '80/tcp': [{ HostIp: '::1', HostPort: '8080' }] }, 'unbracketed IPv6, as Docker splits it');
  assert.deepEqual(parsePublish(['fe80::1:9000:90/sctp']).bindings, { '90/sctp': [{ HostIp: 'fe80::1', HostPort: '9000' }] });
  assert.deepEqual(parsePublish(['53:53/udp', '5000:5000/SCTP', '81/tcp', '82/']).exposed, { '53/udp': {}, '5000/sctp': {}, '81/tcp': {}, '82/tcp': {} });
  assert.deepEqual(parsePublish(['08080:080']).bindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }] });
});

test('-p: ranges pair one to one, a host range for one port stays a range, a bare range gets random ports', () => {
  const { exposed, bindings } = parsePublish(['8000-8002:80-82/udp']);
  assert.deepEqual(exposed, { '80/udp': {}, '81/udp': {}, '82/udp': {} });
  assert.deepEqual(bindings, {
    '80/udp': [{ HostIp: '', HostPort: '8000' }], '81/udp': [{ HostIp: '', HostPort: '8001' }], '82/udp': [{ HostIp: '', HostPort: '8002' }],
  });
  assert.deepEqual(parsePublish(['127.0.0.1:8000-8010:80']).bindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8000-8010' }] });
  assert.deepEqual(parsePublish(['8080-8080:80']).bindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }] });
  assert.deepEqual(parsePublish(['80-82']).bindings, {
    '80/tcp': [{ HostIp: '', HostPort: '' }], '81/tcp': [{ HostIp: '', HostPort: '' }], '82/tcp': [{ HostIp: '', HostPort: '' }],
  });
});

test('-p: several bindings for one port add up; identical ones are kept once', () => {
  assert.deepEqual(parsePublish(['8080:80', '8081:80', '8080:80', '127.0.0.1:8080:80', '80']).bindings, {
    '80/tcp': [{ HostIp: '', HostPort: '8080' }, { HostIp: '', HostPort: '8081' }, { HostIp: '127.0.0.1', HostPort: '8080' }, { HostIp: '', HostPort: '' }],
  });
  assert.deepEqual(parsePublish(['80:80/tcp', '80:80/udp']).exposed, { '80/tcp': {}, '80/udp': {} });
  assert.deepEqual(parsePublish([]), { exposed: {}, bindings: {} });
});

test('-p: each error names the value, the problem and the valid form', () => {
  assert.throws(() => parsePublish(['']), badP('', /the value is empty/));
  assert.throws(() => parsePublish(['80:abc']), badP('80:abc', /the container port "abc" is not a number/));
  assert.throws(() => parsePublish(['abc:80']), badP('abc:80', /the host port "abc" is not a number/));
  assert.throws(() => parsePublish(['8080:']), badP('8080:', /the container port is missing/));
  assert.throws(() => parsePublish(['8080:/udp']), badP('8080:/udp', /the container port is missing/));
  assert.throws(() => parsePublish(['0:80']), badP('0:80', /the host port "0" is out of range: ports are 1-65535/));
  assert.throws(() => parsePublish(['0']), badP('0', /the container port "0" is out of range: ports are 1-65535/));
  assert.throws(() => parsePublish(['8080:65536']), badP('8080:65536', /the container port "65536" is out of range: ports are 1-65535/));
  assert.throws(() => parsePublish(['8080:123456']), badP('8080:123456', /the container port "123456" is not a number/));
  assert.throws(() => parsePublish(['90-80']), badP('90-80', /the container port range "90-80" ends before it starts/));
  assert.throws(() => parsePublish(['9000-8000:80']), badP('9000-8000:80', /the host port range "9000-8000" ends before it starts/));
  assert.throws(() => parsePublish(['80-']), badP('80-', /the container port "80-" is not a number/));
  assert.throws(() => parsePublish(['80/icmp']), badP('80/icmp', /the protocol "icmp" is not tcp, udp or sctp/));
  assert.throws(() => parsePublish(['80/tcp/udp']), badP('80/tcp/udp', /the protocol "tcp\/udp" is not tcp, udp or sctp/));
  assert.throws(() => parsePublish(['8080/udp:80']), badP('8080/udp:80', /the host port "8080\/udp" is not a number/));
  assert.throws(() => parsePublish(['8000-8010:80-85']), badP('8000-8010:80-85', /the host ports "8000-8010" and the container ports "80-85" are ranges of different sizes/));
  assert.throws(() => parsePublish(['8080:80-82']), badP('8080:80-82', /the host ports "8080" and the container ports "80-82" are ranges of different sizes/));
  assert.throws(() => parsePublish(['localhost:8080:80']), badP('localhost:8080:80', /the host ip "localhost" is not an IPv4 or IPv6 address/));
  assert.throws(() => parsePublish(['1.2.3.256:8080:80']), badP('1.2.3.256:8080:80', /the host ip "1\.2\.3\.256" is not an IPv4 or IPv6 address/));
  assert.throws(() => parsePublish(['[::1]:80']), badP('[::1]:80', /a bracketed host ip must be followed by :HOST-PORT:CONTAINER-PORT \(HOST-PORT may be empty\)/));
  assert.throws(() => parsePublish(['[::1:8080:80']), badP('[::1:8080:80', /a bracketed host ip must be followed by :HOST-PORT:CONTAINER-PORT \(HOST-PORT may be empty\)/));
  assert.throws(() => parsePublish(['[nope]:8080:80']), badP('[nope]:8080:80', /the host ip "nope" is not an IPv4 or IPv6 address/));
  assert.throws(() => parsePublish(['80', 'x']), badP('x', /the container port "x" is not a number/), 'the bad one of several is named');
});

test('--expose: ports and ranges with a protocol; host parts and bad values are errors', () => {
  assert.deepEqual(parseExpose(['80', '80/udp', '8000-8002', '9000-9001/tcp', '7/SCTP']), {
    '80/tcp': {}, '80/udp': {}, '8000/tcp': {}, '8001/tcp': {}, '8002/tcp': {}, '9000/tcp': {}, '9001/tcp': {}, '7/sctp': {},
  });
  assert.deepEqual(parseExpose(['80', '80/tcp']), { '80/tcp': {} });
  const use = ': use PORT\\[/PROTOCOL\\] or START-END\\[/PROTOCOL\\], e\\.g\\. 8000-8010/udp$';
  assert.throws(() => parseExpose(['']), fails(new RegExp(`^invalid --expose "": the value is empty${use}`)));
  assert.throws(() => parseExpose(['8080:80']), fails(new RegExp(`^invalid --expose "8080:80": --expose takes no host ip or host port \\(publish those with -p\\)${use}`)));
  assert.throws(() => parseExpose(['http']), fails(new RegExp(`^invalid --expose "http": the port "http" is not a number${use}`)));
  assert.throws(() => parseExpose(['80/gre']), fails(/^invalid --expose "80\/gre": the protocol "gre" is not tcp, udp or sctp/));
  assert.throws(() => parseExpose(['90-80/udp']), fails(/^invalid --expose "90-80\/udp": the port range "90-80" ends before it starts/));
  assert.throws(() => parseExpose(['70000']), fails(/^invalid --expose "70000": the port "70000" is out of range/));
});

/** A deterministic pickFree: 49153, 49154 … in call order, recording its calls. */
function picker() {
  const calls: string[] = [];
  let next = 49153;
  return { calls, pick: (protocol: PortProto, hostIp: string) => { calls.push(`${protocol} ${hostIp}`); return next++; } };
}
const allFree = () => true;
const never = (): number => { throw new Error('pickFree must not be called'); };

test('resolve: fixed ports as given, random ones from pickFree on the binding ip, HostIp "" as 0.0.0.0', () => {
  const { bindings, exposed } = parsePublish(['127.0.0.1:8080:80', '53:53/udp', '[::1]::443', '9090', '8081:80']);
  const p = picker();
  assert.deepEqual(resolvePortMappings(bindings, exposed, false, p.pick, allFree), [
    map('0.0.0.0', 8081, 80), map('127.0.0.1', 8080, 80), map('::1', 49153, 443), map('0.0.0.0', 49154, 9090), map('0.0.0.0', 53, 53, 'udp'),
  ]);
  assert.deepEqual(p.calls, ['tcp ::1', 'tcp 0.0.0.0']);
});

test('resolve: a host range takes its first free port, skipping ports this call already holds', () => {
  const { bindings, exposed } = parsePublish(['8000-8010:80', '8000-8010:81', '127.0.0.1:8000-8010:82', '8000-8003:53/udp']);
  const busy = new Set(['tcp 0.0.0.0 8000', 'tcp 127.0.0.1 8003', 'udp 0.0.0.0 8000']);
  // A port bound on 0.0.0.0 is busy on every address.
  const isFree = (protocol: PortProto, hostIp: string, port: number) =>
    !busy.has(`${protocol} ${hostIp} ${port}`) && !busy.has(`${protocol} 0.0.0.0 ${port}`);
  assert.deepEqual(resolvePortMappings(bindings, exposed, false, never, isFree), [
    map('0.0.0.0', 8001, 80), map('0.0.0.0', 8002, 81), map('127.0.0.1', 8004, 82), map('0.0.0.0', 8001, 53, 'udp'),
  ]);
});

test('resolve: errors for a full range, a host port published twice, and a malformed binding', () => {
  const full = parsePublish(['127.0.0.1:8000-8002:80']);
  assert.throws(() => resolvePortMappings(full.bindings, full.exposed, false, never, () => false),
    fails(/^no free host port in "8000-8002" on 127\.0\.0\.1 for 80\/tcp: free one or give a wider range$/));
  const twice = parsePublish(['8080:80', '127.0.0.1:8080:81']);
  assert.throws(() => resolvePortMappings(twice.bindings, twice.exposed, false, never, allFree),
    fails(/^host port 127\.0\.0\.1:8080\/tcp is published twice \(for 80\/tcp and 81\/tcp\): give each -p its own host port$/));
  const v6 = parsePublish(['[::]:8080:80', '[::1]:8080:81']);
  assert.throws(() => resolvePortMappings(v6.bindings, v6.exposed, false, never, allFree), fails(/^host port \[::1\]:8080\/tcp is published twice/));
  const apart = parsePublish(['8080:80', '8080:80/udp', '[::]:8080:80', '[::1]:9000:90', '127.0.0.1:9000:91']);
  assert.equal(resolvePortMappings(apart.bindings, apart.exposed, false, never, allFree).length, 5, 'other protocol, family or ip: no clash');
  assert.throws(() => resolvePortMappings({ '80/tcp': [{ HostIp: '', HostPort: 'x' }] }, {}, false, never, allFree),
    fails(/^invalid binding \{"HostIp":"","HostPort":"x"\} for 80\/tcp: the host port "x" is not a number/));
  assert.throws(() => resolvePortMappings({ '80/tcp': [{ HostIp: 'box', HostPort: '' }] }, {}, false, never, allFree),
    fails(/^invalid binding .* for 80\/tcp: the host ip "box" is not an IPv4 or IPv6 address/));
  assert.throws(() => resolvePortMappings({ '80/ip': [] }, {}, false, never, allFree), fails(/^invalid port key "80\/ip": the protocol "ip"/));
  assert.throws(() => resolvePortMappings({}, { '80-81/tcp': {} }, true, never, allFree), fails(/^invalid port key "80-81\/tcp": it is a range/));
});

test('resolve -P: every exposed port without a binding gets a random port; bound ones keep theirs', () => {
  const pub = parsePublish(['8080:80']);
  const exposed = { ...parseExpose(['443', '53/udp', '8000-8001']), ...pub.exposed };
  const p = picker();
  assert.deepEqual(resolvePortMappings(pub.bindings, exposed, true, p.pick, allFree), [
    map('0.0.0.0', 8080, 80), map('0.0.0.0', 49153, 443), map('0.0.0.0', 49154, 8000), map('0.0.0.0', 49155, 8001), map('0.0.0.0', 49156, 53, 'udp'),
  ]);
  assert.deepEqual(resolvePortMappings(pub.bindings, exposed, false, never, allFree), [map('0.0.0.0', 8080, 80)], 'without -P only bindings');
  assert.deepEqual(resolvePortMappings({}, {}, true, never, allFree), []);
});

test('docker port: all lines in natural order, IPv6 hosts in brackets', () => {
  const ms = [map('0.0.0.0', 8080, 80), map('::', 8080, 80), map('127.0.0.1', 5353, 53, 'udp'), map('0.0.0.0', 9443, 443), map('0.0.0.0', 8081, 80)];
  assert.deepEqual(formatPortLines(ms), [
    '53/udp -> 127.0.0.1:5353', '80/tcp -> 0.0.0.0:8080', '80/tcp -> 0.0.0.0:8081', '80/tcp -> [::]:8080', '443/tcp -> 0.0.0.0:9443',
  ]);
  assert.deepEqual(formatPortLines([]), []);
});

test('docker port C PORT: host addresses of one port (tcp by default), or Docker\'s errors', () => {
  const ms = [map('0.0.0.0', 8080, 80), map('::', 8080, 80), map('127.0.0.1', 5353, 53, 'udp')];
  assert.deepEqual(formatPortQuery(ms, '80', 'web'), ['0.0.0.0:8080', '[::]:8080']);
  assert.deepEqual(formatPortQuery(ms, '80/tcp', 'web'), ['0.0.0.0:8080', '[::]:8080']);
  assert.deepEqual(formatPortQuery(ms, '53/UDP', 'web'), ['127.0.0.1:5353']);
  assert.throws(() => formatPortQuery(ms, '53', 'web'), fails(/^no public port '53\/tcp' published for web$/, 'ENOT_FOUND'));
  assert.throws(() => formatPortQuery(ms, '80/udp', 'web'), fails(/^no public port '80\/udp' published for web$/, 'ENOT_FOUND'));
  assert.throws(() => formatPortQuery(ms, 'http', 'web'), fails(/^invalid port "http": the port "http" is not a number: use PORT\[\/PROTOCOL\], e\.g\. 80\/tcp$/));
  assert.throws(() => formatPortQuery(ms, '80/icmp', 'web'), fails(/^invalid port "80\/icmp": the protocol "icmp" is not tcp, udp or sctp/));
  assert.throws(() => formatPortQuery(ms, '80-81', 'web'), fails(/^invalid port "80-81": give one port, not a range/));
});

test('docker ps PORTS: same-port forwards and bare exposed ports compact into ranges, others listed after', () => {
  // Docker's order: container port, then host ip, host port, protocol.
  assert.equal(formatPsPorts([map('0.0.0.0', 8080, 80), map('127.0.0.1', 5353, 53, 'udp')], {}), '127.0.0.1:5353->53/udp, 0.0.0.0:8080->80/tcp');
  assert.equal(formatPsPorts([map('0.0.0.0', 8000, 8000), map('0.0.0.0', 8001, 8001), map('0.0.0.0', 8002, 8002)], {}), '0.0.0.0:8000-8002->8000-8002/tcp');
  // Docker lists mapped ranges one by one: only host port = container port compacts.
  assert.equal(formatPsPorts([map('0.0.0.0', 8000, 80), map('0.0.0.0', 8001, 81), map('0.0.0.0', 8002, 82)], {}),
    '0.0.0.0:8000->80/tcp, 0.0.0.0:8001->81/tcp, 0.0.0.0:8002->82/tcp');
  assert.equal(formatPsPorts([map('0.0.0.0', 8080, 80), map('::', 8080, 80)], {}), '0.0.0.0:8080->80/tcp, [::]:8080->80/tcp');
  assert.equal(formatPsPorts([map('::', 80, 80), map('::', 81, 81)], {}), '[::]:80-81->80-81/tcp');
  // Exposed but unpublished ports appear bare (ranged), published ones only with their forward.
  assert.equal(formatPsPorts([map('0.0.0.0', 8080, 80)], { '80/tcp': {}, '443/tcp': {}, '444/tcp': {}, '53/udp': {} }),
    '53/udp, 443-444/tcp, 0.0.0.0:8080->80/tcp');
  // A gap closes a group; the group still open at the end keeps its key's first place.
  assert.equal(formatPsPorts([], { '80/tcp': {}, '81/tcp': {}, '90/tcp': {}, '85/udp': {} }), '80-81/tcp, 90/tcp, 85/udp');
  assert.equal(formatPsPorts([map('0.0.0.0', 3000, 3000), map('0.0.0.0', 3001, 3001, 'udp')], {}), '0.0.0.0:3000->3000/tcp, 0.0.0.0:3001->3001/udp');
  assert.equal(formatPsPorts([], {}), '');
});
