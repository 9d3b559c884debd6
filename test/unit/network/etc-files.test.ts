/** A container's /etc/hosts, /etc/resolv.conf and /etc/hostname, and --add-host and --dns (src/network/etc-files.ts). */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { BerthError } from '../../../src/util/errors.js';
import {
  containerResolvConf, hostResolvConfPath, hostnameFile, hostsFile, parseDnsServer, parseExtraHost, parseResolvConf,
} from '../../../src/network/etc-files.js';

/** An EINVALID_ARG whose message matches `re`. */
const invalid = (re: RegExp) => (e: unknown) => e instanceof BerthError && e.code === 'EINVALID_ARG' && re.test(e.message);

const LOCALHOST = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';

test('parseExtraHost: NAME:IP, NAME=IP, bracketed IPv6', () => {
  assert.deepEqual(parseExtraHost('db:10.1.0.5'), { name: 'db', ip: '10.1.0.5' });
  assert.deepEqual(parseExtraHost('db=10.1.0.5'), { name: 'db', ip: '10.1.0.5' });
  assert.deepEqual(parseExtraHost('v6:::1'), { name: 'v6', ip: '::1' });
  assert.deepEqual(parseExtraHost('v6=::1'), { name: 'v6', ip: '::1' });
  assert.deepEqual(parseExtraHost('v6:[2001:db8::1]'), { name: 'v6', ip: '2001:db8::1' });
  assert.deepEqual(parseExtraHost('v6=[fe80::1]'), { name: 'v6', ip: 'fe80::1' });
});

test('parseExtraHost: host-gateway is the bridge gateway, and an error without one', () => {
  assert.deepEqual(parseExtraHost('host.docker.internal:host-gateway', '172.17.0.1'), { name: 'host.docker.internal', ip: '172.17.0.1' });
  assert.deepEqual(parseExtraHost('gw=host-gateway', '10.1.0.1'), { name: 'gw', ip: '10.1.0.1' });
  assert.throws(() => parseExtraHost('host.docker.internal:host-gateway'),
    invalid(/^invalid argument "host\.docker\.internal:host-gateway" for "--add-host" flag: host-gateway needs the gateway of a bridge network/));
});

test('parseExtraHost: Docker\'s errors, naming the value', () => {
  for (const bad of ['x', ':10.0.0.1', '=10.0.0.1', 'a b:10.0.0.1']) {
    const q = JSON.stringify(bad).replace(/\./g, '\\.');
    assert.throws(() => parseExtraHost(bad), invalid(new RegExp(`^invalid argument ${q} for "--add-host" flag: bad format for add-host: ${q}`)), bad);
  }
  assert.throws(() => parseExtraHost('h:300.1.1.1'), invalid(/^invalid argument "h:300\.1\.1\.1" for "--add-host" flag: invalid IP address in add-host: "300\.1\.1\.1"/));
  assert.throws(() => parseExtraHost('h:'), invalid(/invalid IP address in add-host: ""/));
  assert.throws(() => parseExtraHost('h=[10.0.0.1'), invalid(/invalid IP address in add-host: "\[10\.0\.0\.1"/));
  assert.throws(() => parseExtraHost('h:fe80::1%eth0'), invalid(/invalid IP address in add-host: "fe80::1%eth0"/));
  assert.throws(() => parseExtraHost('h:[]'), invalid(/invalid IP address in add-host: "\[\]"/));
});

test('hostsFile: localhost lines, extra hosts, then the container\'s own addresses', () => {
  assert.equal(hostsFile({ hostname: 'abc123', addresses: ['172.17.0.2'] }), `${LOCALHOST}172.17.0.2\tabc123\n`);
  assert.equal(
    hostsFile({
      hostname: 'web', domainname: 'example.com', addresses: ['10.1.0.2', '10.2.0.3'], aliases: ['www', 'web'],
      extraHosts: [{ name: 'db', ip: '10.1.0.5' }, { name: 'v6', ip: '::1' }],
    }),
    `${LOCALHOST}10.1.0.5\tdb\n::1\tv6\n10.1.0.2\tweb.example.com web www\n10.2.0.3\tweb.example.com web www\n`,
  );
  // A dotted hostname gets its first label too, as in moby.
  assert.equal(hostsFile({ hostname: 'web.example.com', addresses: ['10.1.0.2'] }), `${LOCALHOST}10.1.0.2\tweb.example.com web\n`);
  // No address (--network none): just the localhost lines.
  assert.equal(hostsFile({ hostname: 'abc', addresses: [] }), LOCALHOST);
});

test('parseResolvConf: nameservers, last search or domain, all options; comments ignored', () => {
  const text = [
    '# This is /run/systemd/resolve/resolv.conf',
    '; also a comment',
    'nameserver 10.0.0.2',
    'nameserver   192.168.1.1  # the router',
    '  nameserver fd00::1',
    'domain corp.example',
    'search a.example b.example',
    'options ndots:2',
    'options timeout:1 attempts:3',
    'sortlist 10.0.0.0',
    '#nameserver 1.1.1.1',
    'nameserver',
  ].join('\n');
  assert.deepEqual(parseResolvConf(text), {
    nameservers: ['10.0.0.2', '192.168.1.1', 'fd00::1'], search: ['a.example', 'b.example'], options: ['ndots:2', 'timeout:1', 'attempts:3'],
  });
  assert.deepEqual(parseResolvConf('search a.example\ndomain corp.example\n').search, ['corp.example']);
  assert.deepEqual(parseResolvConf(''), { nameservers: [], search: [], options: [] });
});

const HOST = 'nameserver 127.0.0.1\nnameserver 10.0.0.2\nnameserver ::1\nnameserver fd00::1\nsearch corp.example\noptions ndots:2\n';

test('containerResolvConf: loopback and (without ipv6) IPv6 nameservers dropped; host search and options kept', () => {
  assert.equal(containerResolvConf(HOST, {}), 'search corp.example\nnameserver 10.0.0.2\noptions ndots:2\n');
  assert.equal(containerResolvConf(HOST, { ipv6: true }), 'search corp.example\nnameserver 10.0.0.2\nnameserver fd00::1\noptions ndots:2\n');
  assert.equal(containerResolvConf('nameserver 127.1.2.3\nnameserver 0:0:0:0:0:0:0:1\nnameserver 8.8.8.8\n', { ipv6: true }), 'nameserver 8.8.8.8\n');
});

test('containerResolvConf: Docker\'s defaults when no nameserver is left', () => {
  assert.equal(containerResolvConf('nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n', {}), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\noptions edns0 trust-ad\n');
  assert.equal(containerResolvConf('', {}), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(containerResolvConf('nameserver fd00::1\nnameserver not-an-ip\n', {}), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(containerResolvConf('nameserver ::1\n', { ipv6: true }),
    'nameserver 8.8.8.8\nnameserver 8.8.4.4\nnameserver 2001:4860:4860::8888\nnameserver 2001:4860:4860::8844\n');
});

test('containerResolvConf: --dns, --dns-search (". " is none) and --dns-option replace the host\'s', () => {
  assert.equal(containerResolvConf(HOST, { dns: ['1.1.1.1', '127.0.0.1'] }), 'search corp.example\nnameserver 1.1.1.1\nnameserver 127.0.0.1\noptions ndots:2\n');
  assert.equal(containerResolvConf(HOST, { dnsSearch: ['x.example', 'y.example'], dnsOptions: ['ndots:0', 'rotate'] }),
    'search x.example y.example\nnameserver 10.0.0.2\noptions ndots:0 rotate\n');
  assert.equal(containerResolvConf(HOST, { dnsSearch: ['.'] }), 'nameserver 10.0.0.2\noptions ndots:2\n');
  // Empty lists are the same as not given.
  assert.equal(containerResolvConf(HOST, { dns: [], dnsSearch: [], dnsOptions: [] }), containerResolvConf(HOST, {}));
});

test('containerResolvConf: a network resolver replaces the nameservers unless --dns is given', () => {
  assert.equal(containerResolvConf(HOST, { networkDns: '10.1.0.1' }), 'search corp.example\nnameserver 10.1.0.1\noptions ndots:2\n');
  assert.equal(containerResolvConf('', { networkDns: '10.1.0.1', dnsSearch: ['.'] }), 'nameserver 10.1.0.1\n');
  assert.equal(containerResolvConf(HOST, { networkDns: '10.1.0.1', dns: ['9.9.9.9'] }), 'search corp.example\nnameserver 9.9.9.9\noptions ndots:2\n');
});

test('containerResolvConf: --network host uses the host\'s file as is, or its parts unfiltered with the overrides', () => {
  const host = '# managed by NetworkManager\nnameserver 127.0.0.53\nsearch lan\n';
  assert.equal(containerResolvConf(host, { hostMode: true }), host);
  assert.equal(containerResolvConf('nameserver 127.0.0.53', { hostMode: true, networkDns: '10.1.0.1' }), 'nameserver 127.0.0.53\n');
  assert.equal(containerResolvConf('', { hostMode: true }), '');
  assert.equal(containerResolvConf(host, { hostMode: true, dnsOptions: ['ndots:1'] }), 'search lan\nnameserver 127.0.0.53\noptions ndots:1\n');
  assert.equal(containerResolvConf(host, { hostMode: true, dns: ['1.1.1.1'] }), 'search lan\nnameserver 1.1.1.1\n');
});

test('parseDnsServer: an IP literal, else Docker\'s error naming the value', () => {
  assert.equal(parseDnsServer('8.8.8.8'), '8.8.8.8');
  assert.equal(parseDnsServer(' 2001:4860:4860::8888 '), '2001:4860:4860::8888');
  for (const bad of ['x', 'dns.google', '8.8.8', '08.8.8.8', 'fe80::1%eth0', '']) {
    assert.throws(() => parseDnsServer(bad), invalid(new RegExp(`^invalid argument ${JSON.stringify(bad).replace(/\./g, '\\.')} for "--dns" flag: ${JSON.stringify(bad).replace(/\./g, '\\.')} is not an ip address`)), bad);
  }
});

test('hostnameFile: the hostname and a newline', () => {
  assert.equal(hostnameFile('abc123'), 'abc123\n');
});

test('hostResolvConfPath: systemd-resolved\'s upstream file when /etc/resolv.conf lists only its stub', () => {
  const reader = (files: Record<string, string>) => (p: string) => files[p];
  const upstream = { '/run/systemd/resolve/resolv.conf': 'nameserver 10.0.0.2\n' };
  assert.equal(hostResolvConfPath(reader({ '/etc/resolv.conf': '# stub\nnameserver 127.0.0.53\noptions edns0\n', ...upstream })), '/run/systemd/resolve/resolv.conf');
  assert.equal(hostResolvConfPath(reader({ '/etc/resolv.conf': 'nameserver 127.0.0.53\nnameserver 10.0.0.9\n', ...upstream })), '/etc/resolv.conf');
  assert.equal(hostResolvConfPath(reader({ '/etc/resolv.conf': 'nameserver 10.0.0.9\n', ...upstream })), '/etc/resolv.conf');
  assert.equal(hostResolvConfPath(reader({ '/etc/resolv.conf': 'nameserver 127.0.0.53\n' })), '/etc/resolv.conf');
  assert.equal(hostResolvConfPath(reader({})), '/etc/resolv.conf');
});
