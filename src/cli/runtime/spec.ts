/** `berth-runtime spec [--rootless] [--bundle DIR]`: write a default config.json, as runc does. */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chmodForCaller } from '../io.js';
import { bool, str } from '../args.js';
import { defaultSpec } from '../../oci/defaults.js';
import { BerthError } from '../../util/errors.js';
import type { Command } from './context.js';

export const spec: Command = {
  name: 'spec',
  usage: 'spec [command options]',
  summary: 'create a new specification file',
  flags: [
    { name: 'bundle', aliases: ['b'], type: 'string', help: 'path to the root of the bundle directory' },
    { name: 'rootless', type: 'bool', help: 'generate a configuration for a rootless container' },
  ],
  args: [0, 0],
  run(ctx, p) {
    const file = join(ctx.path(str(p, 'bundle') ?? '.'), 'config.json');
    if (existsSync(file)) throw new BerthError('EEXISTS', `file ${file} exists: remove it first`);
    writeFileSync(file, JSON.stringify(defaultSpec({ rootless: bool(p, 'rootless') }), null, '\t') + '\n', { flag: 'wx' });
    chmodForCaller(ctx, file);
    return 0;
  },
};
