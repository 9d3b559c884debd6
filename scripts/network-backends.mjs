// Issue 12 groundwork (run by scripts/network-backends.sh inside a private network namespace):
// per-container setup+teardown of a bridge network, netavark vs the CNI plugins chained as libcni does.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
const N = Number(process.argv[2] ?? 20);
const run = (cmd, args, input, env) => { const r = spawnSync(cmd, args, { input, env: { ...process.env, ...env }, encoding: 'utf8' }); if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stdout}${r.stderr}`); return r.stdout; };
const hex = (i) => (i.toString(16).padStart(8, '0')).repeat(8);
const ms = () => Number(process.hrtime.bigint()) / 1e6;
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)].toFixed(1); };
mkdirSync('/run/berthnb/nv', { recursive: true });
function netns(name) { run('ip', ['netns', 'add', name]); return `/run/netns/${name}`; }
// netavark
const nv = { setup: [], teardown: [] };
const netinfo = { bn: { name: 'bn', id: hex(1), driver: 'bridge', network_interface: 'bnav0', subnets: [{ subnet: '10.89.0.0/24', gateway: '10.89.0.1' }], ipv6_enabled: false, internal: false, dns_enabled: process.env.DNS !== '0', ipam_options: { driver: 'host-local' } } };
for (let i = 0; i < N; i++) {
  const p = netns(`nbnv${i}`);
  const opts = JSON.stringify({ container_id: hex(100 + i), container_name: `c${i}`, networks: { bn: { interface_name: 'eth0', static_ips: [`10.89.0.${i + 2}`], aliases: [`c${i}`] } }, network_info: netinfo, port_mappings: [{ host_ip: '', container_port: 80, host_port: 18000 + i, range: 1, protocol: 'tcp' }] });
  const args = ['--config', '/run/berthnb/nv', '--rootless', 'false', '--aardvark-binary', '/usr/lib/podman/aardvark-dns'];
  let t = ms(); run('/usr/lib/podman/netavark', [...args, 'setup', p], opts); nv.setup.push(ms() - t);
  t = ms(); run('/usr/lib/podman/netavark', [...args, 'teardown', p], opts); nv.teardown.push(ms() - t);
  run('ip', ['netns', 'del', `nbnv${i}`]);
}
// CNI: bridge(host-local) + portmap + firewall, chained by hand as libcni does
const cni = { setup: [], teardown: [] };
const confs = [
  { type: 'bridge', bridge: 'bncni0', isGateway: true, ipMasq: true, hairpinMode: true, ipam: { type: 'host-local', ranges: [[{ subnet: '10.90.0.0/24', gateway: '10.90.0.1' }]], dataDir: '/run/berthnb/cni-ipam' } },
  { type: 'portmap', capabilities: { portMappings: true } },
  { type: 'firewall' },
];
for (let i = 0; i < N; i++) {
  const p = netns(`nbcni${i}`);
  const env = { CNI_CONTAINERID: hex(200 + i), CNI_NETNS: p, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni' };
  const rc = { portMappings: [{ hostPort: 19000 + i, containerPort: 80, protocol: 'tcp' }] };
  let t = ms(); let prev;
  for (const c of confs) { const conf = { cniVersion: '1.0.0', name: 'bncni', ...c, ...(c.type === 'portmap' ? { runtimeConfig: rc } : {}), ...(prev ? { prevResult: prev } : {}) }; prev = JSON.parse(run(`/usr/lib/cni/${c.type}`, [], JSON.stringify(conf), { ...env, CNI_COMMAND: 'ADD' })); }
  cni.setup.push(ms() - t);
  t = ms();
  for (const c of [...confs].reverse()) { const conf = { cniVersion: '1.0.0', name: 'bncni', ...c, ...(c.type === 'portmap' ? { runtimeConfig: rc } : {}), prevResult: prev }; run(`/usr/lib/cni/${c.type}`, [], JSON.stringify(conf), { ...env, CNI_COMMAND: 'DEL' }); }
  cni.teardown.push(ms() - t);
  run('ip', ['netns', 'del', `nbcni${i}`]);
}
console.log(`N=${N} per container, median ms: netavark setup ${med(nv.setup)} teardown ${med(nv.teardown)} (first ${nv.setup[0].toFixed(1)}); CNI bridge+portmap+firewall setup ${med(cni.setup)} teardown ${med(cni.teardown)} (first ${cni.setup[0].toFixed(1)})`);
