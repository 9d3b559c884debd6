/**
 * The few file operations Node's fs lacks — mknod(2) and setxattr(2) — done through Debian's
 * `mknod` (coreutils) and `setfattr` (package attr). Layers hold few device nodes and xattrs, and
 * every overlay whiteout is one mknod, so a process per call costs milliseconds per layer.
 * (When the native helper grows a file-operations mode these belong there.)
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BerthError, errnoCode } from '../util/errors.js';

const run = promisify(execFile);

async function tool(cmd: string, args: string[], pkg: string, what: string): Promise<void> {
  try {
    await run(cmd, args);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw new BerthError('EUNSUPPORTED', `${what} needs the ${cmd} command: apt-get install ${pkg}`);
    const stderr = (err as { stderr?: string }).stderr?.trim().split('\n')[0] ?? String(err);
    throw new BerthError('EUNPACK', `${what}: ${stderr}`, { cause: err });
  }
}

/** Creates a character or block device or a fifo at `path` (which must not exist). */
export async function mknod(path: string, type: 'chardev' | 'blockdev' | 'fifo', mode: number, major = 0, minor = 0): Promise<void> {
  const m = (mode & 0o7777).toString(8);
  const args = type === 'fifo' ? ['-m', m, path, 'p'] : ['-m', m, path, type === 'chardev' ? 'c' : 'b', String(major), String(minor)];
  await tool('mknod', args, 'coreutils', `mknod ${path}`);
}

/**
 * Sets an extended attribute on `path` without following a symlink there (`setfattr -h`).
 * The value is passed hex-encoded, so binary values (security.capability) survive.
 */
export async function setXattr(path: string, name: string, value: Buffer): Promise<void> {
  await tool('setfattr', ['-h', '-n', name, '-v', value.length ? `0x${value.toString('hex')}` : '', path], 'attr', `setxattr ${name} on ${path}`);
}

/**
 * Whether a layer's xattr may be applied: user.*, security.capability (file capabilities, e.g.
 * ping's cap_net_raw) and trusted.* — except trusted.overlay.*, which would let a layer forge
 * overlayfs metadata (redirects, opaque markers) and reach outside its own directory.
 */
export function xattrAllowed(name: string): boolean {
  if (name.startsWith('trusted.overlay.')) return false;
  return name.startsWith('user.') || name === 'security.capability' || name.startsWith('trusted.');
}
