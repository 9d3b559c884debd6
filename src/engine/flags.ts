/**
 * `docker run` / `docker create` flags, as strings, turned into a CreateRequest (Docker's Config
 * and HostConfig). This is the meaning of each flag — sizes as go-units reads them, `-e KEY` taken
 * from the caller's environment, `seccomp=FILE` read and embedded as the Docker CLI does — and the
 * format errors of each one. Cross-field rules (minimum memory, --cpus range …) are the daemon's,
 * in validate.ts. Any front end (the CLI, an API taking flag-like strings) can use it.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { BerthError } from '../util/errors.js';
import { bool, int, list, str, type FlagValues } from '../util/flag-values.js';
import { parseSize, parseSizeOrUnlimited } from '../util/size.js';
import { defaultContainerConfig, defaultHostConfig, type CreateRequest, type ThrottleDevice, type Ulimit } from './config.js';
import { cpusRangeMessage } from './validate.js';
import { parseMountFlag, parseTmpfsFlag, parseVolumeFlag } from './mounts.js';
import { isNetworkName } from './namespaces.js';
import { parseExtraHost, parseDnsServer } from '../network/etc-files.js';
import { parseIp, parseMac } from '../network/ipv4.js';
import { parseExpose, parsePublish } from '../network/ports.js';

/** Parsed flag values keyed by Docker's long flag name (`memory`, `cpu-shares`, `env` …). */
export type { FlagValues } from '../util/flag-values.js';

/** Who typed the flags: `-e KEY` is taken from `env`, relative paths (`--env-file`, `--rootfs`, `seccomp=FILE`) from `cwd`. */
export interface FlagCaller {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

/**
 * Build a CreateRequest from `docker run` flags and the command line after them. `image` is
 * `host` (or undefined) for the host root filesystem; `caller` resolves `-e KEY` and relative
 * paths (default: no environment, relative to /).
 */
export function requestFromFlags(f: FlagValues, image: string | undefined, cmd: string[], caller: FlagCaller = { env: {}, cwd: '/' }): CreateRequest {
  const { env } = caller;
  const p = { flags: f };
  const at = (p: string) => resolve(caller.cwd, p);
  const config = defaultContainerConfig();
  const hc = defaultHostConfig();
  const req: CreateRequest = { config, hostConfig: hc };
  config.Image = image ?? 'host';
  config.Cmd = [...cmd];
  const entrypoint = str(p, 'entrypoint');
  if (entrypoint !== undefined) config.Entrypoint = entrypoint === '' ? [] : [entrypoint];
  config.Hostname = str(p, 'hostname') ?? '';
  config.User = str(p, 'user') ?? '';
  config.WorkingDir = str(p, 'workdir') ?? '';
  if (config.WorkingDir && !isAbsolute(config.WorkingDir)) {
    throw new BerthError('EINVALID_ARG', `invalid --workdir ${JSON.stringify(config.WorkingDir)}: the working directory must be an absolute path`);
  }
  config.OpenStdin = bool(p, 'interactive');
  // Docker: `run -d -i` attaches no stdin now, so a later attach's EOF does not close it (no
  // StdinOnce); `run -i` and `create -i` close the container's stdin when the attached one ends.
  config.AttachStdin = config.OpenStdin && !bool(p, 'detach');
  config.StdinOnce = config.AttachStdin;
  config.Tty = bool(p, 'tty');
  config.Env = [...list(p, 'env-file').flatMap((file) => readEnvFile(at(file), env, file)), ...list(p, 'env').flatMap((e) => envEntry(e, env))];
  for (const lab of list(p, 'label')) {
    const eq = lab.indexOf('=');
    config.Labels[eq < 0 ? lab : lab.slice(0, eq)] = eq < 0 ? '' : lab.slice(eq + 1);
  }
  if (str(p, 'stop-signal')) config.StopSignal = str(p, 'stop-signal');
  if (int(p, 'stop-timeout') !== undefined) config.StopTimeout = int(p, 'stop-timeout');

  hc.AutoRemove = bool(p, 'rm');
  hc.ReadonlyRootfs = bool(p, 'read-only');
  hc.Privileged = bool(p, 'privileged');
  hc.Init = bool(p, 'init');
  hc.CapAdd = list(p, 'cap-add');
  hc.CapDrop = list(p, 'cap-drop');
  hc.SecurityOpt = list(p, 'security-opt').map((o) => securityOpt(o, at));
  hc.CgroupParent = str(p, 'cgroup-parent') ?? '';
  hc.CgroupnsMode = str(p, 'cgroupns') ?? '';
  hc.PidMode = str(p, 'pid') ?? '';
  hc.IpcMode = str(p, 'ipc') ?? '';
  hc.UTSMode = str(p, 'uts') ?? '';
  hc.UsernsMode = str(p, 'userns') ?? '';
  hc.NetworkMode = str(p, 'network') ?? str(p, 'net') ?? '';
  networkFlags(p, config, hc);
  const ip = str(p, 'ip');
  const aliases = list(p, 'network-alias');
  if (ip !== undefined || aliases.length) {
    // Docker: --ip and --network-alias belong to the network of --network.
    const net = hc.NetworkMode;
    if (!isNetworkName(net)) throw new BerthError('EINVALID_ARG', `conflicting options: ${ip !== undefined ? '--ip' : '--network-alias'} needs --network with a network's name (bridge or a user-defined network), not ${JSON.stringify(net || 'the default (none)')}`);
    if (ip !== undefined && parseIp(ip) === undefined) throw new BerthError('EINVALID_ARG', `invalid --ip ${JSON.stringify(ip)}: use an IPv4 address such as 172.30.100.104`);
    req.networkingConfig = { EndpointsConfig: { [net]: { ...(aliases.length ? { Aliases: aliases } : {}), ...(ip !== undefined ? { IPAMConfig: { IPv4Address: ip } } : {}) } } };
  }
  hc.RestartPolicy = restartPolicy(str(p, 'restart') ?? 'no');
  for (const v of list(p, 'volume')) {
    // `-v /path`: an anonymous volume, which Docker keeps in Config.Volumes
    if (!v.includes(':') && isAbsolute(v)) (config.Volumes ??= {})[v] = {};
    else hc.Binds.push(parseVolumeFlag(v));
  }
  const from = list(p, 'volumes-from');
  for (const v of from) {
    if (!/^[^:]+(:(ro|rw))?$/.test(v)) throw new BerthError('EINVALID_ARG', `invalid --volumes-from ${JSON.stringify(v)}: use CONTAINER, CONTAINER:ro or CONTAINER:rw`);
  }
  if (from.length) hc.VolumesFrom = from;
  for (const m of list(p, 'mount')) hc.Mounts.push(parseMountFlag(m));
  for (const t of list(p, 'tmpfs')) Object.assign(hc.Tmpfs, parseTmpfsFlag(t));

  const size = (k: string) => (str(p, k) !== undefined ? parseSize(str(p, k)!, `--${k}`) : 0);
  hc.Memory = size('memory');
  hc.MemoryReservation = size('memory-reservation');
  hc.ShmSize = size('shm-size');
  if (str(p, 'memory-swap') !== undefined) hc.MemorySwap = parseSizeOrUnlimited(str(p, 'memory-swap')!, '--memory-swap');
  if (int(p, 'memory-swappiness') !== undefined) hc.MemorySwappiness = int(p, 'memory-swappiness')!;
  hc.OomKillDisable = bool(p, 'oom-kill-disable');
  hc.OomScoreAdj = int(p, 'oom-score-adj') ?? 0;
  if (str(p, 'cpus') !== undefined) hc.NanoCpus = parseCpus(str(p, 'cpus')!);
  hc.CpuShares = int(p, 'cpu-shares') ?? 0;
  hc.CpuPeriod = int(p, 'cpu-period') ?? 0;
  hc.CpuQuota = int(p, 'cpu-quota') ?? 0;
  hc.CpusetCpus = str(p, 'cpuset-cpus') ?? '';
  hc.CpusetMems = str(p, 'cpuset-mems') ?? '';
  if (int(p, 'pids-limit') !== undefined) hc.PidsLimit = int(p, 'pids-limit')!;
  hc.BlkioWeight = int(p, 'blkio-weight') ?? 0;
  hc.BlkioWeightDevice = list(p, 'blkio-weight-device').map((v) => {
    const d = devicePair(v, '--blkio-weight-device');
    if (!/^\d+$/.test(d.value)) throw new BerthError('EINVALID_ARG', `invalid weight ${JSON.stringify(d.value)} for --blkio-weight-device: use PATH:WEIGHT with a weight from 10 to 1000`);
    return { Path: d.path, Weight: Number(d.value) };
  });
  const rate = (k: string, isSize: boolean): ThrottleDevice[] => list(p, k).map((v) => {
    const d = devicePair(v, `--${k}`);
    if (isSize) return { Path: d.path, Rate: parseSize(d.value, `--${k}`) };
    if (!/^\d+$/.test(d.value)) throw new BerthError('EINVALID_ARG', `invalid rate ${JSON.stringify(d.value)} for --${k}: use PATH:NUMBER (operations per second)`);
    return { Path: d.path, Rate: Number(d.value) };
  });
  hc.BlkioDeviceReadBps = rate('device-read-bps', true);
  hc.BlkioDeviceWriteBps = rate('device-write-bps', true);
  hc.BlkioDeviceReadIOps = rate('device-read-iops', false);
  hc.BlkioDeviceWriteIOps = rate('device-write-iops', false);
  hc.Ulimits = list(p, 'ulimit').map(parseUlimit);
  hc.Devices = list(p, 'device').map((v) => {
    const [host, ctr, perms] = v.split(':');
    if (!host || !isAbsolute(host)) throw new BerthError('EINVALID_ARG', `invalid --device ${JSON.stringify(v)}: use HOST-PATH[:CONTAINER-PATH[:PERMISSIONS]] with absolute paths`);
    const perm = perms ?? (ctr && /^[rwm]+$/.test(ctr) ? ctr : 'rwm');
    const inCtr = ctr && !/^[rwm]+$/.test(ctr) ? ctr : host;
    if (!/^[rwm]{1,3}$/.test(perm)) throw new BerthError('EINVALID_ARG', `invalid --device ${JSON.stringify(v)}: permissions ${JSON.stringify(perm)} must be made of r, w and m`);
    return { PathOnHost: host, PathInContainer: inCtr, CgroupPermissions: perm };
  });
  hc.DeviceCgroupRules = list(p, 'device-cgroup-rule');
  for (const kv of list(p, 'cgroup-conf')) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new BerthError('EINVALID_ARG', `invalid --cgroup-conf ${JSON.stringify(kv)}: use KEY=VALUE, e.g. memory.high=64m`);
    hc.CgroupConf[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const pull = str(p, 'pull');
  if (pull !== undefined && !['always', 'missing', 'never'].includes(pull)) throw new BerthError('EINVALID_ARG', `invalid --pull ${JSON.stringify(pull)}: use always, missing or never`);
  const platform = str(p, 'platform');
  return {
    name: str(p, 'name'), rootfs: str(p, 'rootfs') ? at(str(p, 'rootfs')!) : undefined, report: bool(p, 'report'), config, hostConfig: hc,
    ...(req.networkingConfig ? { networkingConfig: req.networkingConfig } : {}),
    ...(pull ? { pull: pull as NonNullable<CreateRequest['pull']> } : {}), ...(platform ? { platform } : {}),
  };
}

/** `--cpus 1.5` → 1.5e9 nano-CPUs (Docker's NanoCPUs.Set, exact to 9 decimals). */
export function parseCpus(text: string): number {
  if (!/^-?\d+(\.\d+)?$/.test(text.trim())) {
    throw new BerthError('EINVALID_ARG', `invalid argument ${JSON.stringify(text)} for --cpus: use a number of cpus such as 0.5 or 2`);
  }
  const nano = Math.round(Number(text) * 1e9);
  // 0 would read as "no limit" afterwards (Docker's NanoCPUs): refuse it here, where it was typed.
  if (nano <= 0) throw new BerthError('EINVALID_ARG', cpusRangeMessage(Number(text), availableParallelism()));
  return nano;
}

/** `-e KEY=VALUE` is kept; `-e KEY` takes KEY from the environment, or is dropped when unset. */
function envEntry(e: string, env: Readonly<Record<string, string | undefined>>): string[] {
  if (e === '' || e.startsWith('=')) throw new BerthError('EINVALID_ARG', `invalid environment variable ${JSON.stringify(e)}: use KEY=VALUE or KEY`);
  if (e.includes('=')) return [e];
  return env[e] !== undefined ? [`${e}=${env[e]}`] : [];
}

/**
 * `--env-file FILE`: one KEY=VALUE (or KEY, taken from `env`) per line; blank lines and `#`
 * comments skipped. `file` is read as given (absolute, or relative to this process's directory);
 * `typed` is how the caller wrote it, for the error.
 */
export function readEnvFile(file: string, env: Readonly<Record<string, string | undefined>>, typed = file): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new BerthError('EINVALID_ARG', `cannot read --env-file ${typed}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return text.split('\n').map((line) => line.replace(/^\s+/, '').replace(/\r$/, ''))
    .filter((line) => line !== '' && !line.startsWith('#'))
    .flatMap((line) => envEntry(line, env));
}

/** `--restart no|always|unless-stopped|on-failure[:N]`. */
export function restartPolicy(text: string): { Name: string; MaximumRetryCount: number } {
  const [name, count] = text.split(':');
  if (name === 'on-failure' && (count === undefined || /^\d+$/.test(count))) return { Name: name, MaximumRetryCount: Number(count ?? 0) };
  if ((name === 'no' || name === 'always' || name === 'unless-stopped') && count === undefined) return { Name: name, MaximumRetryCount: 0 };
  throw new BerthError('EINVALID_ARG', `invalid restart policy ${JSON.stringify(text)}: use no, always, unless-stopped or on-failure[:max-retries]`);
}

/** `--security-opt`: `seccomp=FILE` is read and embedded (the Docker CLI does the same). */
function securityOpt(opt: string, at: (p: string) => string): string {
  const eq = opt.indexOf('=');
  const key = eq < 0 ? opt : opt.slice(0, eq);
  const value = eq < 0 ? '' : opt.slice(eq + 1);
  if (key === 'no-new-privileges' && (eq < 0 || value === 'true' || value === 'false')) return opt;
  if (key === 'systempaths' && value === 'unconfined') return opt;
  if (key === 'seccomp') {
    if (value === 'unconfined' || value === 'builtin') return opt;
    if (!value) throw new BerthError('EINVALID_ARG', 'invalid --security-opt seccomp=: give a profile file, unconfined or builtin');
    let text: string;
    try {
      text = readFileSync(at(value), 'utf8');
    } catch (err) {
      throw new BerthError('EINVALID_ARG', `opening seccomp profile ${value} failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    try {
      return `seccomp=${JSON.stringify(JSON.parse(text))}`;
    } catch {
      throw new BerthError('EINVALID_ARG', `seccomp profile ${value} is not valid json`);
    }
  }
  // Docker's forms; whether they apply is the host's matter (validate.ts adaptHostConfig).
  if (key === 'apparmor' && value) return opt;
  if (key === 'label' && /^(disable|nested|(user|role|type|level|filetype):.+)$/.test(value)) return opt;
  if (key === 'label' || key === 'apparmor') {
    throw new BerthError('EINVALID_ARG', `invalid --security-opt ${JSON.stringify(opt)}: use apparmor=PROFILE, label=user:USER, label=role:ROLE, label=type:TYPE, label=level:LEVEL or label=disable`);
  }
  throw new BerthError('EINVALID_ARG', `invalid --security-opt ${JSON.stringify(opt)}: use no-new-privileges, seccomp=FILE, seccomp=unconfined or systempaths=unconfined`);
}

function devicePair(v: string, flag: string): { path: string; value: string } {
  const i = v.lastIndexOf(':');
  const path = v.slice(0, i);
  if (i <= 0 || !isAbsolute(path)) throw new BerthError('EINVALID_ARG', `invalid ${flag} ${JSON.stringify(v)}: use DEVICE-PATH:VALUE, e.g. /dev/sda:1mb`);
  return { path, value: v.slice(i + 1) };
}

/** `--ulimit nofile=1024:2048` (a single number sets soft and hard; -1 is unlimited). */
export function parseUlimit(v: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(v);
  if (!m) throw new BerthError('EINVALID_ARG', `invalid --ulimit ${JSON.stringify(v)}: use NAME=SOFT[:HARD], e.g. nofile=1024:2048`);
  const soft = Number(m[2]);
  const hard = m[3] !== undefined ? Number(m[3]) : soft;
  if (soft > hard && hard !== -1) throw new BerthError('EINVALID_ARG', `invalid --ulimit ${v}: soft limit ${soft} is above hard limit ${hard}`);
  return { Name: m[1]!, Soft: soft, Hard: hard };
}

/**
 * The network flags that need no network to exist yet: -p, -P, --expose, --dns*, --add-host,
 * --mac-address, --domainname (format errors now, as Docker's CLI gives them; the rest at create).
 */
function networkFlags(p: { flags: FlagValues }, config: CreateRequest['config'], hc: CreateRequest['hostConfig']): void {
  const published = parsePublish(list(p, 'publish'));
  const exposed = { ...parseExpose(list(p, 'expose')), ...published.exposed };
  if (Object.keys(exposed).length) config.ExposedPorts = exposed;
  hc.PortBindings = published.bindings;
  hc.PublishAllPorts = bool(p, 'publish-all');
  hc.Dns = list(p, 'dns').map(parseDnsServer);
  hc.DnsSearch = list(p, 'dns-search');
  hc.DnsOptions = list(p, 'dns-option');
  // host-gateway is resolved at start (the gateway of the container's first network).
  hc.ExtraHosts = list(p, 'add-host').map((h) => { parseExtraHost(h, '0.0.0.0'); return h; });
  const mac = str(p, 'mac-address');
  if (mac !== undefined) config.MacAddress = parseMac(mac);
  config.Domainname = str(p, 'domainname') ?? '';
}
