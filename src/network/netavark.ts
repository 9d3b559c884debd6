/**
 * The network backend: netavark (with aardvark-dns for names), the tool Podman 4+ uses, called
 * once per container start and once per stop. Berth decides everything (subnet, addresses,
 * names, ports) and hands netavark the whole picture as JSON; netavark makes the bridge, the veth
 * pair, the routes, the firewall rules and port forwards, and tells aardvark-dns the names.
 * Why netavark and not the CNI plugins: docs/networking.md (DNS by name built in, removes what
 * it made, faster setup; figures there).
 *
 * Its JSON (netavark 1.x): `setup <netns>` reads NetavarkOptions on stdin and prints the status
 * per network; `teardown <netns>` reads the same options. Both need the namespace file to exist.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BerthError } from '../util/errors.js';

/** A network as netavark takes it. */
export interface NetavarkNetwork {
  name: string;
  id: string;
  driver: 'bridge';
  network_interface: string;
  subnets: { subnet: string; gateway: string }[];
  ipv6_enabled: boolean;
  internal: boolean;
  dns_enabled: boolean;
  options?: Record<string, string>;
  ipam_options: { driver: 'host-local' };
}

/** One port forward as netavark takes it. */
export interface NetavarkPort {
  host_ip: string;
  container_port: number;
  host_port: number;
  range: number;
  protocol: string;
}

/** Everything netavark needs for one container (setup and teardown take the same). */
export interface NetavarkOptions {
  container_id: string;
  container_name: string;
  networks: Record<string, { interface_name: string; static_ips: string[]; aliases: string[]; static_mac?: string }>;
  network_info: Record<string, NetavarkNetwork>;
  port_mappings?: NetavarkPort[];
}

/** What setup reports for each network. */
export type NetavarkStatus = Record<string, {
  dns_search_domains?: string[];
  dns_server_ips?: string[];
  interfaces: Record<string, { mac_address: string; subnets?: { ipnet: string; gateway?: string }[] }>;
}>;

const PLACES = ['/usr/lib/podman', '/usr/libexec/podman', '/usr/local/libexec/podman', '/usr/local/lib/podman'];

function find(name: string, override: string | undefined): string | undefined {
  if (override) return override;
  for (const dir of PLACES) if (existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) if (dir && existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  return undefined;
}

/** The netavark and aardvark-dns binaries (BERTH_NETAVARK / BERTH_AARDVARK override), or an error saying what to install. */
export function backendPrograms(): { netavark: string; aardvark: string } {
  const netavark = find('netavark', process.env.BERTH_NETAVARK);
  const aardvark = find('aardvark-dns', process.env.BERTH_AARDVARK);
  if (!netavark || !aardvark) {
    throw new BerthError('EUNSUPPORTED', `bridge networks need ${!netavark ? 'netavark' : 'aardvark-dns'}, which is not installed: apt-get install netavark aardvark-dns (or use --network none or host; BERTH_DEFAULT_NETWORK=none makes none the default)`);
  }
  return { netavark, aardvark };
}

function call(configDir: string, verb: 'setup' | 'teardown', netns: string, opts: NetavarkOptions): Promise<string> {
  const { netavark, aardvark } = backendPrograms();
  return new Promise((resolve, reject) => {
    const child = execFile(netavark, ['--config', configDir, '--rootless', 'false', '--aardvark-binary', aardvark, verb, netns],
      { encoding: 'utf8', timeout: 60_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
        if (!err) { resolve(stdout); return; }
        // netavark prints {"error": "..."} on failure.
        let msg = '';
        try { msg = (JSON.parse(stdout) as { error?: string }).error ?? ''; } catch { /* not JSON */ }
        msg ||= (stderr || stdout || err.message).trim().split('\n').filter((l) => !/syslog/.test(l)).join('; ');
        reject(new BerthError('EHELPER', `netavark ${verb}: ${msg}`));
      });
    child.stdin!.end(JSON.stringify(opts));
  });
}

/** Set up the container's networks in the namespace at `netns`; returns netavark's status. */
export async function netavarkSetup(configDir: string, netns: string, opts: NetavarkOptions): Promise<NetavarkStatus> {
  const out = await call(configDir, 'setup', netns, opts);
  return JSON.parse(out) as NetavarkStatus;
}

/** Undo netavark setup: veths, firewall rules, port forwards, DNS entries (the bridge when it is the last). */
export async function netavarkTeardown(configDir: string, netns: string, opts: NetavarkOptions): Promise<void> {
  await call(configDir, 'teardown', netns, opts);
}
