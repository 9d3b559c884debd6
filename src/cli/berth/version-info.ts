/**
 * `berth version [--format]` and `berth info [--format]`: Docker's two reports. Berth has no
 * daemon, so the "server" is the engine every command runs (the same figures the Engine API's
 * /version and /info give, engine/info.ts).
 */
import { release } from 'node:os';
import { API_VERSION, MIN_API_VERSION } from '../../api/http.js';
import { str } from '../args.js';
import { engineInfo, dockerArch } from '../../engine/info.js';
import type { Command } from './context.js';
import { renderTemplate } from './format.js';
import { VERSION } from './version.js';

const API = { version: API_VERSION, min: MIN_API_VERSION };

function versionDoc(): Record<string, unknown> {
  return {
    Client: { Platform: { Name: 'Berth' }, Version: VERSION, ApiVersion: API.version, NodeVersion: process.version, Os: 'linux', Arch: dockerArch() },
    Server: {
      Platform: { Name: 'Berth (daemonless: each command runs the engine)' }, Version: VERSION, ApiVersion: API.version, MinAPIVersion: API.min,
      Os: 'linux', Arch: dockerArch(), KernelVersion: release(),
    },
  };
}

export const version: Command = {
  name: 'version',
  usage: 'version [OPTIONS]',
  summary: 'show the Berth version information',
  warm: () => true,
  flags: [{ name: 'format', aliases: ['f'], type: 'string', help: 'format the output using a go template or json' }],
  args: [0, 0],
  async run(ctx, p) {
    const doc = versionDoc();
    const format = str(p, 'format');
    if (format === 'json') ctx.stdout.write(`${JSON.stringify(doc)}\n`);
    else if (format) ctx.stdout.write(`${renderTemplate(format, doc)}\n`);
    else {
      const c = doc.Client as Record<string, string>;
      const s = doc.Server as Record<string, string>;
      ctx.stdout.write(`Client: Berth\n Version:           ${c.Version}\n API version:       ${c.ApiVersion}\n Node version:      ${c.NodeVersion}\n OS/Arch:           linux/${c.Arch}\n\n`
        + `Server: Berth (daemonless: each command runs the engine)\n Engine:\n  Version:          ${s.Version}\n  API version:      ${s.ApiVersion} (minimum version ${s.MinAPIVersion})\n`
        + `  OS/Arch:          linux/${s.Arch}\n  Kernel:           ${s.KernelVersion}\n`);
    }
    return 0;
  },
};

const gib = (n: number) => `${(n / 1024 ** 3).toFixed(2)}GiB`;

export const info: Command = {
  name: 'info',
  aliases: ['system info'],
  usage: 'info [OPTIONS]',
  summary: 'display system-wide information',
  warm: () => true,
  flags: [{ name: 'format', aliases: ['f'], type: 'string', help: 'format the output using a go template or json' }],
  args: [0, 0],
  async run(ctx, p) {
    const i = await engineInfo(ctx.paths, VERSION);
    const format = str(p, 'format');
    if (format === 'json') ctx.stdout.write(`${JSON.stringify(i)}\n`);
    else if (format) ctx.stdout.write(`${renderTemplate(format, i)}\n`);
    else {
      ctx.stdout.write([
        'Server:',
        ` Containers: ${i.Containers}`, `  Running: ${i.ContainersRunning}`, `  Paused: ${i.ContainersPaused}`, `  Stopped: ${i.ContainersStopped}`,
        ` Images: ${i.Images}`, ` Server Version: ${i.ServerVersion}`, ` Storage Driver: ${i.Driver}`, ` Logging Driver: ${i.LoggingDriver}`,
        ` Cgroup Driver: ${i.CgroupDriver}`, ` Cgroup Version: ${i.CgroupVersion}`, ' Runtimes: berth-runtime', ` Default Runtime: ${i.DefaultRuntime}`,
        ' Security Options:', '  seccomp', '   Profile: default', ` Kernel Version: ${i.KernelVersion}`, ` Operating System: ${i.OperatingSystem}`,
        ` OSType: ${i.OSType}`, ` Architecture: ${i.Architecture}`, ` CPUs: ${i.NCPU}`, ` Total Memory: ${gib(i.MemTotal as number)}`, ` Name: ${i.Name}`,
        ` Berth Root Dir: ${i.DockerRootDir}`, ' Live Restore Enabled: true (containers outlive every berth command)', '',
      ].join('\n'));
    }
    return 0;
  },
};
