/**
 * The files Docker writes for a container's /etc/hosts, /etc/resolv.conf and /etc/hostname, by the
 * rules of moby's libnetwork (packages etchosts and resolvconf), and the flags that feed them
 * (`--add-host`, `--dns`). Pure: the host's resolv.conf comes in as text, and the choice of which
 * host file to read takes an injected reader.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { BerthError } from '../util/errors.js';

/** An `--add-host` entry. */
export interface ExtraHost { name: string; ip: string }

/** An IP literal as Go's net.ParseIP takes it: IPv4 or IPv6, no zone (`%eth0`). */
const isIpLiteral = (s: string) => isIP(s) !== 0 && !s.includes('%');

/**
 * `--add-host NAME:IP` (also NAME=IP as newer Docker accepts; IPv6 IPs may be bracketed "[::1]"). IP may be the word
 * `host-gateway`, replaced by `hostGateway` (undefined → an error saying host-gateway needs a bridge network gateway).
 * Splits at the first `=`, else at the first `:` (so `h:::1` is h → ::1). Errors like Docker's:
 * `invalid argument "x" for "--add-host" flag: bad format for add-host: "x"`.
 */
export function parseExtraHost(s: string, hostGateway?: string): ExtraHost {
  const bad = (why: string) => new BerthError('EINVALID_ARG', `invalid argument ${JSON.stringify(s)} for "--add-host" flag: ${why}`);
  const sep = s.includes('=') ? s.indexOf('=') : s.indexOf(':');
  const name = s.slice(0, sep);
  let ip = s.slice(sep + 1);
  // A colon or white space in the name would make a broken hosts line (Docker checks the colon).
  if (sep < 0 || name === '' || /[:\s]/.test(name)) throw bad(`bad format for add-host: ${JSON.stringify(s)}: use NAME:IP, e.g. db:10.1.0.5`);
  if (ip === 'host-gateway') {
    if (hostGateway === undefined) throw bad('host-gateway needs the gateway of a bridge network and there is none: give an IP address instead');
    return { name, ip: hostGateway };
  }
  if (ip.length > 2 && ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (!isIpLiteral(ip)) throw bad(`invalid IP address in add-host: ${JSON.stringify(ip)}: use an IPv4 or IPv6 address or host-gateway`);
  return { name, ip };
}

/** The lines every container's /etc/hosts starts with (moby etchosts defaultContent). */
const LOCALHOST_LINES = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

/**
 * /etc/hosts as Docker writes it: the localhost lines
 *   127.0.0.1\tlocalhost
 *   ::1\tlocalhost ip6-localhost ip6-loopback
 *   fe00::0\tip6-localnet
 *   ff00::0\tip6-mcastprefix
 *   ff02::1\tip6-allnodes
 *   ff02::2\tip6-allrouters
 * then each extra host "IP\tNAME", then for each of the container's own addresses "IP\tHOSTNAME" — with a
 * domain name "IP\tHOSTNAME.DOMAIN HOSTNAME" — plus its aliases on that line if given. As in moby, a
 * hostname that is itself a dotted name (`web.example.com`) also gets its first label (`web`). Ends with a newline.
 */
export function hostsFile(o: { hostname: string; domainname?: string; addresses: readonly string[]; aliases?: readonly string[]; extraHosts?: readonly ExtraHost[] }): string {
  const fqdn = o.domainname ? `${o.hostname}.${o.domainname}` : o.hostname;
  const short = fqdn.split('.')[0]!;
  const names = [...new Set([fqdn, short, ...(o.aliases ?? [])])].join(' ');
  return [
    ...LOCALHOST_LINES,
    ...(o.extraHosts ?? []).map((h) => `${h.ip}\t${h.name}`),
    ...o.addresses.map((ip) => `${ip}\t${names}`),
  ].join('\n') + '\n';
}

/** The parts of a resolv.conf. */
export interface ResolvConf { nameservers: string[]; search: string[]; options: string[] }

/**
 * The parts of a resolv.conf's text, as the C library reads them: every `nameserver` line's
 * address, the last `search` or `domain` line's domains (they replace each other), and the
 * options of all `options` lines. Text after `#` or `;` is a comment; other lines are ignored.
 */
export function parseResolvConf(text: string): ResolvConf {
  const rc: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const line of text.split('\n')) {
    const [key, ...args] = line.replace(/[#;].*/, '').trim().split(/\s+/);
    if (key === 'nameserver' && args[0]) rc.nameservers.push(args[0]);
    else if (key === 'search' || key === 'domain') rc.search = args;
    else if (key === 'options') rc.options.push(...args);
  }
  return rc;
}

/** Whether a nameserver is a loopback address (127.0.0.0/8 or ::1), which means nothing inside a network namespace. */
const isLoopback = (ip: string) => (isIPv4(ip) && ip.startsWith('127.')) || (isIPv6(ip) && /^(0{0,4}:){2,7}0{0,3}1$/.test(ip));

/** Docker's nameservers when the host's leave none (moby resolvconf defaultIPv4Dns, defaultIPv6Dns). */
const DEFAULT_DNS_V4 = ['8.8.8.8', '8.8.4.4'];
const DEFAULT_DNS_V6 = ['2001:4860:4860::8888', '2001:4860:4860::8844'];

/**
 * The container's resolv.conf, Docker's rules: start from the host's; drop loopback nameservers (127.0.0.0/8, ::1) because
 * they mean nothing inside a network namespace; drop IPv6 nameservers unless `ipv6`; if none are left, use 8.8.8.8
 * and 8.8.4.4 (and, with `ipv6`, 2001:4860:4860::8888 and ::8844: Docker's defaults). `--dns` replaces the nameservers,
 * `--dns-search` the search list ("." means none), `--dns-option` the options. With `networkDns` (a user network with DNS
 * by name: the address of Berth's resolver on that network) the nameservers become just [networkDns] unless --dns was
 * given. (Docker instead keeps its resolver then and has it forward to the --dns servers: a caller that wants that
 * passes --dns to the resolver, not here.) For `--network host` (`hostMode`) the host's file is used as is unless
 * --dns, --dns-search or --dns-option is given; then it is rebuilt from the host's parts with those replaced (no loopback
 * filtering: the host's resolver is reachable). Returns plain text: "search a b\nnameserver x\noptions y\n", empty lines omitted.
 */
export function containerResolvConf(hostText: string, o: { dns?: readonly string[]; dnsSearch?: readonly string[]; dnsOptions?: readonly string[]; networkDns?: string; hostMode?: boolean; ipv6?: boolean }): string {
  const given = (l: readonly string[] | undefined) => (l && l.length > 0 ? l : undefined);
  const dns = given(o.dns), dnsSearch = given(o.dnsSearch), dnsOptions = given(o.dnsOptions);
  if (o.hostMode && !dns && !dnsSearch && !dnsOptions) return hostText === '' || hostText.endsWith('\n') ? hostText : `${hostText}\n`;
  const host = parseResolvConf(hostText);
  let nameservers: readonly string[];
  if (dns) nameservers = dns;
  else if (o.hostMode) nameservers = host.nameservers;
  else if (o.networkDns !== undefined) nameservers = [o.networkDns];
  else {
    nameservers = host.nameservers.filter((ns) => isIpLiteral(ns) && !isLoopback(ns) && (o.ipv6 || !isIPv6(ns)));
    if (nameservers.length === 0) nameservers = o.ipv6 ? [...DEFAULT_DNS_V4, ...DEFAULT_DNS_V6] : DEFAULT_DNS_V4;
  }
  const search = (dnsSearch ?? host.search).filter((d) => d !== '.');
  const options = dnsOptions ?? host.options;
  return [
    ...(search.length > 0 ? [`search ${search.join(' ')}`] : []),
    ...nameservers.map((ns) => `nameserver ${ns}`),
    ...(options.length > 0 ? [`options ${options.join(' ')}`] : []),
  ].map((l) => `${l}\n`).join('');
}

/**
 * One `--dns` value: an IPv4 or IPv6 literal, returned trimmed. Otherwise Docker's kind of error:
 * `invalid argument "x" for "--dns" flag: "x" is not an ip address`.
 */
export function parseDnsServer(s: string): string {
  const ip = s.trim();
  if (!isIpLiteral(ip)) throw new BerthError('EINVALID_ARG', `invalid argument ${JSON.stringify(s)} for "--dns" flag: ${JSON.stringify(s)} is not an ip address: use an IPv4 or IPv6 address such as 8.8.8.8`);
  return ip;
}

/** /etc/hostname: the hostname and a newline. */
export function hostnameFile(hostname: string): string {
  return `${hostname}\n`;
}

/** Where systemd-resolved keeps the real upstream servers when /etc/resolv.conf points at its stub. */
const SYSTEMD_RESOLV_CONF = '/run/systemd/resolve/resolv.conf';

/**
 * Which host file a container's resolv.conf starts from, by Docker's rule: /etc/resolv.conf, unless
 * its only nameserver is 127.0.0.53 (the systemd-resolved stub, unreachable from a container's
 * network namespace); then /run/systemd/resolve/resolv.conf, which lists the servers the stub uses
 * (if it can be read: otherwise /etc/resolv.conf, whose loopback server is then filtered out).
 * `readText` returns a file's text, or undefined when it cannot be read.
 */
export function hostResolvConfPath(readText: (p: string) => string | undefined): string {
  const text = readText('/etc/resolv.conf');
  if (text === undefined) return '/etc/resolv.conf';
  const ns = parseResolvConf(text).nameservers;
  return ns.length === 1 && ns[0] === '127.0.0.53' && readText(SYSTEMD_RESOLV_CONF) !== undefined ? SYSTEMD_RESOLV_CONF : '/etc/resolv.conf';
}
