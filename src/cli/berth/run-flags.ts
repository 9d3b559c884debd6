/**
 * The flags of `berth run` and `berth create`: Docker's names, short forms and types. Their
 * meaning is in src/engine/flags.ts; this is only the command-line surface.
 */
import type { FlagSpec } from '../args.js';
import { str, type Parsed } from '../args.js';
import type { Launched } from '../../engine/launch.js';
import type { Report } from '../../engine/report.js';
import type { SignalSource } from '../io.js';

const f = (name: string, type: FlagSpec['type'], help: string, aliases?: string[]): FlagSpec => ({ name, type, help, aliases });

/** Flags shared by run and create. */
export const CREATE_FLAGS: FlagSpec[] = [
  f('interactive', 'bool', 'keep stdin open', ['i']),
  f('tty', 'bool', 'allocate a pseudo-tty (foreground only for now)', ['t']),
  f('rm', 'bool', 'remove the container when it exits'),
  f('name', 'string', 'assign a name to the container'),
  f('env', 'list', 'set environment variables (KEY=VALUE, or KEY to take it from here)', ['e']),
  f('env-file', 'list', 'read environment variables from a file'),
  f('workdir', 'string', 'working directory inside the container', ['w']),
  f('user', 'string', 'username or uid (format: name|uid[:group|gid])', ['u']),
  f('hostname', 'string', 'container host name', ['h']),
  f('entrypoint', 'string', 'overwrite the default entrypoint'),
  f('label', 'list', 'set metadata on the container', ['l']),
  f('volume', 'list', 'bind mount a host path or a volume (HOST-PATH|NAME:CONTAINER-PATH[:ro], or CONTAINER-PATH for an anonymous volume)', ['v']),
  f('mount', 'list', 'attach a mount (type=bind|volume|tmpfs,...)'),
  f('volumes-from', 'list', 'mount the volumes and binds of a container (CONTAINER[:ro|:rw])'),
  f('tmpfs', 'list', 'mount a tmpfs directory (PATH[:OPTIONS])'),
  f('read-only', 'bool', 'mount the container\'s root filesystem as read only'),
  f('rootfs', 'string', 'run an unpacked root filesystem instead of an image'),
  f('pull', 'string', 'pull image before running ("always", "missing", "never")'),
  f('platform', 'string', 'set platform if server is multi-platform capable (this host\'s only: no emulation)'),
  f('init', 'bool', 'run an init inside the container that forwards signals and reaps processes'),
  f('stop-signal', 'string', 'signal to stop the container'),
  f('stop-timeout', 'int', 'timeout (in seconds) to stop a container'),
  f('restart', 'string', 'restart policy to apply when a container exits (no, on-failure[:N], always, unless-stopped)'),
  f('memory', 'string', 'memory limit', ['m']),
  f('memory-swap', 'string', 'swap limit equal to memory plus swap: -1 to enable unlimited swap'),
  f('memory-reservation', 'string', 'memory soft limit'),
  f('memory-swappiness', 'int', 'tune container memory swappiness (0 to 100)'),
  f('oom-kill-disable', 'bool', 'disable the OOM killer'),
  f('oom-score-adj', 'int', 'tune host\'s OOM preferences (-1000 to 1000)'),
  f('cpus', 'string', 'number of cpus'),
  f('cpu-shares', 'int', 'cpu shares (relative weight)', ['c']),
  f('cpu-period', 'int', 'limit cpu cfs period'),
  f('cpu-quota', 'int', 'limit cpu cfs quota'),
  f('cpuset-cpus', 'string', 'cpus in which to allow execution (0-3, 0,1)'),
  f('cpuset-mems', 'string', 'mems in which to allow execution (0-3, 0,1)'),
  f('pids-limit', 'int', 'tune container pids limit (-1 for unlimited)'),
  f('blkio-weight', 'int', 'block io (relative weight), between 10 and 1000'),
  f('blkio-weight-device', 'list', 'block io weight (relative device weight)'),
  f('device-read-bps', 'list', 'limit read rate (bytes per second) from a device'),
  f('device-write-bps', 'list', 'limit write rate (bytes per second) to a device'),
  f('device-read-iops', 'list', 'limit read rate (io per second) from a device'),
  f('device-write-iops', 'list', 'limit write rate (io per second) to a device'),
  f('ulimit', 'list', 'ulimit options (nofile=1024:2048)'),
  f('shm-size', 'string', 'size of /dev/shm'),
  f('device', 'list', 'add a host device to the container'),
  f('device-cgroup-rule', 'list', 'add a rule to the cgroup allowed devices list'),
  f('cgroup-parent', 'string', 'optional parent cgroup for the container'),
  f('cgroupns', 'string', 'cgroup namespace to use (host|private)'),
  f('cgroup-conf', 'list', 'raw cgroup v2 setting (KEY=VALUE)'),
  f('pid', 'string', 'pid namespace to use (host)'),
  f('ipc', 'string', 'ipc mode to use (host|private|none|shareable)'),
  f('uts', 'string', 'uts namespace to use (host)'),
  f('network', 'string', 'connect a container to a network (bridge, a network\'s name, none, host, container:NAME)', ['net']),
  f('network-alias', 'list', 'add a network-scoped alias for the container'),
  f('ip', 'string', 'IPv4 address (e.g. 172.30.100.104)'),
  f('mac-address', 'string', 'container MAC address (e.g. 92:d0:c6:0a:29:33)'),
  f('publish', 'list', 'publish a container\'s port(s) to the host ([HOST-IP:][HOST-PORT:]CONTAINER-PORT[/PROTO])', ['p']),
  f('publish-all', 'bool', 'publish all exposed ports to random ports', ['P']),
  f('expose', 'list', 'expose a port or a range of ports'),
  f('dns', 'list', 'set custom DNS servers'),
  f('dns-search', 'list', 'set custom DNS search domains'),
  f('dns-option', 'list', 'set DNS options'),
  f('add-host', 'list', 'add a custom host-to-IP mapping (host:ip, or host:host-gateway)'),
  f('domainname', 'string', 'container NIS domain name'),
  f('userns', 'string', 'user namespace to use (host)'),
  f('cap-add', 'list', 'add linux capabilities'),
  f('cap-drop', 'list', 'drop linux capabilities'),
  f('privileged', 'bool', 'give extended privileges to this container'),
  f('security-opt', 'list', 'security options (no-new-privileges, seccomp=FILE|unconfined, systempaths=unconfined)'),
];

/**
 * Split `run`'s positional arguments into the image and the command. Flags stop at the first
 * positional. After a `--` that ends the flags everything is the command and there is no image
 * (the host root filesystem); `IMAGE -- CMD` also works; with --rootfs there is no image either.
 * Otherwise the first positional is the image.
 */
export function imageAndCommand(argv: string[], p: Parsed): { image: string | undefined; cmd: string[] } {
  const first = argv.length - p.positional.length;
  const afterDashes = first > 0 && argv[first - 1] === '--';
  const rest = [...p.positional];
  if (afterDashes || str(p, 'rootfs') !== undefined) {
    if (rest[0] === '--') rest.shift();
    return { image: undefined, cmd: rest };
  }
  const image = rest.shift();
  if (rest[0] === '--') rest.shift();
  return { image, cmd: rest };
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/**
 * A container in the foreground (`run`, `start -a`): like Docker's sig-proxy, signals sent to
 * the caller (`signals`) go to the container's main process meanwhile; the handlers are removed
 * when it ends. Resolves with the report, or undefined when the user detached (the container
 * goes on in the background).
 */
export async function waitForeground(launched: Launched, signals: SignalSource): Promise<Report | undefined> {
  const forward = (sig: NodeJS.Signals) => { try { process.kill(launched.pid, sig); } catch { /* exited */ } };
  const offs = FORWARDED.map((sig) => signals.on(sig, forward));
  try {
    return await Promise.race([launched.exited, launched.detached.then(() => undefined)]);
  } finally {
    for (const off of offs) off();
  }
}
