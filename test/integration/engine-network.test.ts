/**
 * Bridge networks as a user meets them: `berth network ...`, `run --network NAME`, names that
 * resolve on a user network and not across networks, published ports reached from the host side,
 * the errors of bad input, and nothing left behind after a stop, a removal or a crash.
 *
 * Where the traffic goes: the engine runs inside a network namespace this test makes
 * (`ip netns add berth-test-<pid>-net`, every command through `nsenter --net`), so the bridges,
 * addresses, firewall rules and forwards exist only there, and every packet goes between that
 * namespace, its containers and its loopback. The namespace is deleted at the end, which takes
 * whatever a failed test left in it along.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNoLeaks, makeBusyboxRootfs, processTag, repoRoot, whyNotRoot } from '../support/bundle.js';
import { BerthCli, delay, until } from './engine-cli.js';

const missing = ['/usr/lib/podman/netavark', '/usr/lib/podman/aardvark-dns'].find((p) => !existsSync(p));
const skip = whyNotRoot() ?? (missing ? `${missing} is not installed (apt-get install netavark aardvark-dns)` : undefined);
if (skip) console.log(`# skipping the bridge network tests: ${skip}`);

const nsName = `${processTag()}-net`;
const netns = `/run/netns/${nsName}`;
let b: BerthCli;
let rootfs: string;
let tmp: string;

/** Run a command inside the test's namespace (the "host side" of its containers). */
function inNs(cmd: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('nsenter', [`--net=${netns}`, '--', ...cmd], { encoding: 'utf8', input, timeout: 20_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** What the namespace holds: its interfaces and the firewall rules that name an address or a container. */
function netState(): { links: string[]; rules: string[] } {
  const links = inNs(['ip', '-o', 'link', 'show']).stdout.split('\n').filter(Boolean).map((l) => l.split(':')[1]!.trim().split('@')[0]!).sort();
  const rules = inNs(['iptables-save']).stdout.split('\n').filter((l) => l.startsWith('-A') && /\d+\.\d+\.\d+\.\d+|dnat name/.test(l)).sort();
  return { links, rules };
}

/** Every lease and attachment on disk. */
function leases(): string[] {
  const dir = join(b.data, 'networks');
  const out: string[] = [];
  for (const id of existsSync(dir) ? readdirSync(dir) : []) {
    const f = join(dir, id, 'leases.json');
    if (existsSync(f)) out.push(...Object.values(JSON.parse(readFileSync(f, 'utf8')) as Record<string, { Name: string }>).map((l) => `${id.slice(0, 12)} ${l.Name}`));
  }
  const att = join(dir, 'attached');
  if (existsSync(att)) out.push(...readdirSync(att).map((f) => `attached ${f}`));
  return out;
}

const run = (args: string[]) => b.exec(args);
/** `inspect` of one container, parsed. */
async function inspectOf(name: string): Promise<{ Id: string; NetworkSettings: { IPAddress: string; Networks: Record<string, { IPAddress: string }> } }> {
  const r = await run(['inspect', name]);
  return (JSON.parse(r.stdout) as never[])[0]!;
}
const rf = () => ['--rootfs', rootfs];
const HTTPD = ['sh', '-c', 'mkdir -p /w && echo "hello from $(hostname)" > /w/index.html && exec httpd -f -p 80 -h /w'];

before(async () => {
  if (skip) return;
  execFileSync('ip', ['netns', 'add', nsName]);
  inNs(['ip', 'link', 'set', 'lo', 'up']);
  b = new BerthCli('engine-net', { netns });
  tmp = mkdtempSync(join(tmpdir(), `${processTag()}-net-`));
  rootfs = join(tmp, 'rootfs');
  await makeBusyboxRootfs(rootfs);
});

after(async () => {
  if (skip) return;
  // The engine's namespace pinned under the run root (the detached monitors' way back, network/netns.ts).
  spawnSync('umount', ['-l', join(b.run, '.network/engine-netns')]);
  await b.cleanup();
  // aardvark-dns is started by netavark and outlives it: stop the one of this test (by its pid file).
  const pidFile = join(b.run, '.network/netavark/aardvark-dns/aardvark.pid');
  if (existsSync(pidFile)) { try { process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL'); } catch { /* gone */ } }
  spawnSync('ip', ['netns', 'del', nsName]);
  rmSync(tmp, { recursive: true, force: true });
  await assertNoLeaks(processTag());
});

test('two containers on a user network reach each other by name and alias; another network cannot; the default bridge has no names', { skip }, async () => {
  const before = netState();
  assert.equal((await run(['network', 'create', 'berth-t-front'])).code, 0);
  assert.equal((await run(['network', 'create', 'berth-t-back'])).code, 0);
  const srv = await run(['run', '-d', '--name', 'berth-t-srv', ...b.cg, ...rf(), '--network', 'berth-t-front', '--network-alias', 'www', '--', ...HTTPD]);
  assert.equal(srv.code, 0, srv.stderr);
  const ip = (await inspectOf('berth-t-srv')).NetworkSettings.Networks['berth-t-front']!.IPAddress;
  assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
  const same = await run(['run', '--rm', ...b.cg, ...rf(), '--network', 'berth-t-front', '--', 'sh', '-c',
    'for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://berth-t-srv/ && break; sleep 0.2; done; wget -qO- http://www/; cat /etc/resolv.conf']);
  assert.equal(same.code, 0, same.stderr);
  const short = (await b.inspect('berth-t-srv', '{{.Id}}')).slice(0, 12);
  assert.match(same.stdout, new RegExp(`^hello from ${short}\nhello from ${short}\nnameserver `));
  // Another network: the name does not resolve, and the address is not reachable either (isolated bridges, as Docker's).
  const other = await run(['run', '--rm', ...b.cg, ...rf(), '--network', 'berth-t-back', '--', 'sh', '-c',
    `nslookup berth-t-srv >/dev/null 2>&1; echo dns=$?; timeout 3 wget -qO- http://${ip}/ >/dev/null 2>&1; echo http=$?`]);
  assert.equal(other.stdout, 'dns=1\nhttp=143\n', other.stderr);
  // The default bridge: addresses, no names (Docker's legacy bridge).
  const s2 = await run(['run', '-d', '--name', 'berth-t-srv2', ...b.cg, ...rf(), '--network', 'bridge', '--', ...HTTPD]);
  assert.equal(s2.code, 0, s2.stderr);
  const ip2 = await b.inspect('berth-t-srv2', '{{.NetworkSettings.IPAddress}}');
  assert.match(ip2, /^172\.17\.0\.\d+$/, 'the default bridge takes Docker\'s first pool');
  const onBridge = await run(['run', '--rm', ...b.cg, ...rf(), '--network', 'bridge', '--', 'sh', '-c',
    `nslookup berth-t-srv2 >/dev/null 2>&1; echo dns=$?; for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://${ip2}/ && break; sleep 0.2; done`]);
  assert.match(onBridge.stdout, /^dns=1\nhello from /, onBridge.stderr);
  // A detached container that ends by itself is released by its monitor's cleanup, with no reconcile.
  const short2 = await run(['run', '-d', '--name', 'berth-t-brief', ...b.cg, ...rf(), '--network', 'berth-t-front', '--', 'sh', '-c', 'sleep 0.2']);
  assert.equal(short2.code, 0, short2.stderr);
  const briefId = (await inspectOf('berth-t-brief')).Id;
  assert.equal(await until(() => !existsSync(join(b.data, 'networks/attached', `${briefId}.json`)), 8000), true, 'the exited container\'s attachment is gone');
  assert.equal((await run(['rm', 'berth-t-brief'])).code, 0);
  // stats: NET I/O counts the container's own interfaces (it served two pages: more than 0B each way).
  const st = await run(['stats', '--no-stream', '--format', '{{.NetIO}}', 'berth-t-srv']);
  assert.match(st.stdout, /^[1-9][\d.]*k?B \/ [1-9][\d.]*k?B\n$/, st.stderr);
  // inspect: NetworkSettings and the network's Containers.
  const net = JSON.parse((await run(['network', 'inspect', 'berth-t-front'])).stdout) as { Name: string; Containers: Record<string, { Name: string; IPv4Address: string }> }[];
  assert.deepEqual(Object.values(net[0]!.Containers).map((c) => [c.Name, c.IPv4Address.split('/')[0]]), [['berth-t-srv', ip]]);
  // Removing a network in use is refused; after the containers go, everything goes.
  const inUse = await run(['network', 'rm', 'berth-t-front']);
  assert.equal(inUse.code, 1);
  assert.match(inUse.stderr, /^berth: error while removing network: network berth-t-front id [0-9a-f]{64} has active endpoints \(berth-t-srv\)\n$/);
  assert.equal((await run(['rm', '-f', 'berth-t-srv', 'berth-t-srv2'])).code, 0);
  assert.equal((await run(['network', 'rm', 'berth-t-front', 'berth-t-back'])).code, 0);
  assert.deepEqual(leases(), []);
  const afterState = netState();
  assert.deepEqual(afterState.rules, before.rules);
  assert.deepEqual(afterState.links.filter((l) => !before.links.includes(l) && l !== 'berth0'), [], 'no veth or user bridge is left');
});

test('published ports: -p HOST-IP:PORT:PORT and /udp serve from the host side; -P picks free ports that port shows; a taken port is an error', { skip }, async () => {
  const before = netState();
  assert.equal((await run(['network', 'create', 'berth-t-ports'])).code, 0);
  const web = await run(['run', '-d', '--name', 'berth-t-web', ...b.cg, ...rf(), '--network', 'berth-t-ports', '-p', '127.0.0.1:18080:80', '-p', '18081:5353/udp', '--', 'sh', '-c',
    'mkdir -p /w && echo published > /w/index.html && exec httpd -f -p 80 -h /w']);
  assert.equal(web.code, 0, web.stderr);
  const got = await until(() => { const r = inNs(['busybox', 'wget', '-qO-', 'http://127.0.0.1:18080/']); return r.code === 0 ? r.stdout : ''; }, 5000);
  assert.equal(got, 'published\n');
  // UDP: busybox has no UDP server here, so a container on the host's root filesystem runs one in node.
  const udp = await run(['run', '-d', '--name', 'berth-t-udp', ...b.cg, '--network', 'berth-t-ports', '-p', '18082:5353/udp', '--', process.execPath, '-e',
    "const s = require('dgram').createSocket('udp4'); s.on('message', (m) => console.log('got ' + m)); s.bind(5353)"]);
  assert.equal(udp.code, 0, udp.stderr);
  const send = "const s = require('dgram').createSocket('udp4'); s.send('over-udp', 18082, '127.0.0.1', () => s.close())";
  const heard = await until(async () => { inNs([process.execPath, '-e', send]); return (await run(['logs', 'berth-t-udp'])).stdout.includes('got over-udp'); }, 8000);
  assert.equal(heard, true, 'the udp datagram reached the container');
  assert.deepEqual((await run(['port', 'berth-t-web'])).stdout.split('\n').filter(Boolean).sort(), ['5353/udp -> 0.0.0.0:18081', '80/tcp -> 127.0.0.1:18080']);
  assert.equal((await run(['port', 'berth-t-web', '80'])).stdout, '127.0.0.1:18080\n');
  assert.match((await run(['ps'])).stdout, /127\.0\.0\.1:18080->80\/tcp/);
  // The same host port again: Docker's error at start, and nothing of the second container's networking remains.
  const taken = await run(['run', '--rm', ...b.cg, ...rf(), '--network', 'berth-t-ports', '-p', '18080:80', '--', 'true']);
  assert.equal(taken.code, 125);
  assert.match(taken.stderr, /bind for 0\.0\.0\.0:18080 failed: port is already allocated\n$/);
  // A port a host process holds.
  const holder = spawn('nsenter', [`--net=${netns}`, '--', 'busybox', 'nc', '-l', '-p', '18090'], { stdio: 'ignore' });
  try {
    await until(() => inNs(['cat', '/proc/net/tcp']).stdout.includes(':46AA '), 3000);
    const busy = await run(['run', '--rm', ...b.cg, ...rf(), '--network', 'berth-t-ports', '-p', '18090:80', '--', 'true']);
    assert.equal(busy.code, 125);
    assert.match(busy.stderr, /18090 failed: port is already allocated/);
  } finally {
    holder.kill('SIGKILL');
  }
  // -P with --expose: random free host ports, shown by `port`, serving.
  const all = await run(['run', '-d', '--name', 'berth-t-all', ...b.cg, ...rf(), '--network', 'berth-t-ports', '--expose', '80', '-P', '--', ...HTTPD]);
  assert.equal(all.code, 0, all.stderr);
  const line = (await run(['port', 'berth-t-all'])).stdout;
  const m = /^80\/tcp -> 0\.0\.0\.0:(\d+)\n$/.exec(line);
  assert.ok(m, line);
  const viaRandom = await until(() => { const r = inNs(['busybox', 'wget', '-qO-', `http://127.0.0.1:${m![1]}/`]); return r.code === 0 ? r.stdout : ''; }, 5000);
  assert.match(viaRandom, /^hello from /);
  const rmAll = await run(['rm', '-f', 'berth-t-web', 'berth-t-udp', 'berth-t-all']);
  assert.equal(rmAll.code, 0, rmAll.stderr);
  const rmNet = await run(['network', 'rm', 'berth-t-ports']);
  assert.equal(rmNet.code, 0, rmNet.stderr);
  assert.deepEqual(leases(), []);
  assert.deepEqual(netState().rules, before.rules);
});

test('network connect and disconnect of a running container: names, addresses and resolv.conf follow; its published port keeps serving; nothing leaks', { skip }, async () => {
  const before = netState();
  assert.equal((await run(['network', 'create', 'berth-t-na'])).code, 0);
  assert.equal((await run(['network', 'create', 'berth-t-nb'])).code, 0);
  const srv = await run(['run', '-d', '--name', 'berth-t-lsrv', ...b.cg, ...rf(), '--network', 'berth-t-na', '-p', '127.0.0.1:18095:80', '--', ...HTTPD]);
  assert.equal(srv.code, 0, srv.stderr);
  const cli = await run(['run', '-d', '--name', 'berth-t-lcli', ...b.cg, ...rf(), '--network', 'berth-t-nb', '--', 'sleep', '600']);
  assert.equal(cli.code, 0, cli.stderr);
  const fetch = async () => (await run(['exec', 'berth-t-lcli', 'sh', '-c', 'timeout 3 wget -qO- http://berth-t-lsrv/ 2>&1; echo rc=$?'])).stdout;
  assert.match(await fetch(), /bad address 'berth-t-lsrv'\nrc=1\n$/);
  // Connect: a second interface, its address in inspect, the network's resolver in resolv.conf.
  const con = await run(['network', 'connect', '--alias', 'second', 'berth-t-na', 'berth-t-lcli']);
  assert.equal(con.code, 0, con.stderr);
  assert.match(await fetch(), /^hello from [0-9a-f]{12}\nrc=0\n$/);
  const nets = (await inspectOf('berth-t-lcli')).NetworkSettings.Networks;
  assert.deepEqual(Object.keys(nets).sort(), ['berth-t-na', 'berth-t-nb']);
  const seen = await run(['exec', 'berth-t-lcli', 'sh', '-c', 'ip -4 -o addr show eth1 | awk "{print \\$4}"; grep -c ^nameserver /etc/resolv.conf']);
  assert.equal(seen.stdout, `${nets['berth-t-na']!.IPAddress}/16\n2\n`, seen.stderr);
  // The server's own alias on the network it was connected to: found by another container there.
  const byAlias = await run(['run', '--rm', ...b.cg, ...rf(), '--network', 'berth-t-na', '--', 'sh', '-c', 'nslookup second >/dev/null && echo found']);
  assert.equal(byAlias.stdout, 'found\n', byAlias.stderr);
  // Connected twice, or to a network that does not exist: Docker's errors.
  assert.match((await run(['network', 'connect', 'berth-t-na', 'berth-t-lcli'])).stderr, /^berth: endpoint with name berth-t-lcli already exists in network berth-t-na\n$/);
  assert.match((await run(['network', 'connect', 'berth-t-nosuch', 'berth-t-lcli'])).stderr, /^berth: network berth-t-nosuch not found\n$/);
  // The server joins nb too, then leaves na's side of its published port alone: the port keeps serving.
  assert.equal((await run(['network', 'connect', 'berth-t-nb', 'berth-t-lsrv'])).code, 0);
  assert.equal((await run(['network', 'disconnect', 'berth-t-nb', 'berth-t-lsrv'])).code, 0);
  const viaPort = await until(() => { const r = inNs(['busybox', 'wget', '-qO-', 'http://127.0.0.1:18095/']); return r.code === 0 ? r.stdout : ''; }, 5000);
  assert.match(viaPort, /^hello from /);
  // Disconnect: the interface, the address and the resolver go; the name no longer resolves.
  const dis = await run(['network', 'disconnect', 'berth-t-na', 'berth-t-lcli']);
  assert.equal(dis.code, 0, dis.stderr);
  assert.match(await fetch(), /bad address 'berth-t-lsrv'\nrc=1\n$/);
  assert.equal((await run(['exec', 'berth-t-lcli', 'sh', '-c', 'echo $(ls /sys/class/net); grep -c ^nameserver /etc/resolv.conf'])).stdout, 'eth0 lo\n1\n');
  assert.deepEqual(Object.keys((await inspectOf('berth-t-lcli')).NetworkSettings.Networks), ['berth-t-nb']);
  // The last network too, as in Docker: lo only is left, and a stopped container so disconnected
  // starts with lo only.
  assert.equal((await run(['network', 'disconnect', 'berth-t-nb', 'berth-t-lcli'])).code, 0);
  assert.equal((await run(['exec', 'berth-t-lcli', 'sh', '-c', 'echo $(ls /sys/class/net)'])).stdout, 'lo\n');
  assert.deepEqual(Object.keys((await inspectOf('berth-t-lcli')).NetworkSettings.Networks), []);
  const lone = await run(['create', '--name', 'berth-t-lone', ...b.cg, ...rf(), '--network', 'berth-t-nb', '--', 'sh', '-c', 'echo $(ls /sys/class/net)']);
  assert.equal(lone.code, 0, lone.stderr);
  assert.equal((await run(['network', 'disconnect', 'berth-t-nb', 'berth-t-lone'])).code, 0);
  const loneRun = await run(['start', '-a', 'berth-t-lone']);
  assert.deepEqual([loneRun.code, loneRun.stdout], [0, 'lo\n'], loneRun.stderr);
  assert.equal((await run(['rm', 'berth-t-lone'])).code, 0);
  // Connected while running, released at its end like the rest.
  assert.equal((await run(['network', 'connect', 'berth-t-na', 'berth-t-lcli'])).code, 0);
  assert.equal((await run(['rm', '-f', 'berth-t-lsrv', 'berth-t-lcli'])).code, 0);
  assert.equal((await run(['network', 'rm', 'berth-t-na', 'berth-t-nb'])).code, 0);
  assert.deepEqual(leases(), []);
  const afterState = netState();
  assert.deepEqual(afterState.rules, before.rules);
  assert.deepEqual(afterState.links.filter((l) => !before.links.includes(l) && l !== 'berth0'), []);
});

test('no --network: Docker\'s default bridge; BERTH_DEFAULT_NETWORK=none gives lo only, and a wrong one is named', { skip }, async () => {
  const r = await run(['run', '--rm', ...b.cg, ...rf(), '--', 'sh', '-c', 'ip -4 -o addr show eth0 | awk "{print \\$4}"; ls /sys/class/net']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^172\.17\.0\.\d+\/16\neth0\nlo\n$/);
  assert.equal((await run(['create', '--name', 'berth-t-dflt', ...rf(), '--', 'true'])).code, 0);
  assert.equal(await b.inspect('berth-t-dflt', '{{.HostConfig.NetworkMode}}'), 'bridge');
  assert.deepEqual(Object.keys((await inspectOf('berth-t-dflt')).NetworkSettings.Networks), ['bridge']);
  assert.equal((await run(['rm', 'berth-t-dflt'])).code, 0);
  // `--network default` is Docker's name for the same.
  assert.match((await run(['run', '--rm', ...b.cg, ...rf(), '--network', 'default', '--', 'ls', '/sys/class/net'])).stdout, /^eth0\nlo\n$/);
  // With a user namespace mapping: the namespace the engine made is not the container's to mount
  // a sysfs for, so /sys is the host's, read-only (spec.ts sysMount); the network works the same.
  chmodSync(b.data, 0o711);
  chmodSync(tmp, 0o711);
  const mapped = await run(['run', '--rm', ...b.cg, ...rf(), '--userns', '0:100000:65536', '--', 'sh', '-c',
    'ip -4 -o addr show eth0 | awk "{print \\$4}"; touch /sys/kernel/x 2>&1; cat /proc/self/uid_map | tr -s " "']);
  assert.equal(mapped.code, 0, mapped.stderr);
  assert.match(mapped.stdout, /^172\.17\.0\.\d+\/16\ntouch: \/sys\/kernel\/x: Read-only file system\n 0 100000 65536\n$/);
  const none = await b.exec(['run', '--rm', ...b.cg, ...rf(), '--', 'ls', '/sys/class/net'], { env: { BERTH_DEFAULT_NETWORK: 'none' } });
  assert.equal(none.stdout, 'lo\n', none.stderr);
  const wrong = await b.exec(['run', '--rm', ...b.cg, ...rf(), '--', 'true'], { env: { BERTH_DEFAULT_NETWORK: 'berth-t-nosuch' } });
  assert.equal(wrong.code, 125);
  assert.equal(wrong.stderr, 'berth: BERTH_DEFAULT_NETWORK=berth-t-nosuch: network berth-t-nosuch not found\n');
  assert.deepEqual(leases(), []);
});

test('network create flags: --internal, --subnet with --ip-range, --label, -o bridge name and MTU, as the container and inspect see them', { skip }, async () => {
  const c = await run(['network', 'create', '--internal', '--subnet', '10.88.0.0/24', '--ip-range', '10.88.0.128/25', '--label', 'team=web',
    '-o', 'com.docker.network.bridge.name=berth-t-br', '-o', 'com.docker.network.driver.mtu=1400', 'berth-t-opts']);
  assert.equal(c.code, 0, c.stderr);
  const n = (JSON.parse((await run(['network', 'inspect', 'berth-t-opts'])).stdout) as { Internal: boolean; Labels: Record<string, string>; IPAM: { Config: { Subnet: string; IPRange?: string; Gateway: string }[] } }[])[0]!;
  assert.equal(n.Internal, true);
  assert.deepEqual(n.Labels, { team: 'web' });
  assert.equal(n.IPAM.Config[0]!.Subnet, '10.88.0.0/24');
  assert.equal(n.IPAM.Config[0]!.IPRange, '10.88.0.128/25');
  const r = await run(['run', '--rm', ...b.cg, ...rf(), '--network', 'berth-t-opts', '--', 'sh', '-c',
    'ip -4 -o addr show eth0 | awk "{print \\$4}"; cat /sys/class/net/eth0/mtu; ip route | grep -c ^default; ls /sys/class/net/ >/dev/null']);
  assert.equal(r.code, 0, r.stderr);
  const [addr, mtu, defaults] = r.stdout.trim().split('\n');
  assert.match(addr!, /^10\.88\.0\.(\d+)\/24$/);
  assert.ok(Number(/\.(\d+)\//.exec(addr!)![1]) >= 128, `an address of the --ip-range: ${addr}`);
  assert.equal(mtu, '1400');
  assert.equal(defaults, '0', 'an internal network gives no default route');
  // The bridge by the name given (made with the first container, removed with the last).
  const held = await run(['run', '-d', '--name', 'berth-t-optc', ...b.cg, ...rf(), '--network', 'berth-t-opts', '--', 'sleep', '600']);
  assert.equal(held.code, 0, held.stderr);
  assert.ok(netState().links.includes('berth-t-br'), netState().links.join(' '));
  assert.equal((await run(['network', 'ls', '--filter', 'label=team=web', '--format', '{{.Name}}'])).stdout, 'berth-t-opts\n');
  assert.equal((await run(['rm', '-f', 'berth-t-optc'])).code, 0);
  assert.equal((await run(['network', 'rm', 'berth-t-opts'])).code, 0);
  assert.ok(!netState().links.includes('berth-t-br'));
});

test('bad network input: one-line errors, nothing left behind', { skip }, async () => {
  assert.equal((await run(['network', 'create', '--subnet', '10.77.0.0/16', 'berth-t-a'])).code, 0);
  const cases: [string[], RegExp][] = [
    [['network', 'create', '--subnet', '10.77.1.0/24', 'berth-t-b'], /^berth: invalid --subnet 10\.77\.1\.0\/24: it overlaps 10\.77\.0\.0\/16 of network berth-t-a/],
    [['network', 'create', '--subnet', '10.78.0.1/16', 'berth-t-b'], /^berth: invalid --subnet "10\.78\.0\.1\/16": host bits are set/],
    [['network', 'create', '--gateway', '10.79.0.1', 'berth-t-b'], /^berth: every ip-range or gateway must have a corresponding subnet/],
    [['network', 'create', '--subnet', '10.79.0.0/16', '--gateway', '10.80.0.1', 'berth-t-b'], /^berth: no matching subnet for gateway 10\.80\.0\.1/],
    [['network', 'create', '-d', 'overlay', 'berth-t-b'], /^berth: invalid --driver "overlay": Berth has the bridge driver only\n$/],
    [['network', 'create', 'berth-t-a'], /^berth: network with name berth-t-a already exists\n$/],
    [['network', 'create', 'host'], /^berth: network with name host already exists\n$/],
    [['network', 'rm', 'bridge'], /^berth: bridge is a pre-defined network and cannot be removed\n$/],
    [['network', 'rm', 'berth-t-nosuch'], /^berth: network berth-t-nosuch not found\n$/],
    [['run', '--rm', ...rf(), '--network', 'berth-t-nosuch', '--', 'true'], /^berth: network berth-t-nosuch not found\n$/],
    [['run', '--rm', ...rf(), '--network', 'berth-t-a', '-p', '80:abc', '--', 'true'], /^berth: invalid -p "80:abc"/],
    [['run', '--rm', ...rf(), '--network', 'berth-t-a', '--ip', '10.99.0.5', '--', 'true'], /^berth: invalid --ip "10\.99\.0\.5": use a free host address of network berth-t-a's subnet 10\.77\.0\.0\/16/],
    [['run', '--rm', ...rf(), '--network', 'none', '-p', '8080:80', '--', 'true'], /^berth: conflicting options: --publish needs a bridge network \(--network bridge or the name of one\), not --network none\n$/],
    [['run', '--rm', ...rf(), '--network', 'berth-t-a', '--add-host', 'nocolon', '--', 'true'], /^berth: invalid argument "nocolon" for "--add-host" flag/],
    [['run', '--rm', ...rf(), '--network', 'berth-t-a', '--dns', 'x.y', '--', 'true'], /^berth: invalid argument "x\.y" for "--dns" flag/],
  ];
  const before = b.containers().length;
  for (const [args, re] of cases) {
    const r = await run(args);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
    assert.equal(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`);
  }
  assert.equal(b.containers().length, before, 'no container was left');
  assert.deepEqual(leases(), []);
  // A static address, extra hosts, DNS flags and a MAC as the container sees them.
  const r = await run(['run', '--rm', ...b.cg, ...rf(), '--network', 'berth-t-a', '--ip', '10.77.3.4', '--mac-address', '02:42:0a:4d:03:04', '-h', 'box', '--domainname', 'example.test',
    '--add-host', 'db.local:10.1.2.3', '--add-host', 'gw:host-gateway', '--dns-search', 'corp.test', '--dns-option', 'ndots:2', '--', 'sh', '-c',
    'ip -4 -o addr show eth0 | awk "{print \\$4}"; cat /sys/class/net/eth0/address; grep -v "^ff\\|^fe\\|^::1\\|^127" /etc/hosts; cat /etc/resolv.conf; hostname']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '10.77.3.4/16\n02:42:0a:4d:03:04\n10.1.2.3\tdb.local\n10.77.0.1\tgw\n10.77.3.4\tbox.example.test box\nsearch corp.test\nnameserver 10.77.0.1\noptions ndots:2\nbox\n');
  assert.equal((await run(['network', 'rm', 'berth-t-a'])).code, 0);
});

test('after a crash: a killed monitor is reconciled by container prune, a reboot that emptied the run directory by network prune; nothing leaks', { skip }, async () => {
  const before = netState();
  assert.equal((await run(['network', 'create', 'berth-t-crash'])).code, 0);
  for (const n of ['berth-t-c1', 'berth-t-c2']) {
    const r = await run(['run', '-d', '--name', n, ...b.cg, ...rf(), '--network', 'berth-t-crash', '-p', `1${n.endsWith('1') ? 9001 : 9002}:80`, '--', 'sleep', '600']);
    assert.equal(r.code, 0, r.stderr);
  }
  assert.equal(leases().length, 4);
  // c1: its monitor and its init are killed (no exit file, no cleanup ran).
  const mon = JSON.parse(readFileSync(join(b.data, 'containers', await b.inspect('berth-t-c1', '{{.Id}}'), 'container.json'), 'utf8')) as { Monitor: { pid: number }; State: { Pid: number } };
  process.kill(mon.Monitor.pid, 'SIGKILL');
  process.kill(mon.State.Pid, 'SIGKILL');
  await delay(200);
  // container prune releases what the dead left.
  const cpruned = await run(['container', 'prune', '-f']);
  assert.equal(cpruned.code, 0, cpruned.stderr);
  assert.equal(leases().length, 2, `c1's lease and attachment are released: ${leases().join(', ')}`);
  const pruned = await run(['network', 'prune', '-f']);
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.equal(pruned.stdout, '', 'berth-t-crash is still used by c2');
  assert.equal(netState().rules.some((l) => l.includes('19001')), false, 'c1\'s port forward is gone');
  // c2: a "reboot": every process gone and the run directory (namespaces, netavark's state) emptied.
  const c2 = JSON.parse(readFileSync(join(b.data, 'containers', await b.inspect('berth-t-c2', '{{.Id}}'), 'container.json'), 'utf8')) as { Monitor: { pid: number }; State: { Pid: number } };
  process.kill(c2.Monitor.pid, 'SIGKILL');
  process.kill(c2.State.Pid, 'SIGKILL');
  await delay(200);
  spawnSync('umount', ['-l', join(b.run, '.network/netns', await b.inspect('berth-t-c2', '{{.Id}}'))]);
  spawnSync('umount', ['-l', join(b.run, '.network/engine-netns')]);
  rmSync(join(b.run, '.network'), { recursive: true, force: true });
  const pruned2 = await run(['network', 'prune', '-f']);
  assert.equal(pruned2.stdout, 'Deleted Networks:\nberth-t-crash\n', pruned2.stderr);
  assert.deepEqual(leases(), []);
  assert.deepEqual(netState().rules, before.rules);
  assert.equal((await run(['rm', '-f', 'berth-t-c1', 'berth-t-c2'])).code, 0);
});

test('after a crash: a foreground berth run killed with SIGKILL leaves no lease, rule or namespace', { skip }, async () => {
  const before = netState();
  assert.equal((await run(['network', 'create', 'berth-t-killed'])).code, 0);
  // nsenter execs node: the child's pid is berth's own.
  const fg = spawn('nsenter', [`--net=${netns}`, '--', process.execPath, join(repoRoot, 'bin/berth.js'), '--data-root', b.data, '--root', b.run,
    'run', '--name', 'berth-t-fg', ...b.cg, ...rf(), '--network', 'berth-t-killed', '-p', '19003:80', '--', 'sleep', '600'], { stdio: 'ignore', env: process.env });
  try {
    assert.equal(await until(() => leases().some((l) => l.startsWith('attached')) && netState().rules.some((l) => l.includes('19003')), 10_000), true, 'the run got its network');
  } finally {
    fg.kill('SIGKILL');
  }
  await new Promise((r) => fg.once('close', r));
  const pruned = await run(['container', 'prune', '-f']);
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.deepEqual(leases(), []);
  assert.deepEqual(netState().rules, before.rules);
  assert.equal(readdirSync(join(b.run, '.network/netns')).length, 0, 'its namespace is gone');
  assert.equal((await run(['network', 'rm', 'berth-t-killed'])).code, 0);
});
