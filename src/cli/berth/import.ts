/**
 * `berth import [-c CHANGE]... [-m MESSAGE] FILE|- [REPOSITORY[:TAG]]`: make a one-layer image
 * from a root filesystem tarball (gzip, zstd or plain; `-` reads stdin). `--change` takes the
 * Dockerfile instructions Docker's import takes: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL,
 * STOPSIGNAL, USER, VOLUME, WORKDIR. Prints the new image id.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { list } from '../args.js';
import { tempNameFor } from '../../util/atomic.js';
import { importRootfs } from '../../image/index.js';
import type { ImageRunConfig } from '../../engine/image-config.js';
import { BerthError } from '../../util/errors.js';
import type { Command } from './context.js';
import { imageOptions } from './image-output.js';

/** Applies one `--change` instruction to an image config. */
export function applyChange(c: ImageRunConfig, change: string): void {
  const m = /^\s*(\w+)\s+([\s\S]*)$/.exec(change);
  if (!m) throw new BerthError('EINVALID_ARG', `invalid --change ${JSON.stringify(change)}: use INSTRUCTION ARGUMENTS, e.g. CMD ["sh"]`);
  const op = m[1]!.toUpperCase();
  const arg = m[2]!.trim();
  const words = (): string[] => {
    if (arg.startsWith('[')) {
      try { return JSON.parse(arg) as string[]; } catch { /* shell form */ }
    }
    return ['/bin/sh', '-c', arg];
  };
  const pairs = (): [string, string][] => arg.split(/\s+/).map((kv) => { const i = kv.indexOf('='); return [i < 0 ? kv : kv.slice(0, i), i < 0 ? '' : kv.slice(i + 1).replace(/^"(.*)"$/, '$1')]; });
  switch (op) {
    case 'CMD': c.Cmd = words(); break;
    case 'ENTRYPOINT': c.Entrypoint = words(); break;
    case 'ENV': for (const [k, v] of pairs()) c.Env = [...(c.Env ?? []).filter((e) => !e.startsWith(`${k}=`)), `${k}=${v}`]; break;
    case 'EXPOSE': for (const port of arg.split(/\s+/)) c.ExposedPorts = { ...(c.ExposedPorts ?? {}), [port.includes('/') ? port : `${port}/tcp`]: {} }; break;
    case 'LABEL': for (const [k, v] of pairs()) c.Labels = { ...(c.Labels ?? {}), [k]: v }; break;
    case 'STOPSIGNAL': c.StopSignal = arg; break;
    case 'USER': c.User = arg; break;
    case 'VOLUME': for (const v of arg.startsWith('[') ? (JSON.parse(arg) as string[]) : arg.split(/\s+/)) c.Volumes = { ...(c.Volumes ?? {}), [v]: {} }; break;
    case 'WORKDIR': c.WorkingDir = arg; break;
    default: throw new BerthError('EINVALID_ARG', `invalid --change ${JSON.stringify(change)}: ${op} is not one of CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR`);
  }
}

export const importCmd: Command = {
  name: 'import',
  aliases: ['image import'],
  usage: 'import [OPTIONS] FILE|- [REPOSITORY[:TAG]]',
  summary: 'import the contents from a tarball to create a filesystem image',
  warm: (p) => p.positional[0] !== '-',
  flags: [
    { name: 'change', aliases: ['c'], type: 'list', help: 'apply a Dockerfile instruction to the created image' },
    { name: 'message', aliases: ['m'], type: 'string', help: 'set a commit message for the imported image' },
    { name: 'platform', type: 'string', help: 'accepted for compatibility (the image gets this host\'s platform)' },
  ],
  args: [1, 2],
  async run(ctx, p) {
    let file = p.positional[0] === '-' ? '-' : ctx.path(p.positional[0]!);
    let staged: string | undefined;
    if (file === '-') {
      await mkdir(join(ctx.paths.dataRoot, 'tmp'), { recursive: true });
      staged = tempNameFor(join(ctx.paths.dataRoot, 'tmp', 'import.tar'));
      await pipeline(ctx.stdin.stream(), createWriteStream(staged, { flags: 'wx' }));
      file = staged;
    }
    try {
      const changes: ImageRunConfig = { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] };
      for (const c of list(p, 'change')) applyChange(changes, c);
      const img = await importRootfs(file, p.positional[1], { ...imageOptions(ctx), changes });
      ctx.stdout.write(`${img.id}\n`);
    } finally {
      if (staged) await rm(staged, { force: true });
    }
    return 0;
  },
};
