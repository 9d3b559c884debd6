/** IPv4 addresses, networks, subnet and address allocation, routes and MAC addresses (src/network/ipv4.ts). */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { BerthError } from '../../../src/util/errors.js';
import {
  DEFAULT_POOLS, allocateIp, cidrContains, cidrInside, cidrsOverlap, firstHost, formatCidr, formatIp, parseCidr, parseIp,
  parseMac, pickSubnet, routesFromProcNetRoute, type Cidr,
} from '../../../src/network/ipv4.js';

const ip = (s: string) => parseIp(s)!;
const net = (s: string) => parseCidr(s, '--subnet');
/** An EINVALID_ARG whose message matches `re`. */
const invalid = (re: RegExp) => (e: unknown) => e instanceof BerthError && e.code === 'EINVALID_ARG' && re.test(e.message);

test('parseIp and formatIp: dotted quads only, as uint32', () => {
  assert.equal(parseIp('10.1.0.1'), 0x0a010001);
  assert.equal(parseIp('255.255.255.255'), 0xffffffff);
  assert.equal(parseIp('0.0.0.0'), 0);
  for (const bad of ['256.1.1.1', '01.1.1.1', '1.1.1', '1.1.1.1.1', ' 1.1.1.1', '1.1.1.1/8', 'a.b.c.d', '::1', '', '1..1.1']) {
    assert.equal(parseIp(bad), undefined, bad);
  }
  assert.equal(formatIp(0x0a010001), '10.1.0.1');
  assert.equal(formatIp(0xffffffff), '255.255.255.255');
  assert.equal(formatIp(ip('192.168.100.7')), '192.168.100.7');
});

test('parseCidr and formatCidr: a network, with errors that name the flag and the value', () => {
  assert.deepEqual(net('10.1.0.0/16'), { addr: 0x0a010000, prefix: 16 });
  assert.deepEqual(net('192.168.5.4/30'), { addr: ip('192.168.5.4'), prefix: 30 });
  assert.deepEqual(net('128.0.0.0/1'), { addr: 0x80000000, prefix: 1 });
  assert.equal(formatCidr(net('172.18.0.0/16')), '172.18.0.0/16');
  assert.throws(() => net('10.1.2.3/16'), invalid(/^invalid --subnet "10\.1\.2\.3\/16": host bits are set: use 10\.1\.0\.0\/16$/));
  assert.throws(() => parseCidr('10.0.0.0/31', '--ip-range'), invalid(/^invalid --ip-range "10\.0\.0\.0\/31": prefix length 31 .*use 1 to 30/));
  assert.throws(() => net('0.0.0.0/0'), invalid(/"0\.0\.0\.0\/0": prefix length 0 /));
  assert.throws(() => net('fd00::/64'), invalid(/^invalid --subnet "fd00::\/64": IPv6 networks are not supported/));
  for (const bad of ['10.1.0.0', '10.1.0.0/', '10.1.0.0/016', '10.1.0.0/x', '10.1.0/16', 'ten/8', '10.1.0.0/16 ']) {
    assert.throws(() => net(bad), invalid(new RegExp(`^invalid --subnet ${JSON.stringify(bad).replace(/[./]/g, '\\$&')}: use an IPv4 network`)), bad);
  }
});

test('cidrContains, cidrInside and cidrsOverlap', () => {
  const n16 = net('10.1.0.0/16');
  assert.ok(cidrContains(n16, ip('10.1.0.0')) && cidrContains(n16, ip('10.1.255.255')));
  assert.ok(!cidrContains(n16, ip('10.2.0.0')) && !cidrContains(n16, ip('10.0.255.255')));
  assert.ok(cidrContains({ addr: 0, prefix: 0 }, 0xffffffff));
  assert.ok(cidrInside(net('10.1.2.0/24'), n16) && cidrInside(n16, n16));
  assert.ok(!cidrInside(n16, net('10.1.2.0/24')) && !cidrInside(net('10.2.0.0/24'), n16));
  assert.ok(cidrsOverlap(n16, net('10.1.2.0/24')) && cidrsOverlap(net('10.1.2.0/24'), n16) && cidrsOverlap(net('10.0.0.0/8'), n16));
  assert.ok(!cidrsOverlap(n16, net('10.2.0.0/16')) && !cidrsOverlap(net('192.168.0.0/20'), net('192.168.16.0/20')));
});

test('firstHost: the default gateway is the first usable address', () => {
  assert.equal(formatIp(firstHost(net('10.1.0.0/16'))), '10.1.0.1');
  assert.equal(formatIp(firstHost(net('192.168.16.0/20'))), '192.168.16.1');
});

test('allocateIp: skips network, broadcast, gateway and used addresses, and keeps to the range', () => {
  const sub = net('10.1.0.0/24'), gw = ip('10.1.0.1');
  assert.equal(formatIp(allocateIp(sub, undefined, gw, new Set())!), '10.1.0.2');
  assert.equal(formatIp(allocateIp(sub, undefined, gw, new Set([ip('10.1.0.2'), ip('10.1.0.3')]))!), '10.1.0.4');
  // A gateway given elsewhere (--gateway 10.1.0.254) frees .1 and takes .254.
  assert.equal(formatIp(allocateIp(sub, undefined, ip('10.1.0.254'), new Set())!), '10.1.0.1');
  // A range at the start of the subnet skips the network address; one at the end, the broadcast address.
  assert.equal(formatIp(allocateIp(sub, net('10.1.0.0/30'), gw, new Set())!), '10.1.0.2');
  assert.equal(formatIp(allocateIp(sub, net('10.1.0.0/30'), gw, new Set([ip('10.1.0.2')]))!), '10.1.0.3');
  assert.equal(allocateIp(sub, net('10.1.0.0/30'), gw, new Set([ip('10.1.0.2'), ip('10.1.0.3')])), undefined);
  assert.equal(formatIp(allocateIp(sub, net('10.1.0.128/25'), gw, new Set())!), '10.1.0.128');
  const tail = net('10.1.0.252/30');
  assert.equal(allocateIp(sub, tail, gw, new Set([ip('10.1.0.252'), ip('10.1.0.253'), ip('10.1.0.254')])), undefined);
  // Full: every host address used.
  const small = net('10.9.0.0/30');
  assert.equal(allocateIp(small, undefined, ip('10.9.0.1'), new Set([ip('10.9.0.2')])), undefined);
  // A range outside the subnet yields nothing; one wider than it is cut to it.
  assert.equal(allocateIp(sub, net('10.2.0.0/24'), gw, new Set()), undefined);
  assert.equal(formatIp(allocateIp(sub, net('10.0.0.0/8'), gw, new Set())!), '10.1.0.2');
});

test('DEFAULT_POOLS: Docker\'s 172.17-31 /16s, then 192.168.0.0/16 in /20s', () => {
  const all = DEFAULT_POOLS.map(formatCidr);
  assert.equal(all.length, 31);
  assert.deepEqual(all.slice(0, 2), ['172.17.0.0/16', '172.18.0.0/16']);
  assert.equal(all[14], '172.31.0.0/16');
  assert.deepEqual(all.slice(15, 17), ['192.168.0.0/20', '192.168.16.0/20']);
  assert.equal(all[30], '192.168.240.0/20');
  assert.ok(Object.isFrozen(DEFAULT_POOLS) && Object.isFrozen(DEFAULT_POOLS[0]));
});

test('pickSubnet: the first pool clear of taken networks and routes', () => {
  assert.equal(formatCidr(pickSubnet([])!), '172.17.0.0/16');
  assert.equal(formatCidr(pickSubnet([net('172.17.0.0/16'), net('172.18.5.0/24')])!), '172.19.0.0/16');
  // A route covering several pools (172.16.0.0/12 is all of 172.17-31) moves to 192.168.
  assert.equal(formatCidr(pickSubnet([net('172.16.0.0/12')])!), '192.168.0.0/20');
  assert.equal(formatCidr(pickSubnet([net('172.16.0.0/12'), net('192.168.0.0/24'), net('192.168.17.0/24')])!), '192.168.32.0/20');
  // A taken /8 over the custom pools.
  const pools: Cidr[] = [net('10.1.0.0/16'), net('10.2.0.0/16'), net('100.64.0.0/16')];
  assert.equal(formatCidr(pickSubnet([net('10.0.0.0/8')], pools)!), '100.64.0.0/16');
  assert.equal(pickSubnet([net('10.0.0.0/8'), net('100.0.0.0/8')], pools), undefined);
  assert.equal(pickSubnet([net('128.0.0.0/1'), { addr: 0, prefix: 1 }]), undefined);
  // The answer is a copy: changing it does not change the pools.
  pickSubnet([])!.prefix = 8;
  assert.equal(DEFAULT_POOLS[0]!.prefix, 16);
});

test('routesFromProcNetRoute: little-endian hex destinations and masks; the default route skipped', () => {
  const text = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       ',
    'eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0                                                                               ',
    'eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0                                                                                ',
    'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
    'tun0\t0000000A\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0',
    'wg0\t0101A8C0\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0',
    'bad\t0000000A\t00000000\t0001\t0\t0\t0\tFF00FFFF\t0\t0\t0',
    'short\t0000000A',
    '',
  ].join('\n');
  assert.deepEqual(routesFromProcNetRoute(text).map(formatCidr), ['192.168.0.0/24', '172.17.0.0/16', '10.0.0.0/8', '192.168.1.1/32']);
  assert.deepEqual(routesFromProcNetRoute(''), []);
  // The host's routes feed pickSubnet: docker0's 172.17.0.0/16 is skipped.
  assert.equal(formatCidr(pickSubnet(routesFromProcNetRoute(text))!), '172.18.0.0/16');
});

test('parseMac: unicast, six colon-separated bytes, lower-cased', () => {
  assert.equal(parseMac('02:42:AC:11:00:02'), '02:42:ac:11:00:02');
  assert.equal(parseMac('00:1b:21:0a:0b:0c'), '00:1b:21:0a:0b:0c');
  for (const bad of ['02-42-ac-11-00-02', '02:42:ac:11:00', '02:42:ac:11:00:02:03', '0242.ac11.0002', '02:42:ac:11:00:g2', '2:42:ac:11:0:2', '']) {
    assert.throws(() => parseMac(bad), invalid(new RegExp(`^invalid --mac-address ${JSON.stringify(bad).replace(/\./g, '\\.')}: use six colon-separated hex bytes`)), bad);
  }
  assert.throws(() => parseMac('01:00:5e:00:00:01'), invalid(/^invalid --mac-address "01:00:5e:00:00:01": it is a multicast address/));
  assert.throws(() => parseMac('FF:FF:FF:FF:FF:FF'), invalid(/"FF:FF:FF:FF:FF:FF": it is a multicast address/));
  assert.throws(() => parseMac('00:00:00:00:00:00'), invalid(/"00:00:00:00:00:00": the all-zero address/));
});
