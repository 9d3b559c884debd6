/**
 * `berth version [--format]` and `berth info [--format]`: Docker's two reports. Berth has no
 * daemon, so the "server" is the engine every command runs (the same documents the Engine API's
 * /version and /info give, engine/info.ts).
 */
import { str, type FlagSpec } from '../args.js';
import { API_VERSION, dockerArch, engineInfo, versionDocument } from '../../engine/info.js';
import type { BerthContext, Command } from './context.js';
import { renderTemplate } from './format.js';
import { VERSION } from './version.js';

/** `--format json`, a template, or the text Docker prints. */
function print(ctx: BerthContext, doc: Record<string, unknown>, format: string | undefined, text: () => string): number {
  ctx.stdout.write(format === 'json' ? `${JSON.stringify(doc)}\n` : format ? `${renderTemplate(format, doc)}\n` : text());
  return 0;
}

const FORMAT: FlagSpec = { name: 'format', aliases: ['f'], type: 'string', help: 'format the output using a go template or json' };

export const version: Command = {
  name: 'version',
  usage: 'version [OPTIONS]',
  summary: 'show the Berth version information',
  warm: () => true,
  flags: [FORMAT],
  args: [0, 0],
  async run(ctx, p) {
    const server = versionDocument(VERSION) as { Version: string; ApiVersion: string; MinAPIVersion: string; Arch: string; KernelVersion: string };
    const doc = { Client: { Platform: { Name: 'Berth' }, Version: VERSION, ApiVersion: API_VERSION, NodeVersion: process.version, Os: 'linux', Arch: dockerArch() }, Server: server };
    return print(ctx, doc, str(p, 'format'), () => `Client: Berth\n Version:           ${VERSION}\n API version:       ${API_VERSION}\n Node version:      ${process.version}\n`
      + ` OS/Arch:           linux/${dockerArch()}\n\nServer: Berth (daemonless: each command runs the engine)\n Engine:\n  Version:          ${server.Version}\n`
      + `  API version:      ${server.ApiVersion} (minimum version ${server.MinAPIVersion})\n  OS/Arch:          linux/${server.Arch}\n  Kernel:           ${server.KernelVersion}\n`);
  },
};

const gib = (n: number) => `${(n / 1024 ** 3).toFixed(2)}GiB`;

export const info: Command = {
  name: 'info',
  aliases: ['system info'],
  usage: 'info [OPTIONS]',
  summary: 'display system-wide information',
  warm: () => true,
  flags: [FORMAT],
  args: [0, 0],
  async run(ctx, p) {
    const i = await engineInfo(ctx.paths, VERSION);
    return print(ctx, i, str(p, 'format'), () => [
      'Server:',
      ` Containers: ${i.Containers}`, `  Running: ${i.ContainersRunning}`, `  Paused: ${i.ContainersPaused}`, `  Stopped: ${i.ContainersStopped}`,
      ` Images: ${i.Images}`, ` Server Version: ${i.ServerVersion}`, ` Storage Driver: ${i.Driver}`, ` Logging Driver: ${i.LoggingDriver}`,
      ` Cgroup Driver: ${i.CgroupDriver}`, ` Cgroup Version: ${i.CgroupVersion}`, ' Runtimes: berth-runtime', ` Default Runtime: ${i.DefaultRuntime}`,
      ' Security Options:', '  seccomp', '   Profile: default', ` Kernel Version: ${i.KernelVersion}`, ` Operating System: ${i.OperatingSystem}`,
      ` OSType: ${i.OSType}`, ` Architecture: ${i.Architecture}`, ` CPUs: ${i.NCPU}`, ` Total Memory: ${gib(i.MemTotal as number)}`, ` Name: ${i.Name}`,
      ` Berth Root Dir: ${i.DockerRootDir}`, ' Live Restore Enabled: true (containers outlive every berth command)', '',
    ].join('\n'));
  },
};
