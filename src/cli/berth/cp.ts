/**
 * `berth cp`: Docker's cp between a container and the host (or a tar stream on stdin/stdout
 * with `-`), with Docker's rules for what lands where:
 *
 *   source is a file: to an existing directory → inside it, under its own name; to anything else
 *     → that path (a missing DEST ending in / is an error);
 *   source is a directory: to an existing directory → inside it under its own name, or its
 *     contents when the source ends in "/."; to a missing path → that path is the copy; to a
 *     file → an error.
 *
 * Files copied into a container belong to its root unless -a (the source's owners, mapped into
 * the container's user namespace); files copied out belong to the caller unless -a. Paths in the
 * container are resolved inside it (engine/copy.ts); the host destination is written through
 * the same confined walk, so an archive from the container cannot write outside it.
 */
import { realpathSync, statSync, lstatSync } from 'node:fs';
import { posix } from 'node:path';
import { bool } from '../args.js';
import { ScopedFs } from '../../archive/scoped-fs.js';
import { packTree, unpackTree } from '../../archive/tree-tar.js';
import { findContainer } from '../../engine/containers.js';
import { archiveFromContainer, extractToContainer, isGoDir, openContainerFiles, statInContainer } from '../../engine/copy.js';
import { BerthError, errnoCode } from '../../util/errors.js';
import { streamToOutput } from '../io.js';
import type { Command } from './context.js';

/** Docker's split of a cp argument: CONTAINER:PATH, or a local path (absolute, or starting with '.', or with no colon). */
function splitArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  const i = arg.indexOf(':');
  if (i <= 0) return { path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) || '/' };
}

const endsInDot = (p: string): boolean => p === '.' || p.endsWith('/.');

export const cp: Command = {
  name: 'cp',
  aliases: ['container cp'],
  usage: 'cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n       berth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  summary: 'copy files/folders between a container and the local filesystem',
  warm: (p) => p.positional[0] !== '-' && p.positional[1] !== '-',
  flags: [
    { name: 'archive', aliases: ['a'], type: 'bool', help: 'archive mode (copy all uid/gid information)' },
    { name: 'follow-link', aliases: ['L'], type: 'bool', help: 'always follow symbol link in SRC_PATH' },
    { name: 'quiet', aliases: ['q'], type: 'bool', help: 'suppress progress output (berth prints none)' },
  ],
  args: [2, 2],
  async run(ctx, p) {
    const src = splitArg(p.positional[0]!);
    const dst = splitArg(p.positional[1]!);
    const archive = bool(p, 'archive');
    const follow = bool(p, 'follow-link');
    if (src.container && dst.container) throw new BerthError('EINVALID_ARG', 'copying between containers is not supported: copy to the host first');
    if (!src.container && !dst.container) throw new BerthError('EINVALID_ARG', 'must specify at least one container source (CONTAINER:PATH)');
    const absIn = (path: string): string => (path.startsWith('/') ? path : `/${path}`);

    if (src.container) {
      // Out of a container.
      const rec = await findContainer(ctx.paths, src.container);
      const files = openContainerFiles(ctx.paths, rec);
      try {
        let srcPath = absIn(src.path);
        let stat = statInContainer(files, srcPath);
        const rename = posix.basename(posix.normalize(srcPath));
        if (follow && stat.linkTarget) { srcPath = stat.linkTarget; stat = statInContainer(files, srcPath); }
        if (src.path.endsWith('/') && !isGoDir(stat.mode)) throw new BerthError('EINVALID_ARG', `${src.path}: not a directory`);
        if (dst.path === '-') {
          await streamToOutput(ctx.stdout, archiveFromContainer(files, srcPath));
          return 0;
        }
        const target = hostTarget(ctx.path(dst.path), dst.path.endsWith('/'), isGoDir(stat.mode), endsInDot(src.path) ? '.' : rename);
        const scope = ScopedFs.open(target.dir);
        try {
          const tar = packTreeFrom(files, srcPath, target.name);
          await unpackTree(scope, '/', tar, { owner: archive ? 'archive' : { uid: process.getuid!(), gid: process.getgid!() }, parentOwner: { uid: process.getuid!(), gid: process.getgid!() }, noOverwriteDirNonDir: true });
        } finally {
          scope.close();
        }
        return 0;
      } finally {
        files.close();
      }
    }

    // Into a container.
    const rec = await findContainer(ctx.paths, dst.container!);
    const files = openContainerFiles(ctx.paths, rec);
    try {
      let dstPath = absIn(dst.path);
      if (src.path === '-') {
        await extractToContainer(files, rec, dstPath, ctx.stdin.stream() as AsyncIterable<Buffer>, { copyUIDGID: archive, noOverwriteDirNonDir: true });
        return 0;
      }
      const local = ctx.path(src.path);
      let st;
      try { st = follow ? statSync(local) : lstatSync(local); } catch (err) {
        if (errnoCode(err) === 'ENOENT') throw new BerthError('ENOT_FOUND', `could not find the file ${src.path} on the host`);
        throw err;
      }
      if (src.path.endsWith('/') && !st.isDirectory()) throw new BerthError('EINVALID_ARG', `${src.path}: not a directory`);
      let existing;
      try { existing = statInContainer(files, dstPath); } catch (err) { if ((err as BerthError).code !== 'ENOT_FOUND') throw err; }
      if (existing?.linkTarget) { dstPath = existing.linkTarget; existing = statInContainer(files, dstPath); }
      let into: string;
      let name: string;
      if (existing && isGoDir(existing.mode)) {
        into = dstPath;
        name = st.isDirectory() && endsInDot(src.path) ? '.' : posix.basename(local);
      } else {
        if (existing && st.isDirectory()) throw new BerthError('EINVALID_ARG', `cannot copy a directory to a file: ${dst.path} exists and is not a directory`);
        if (!existing && dst.path.endsWith('/')) throw new BerthError('ENOT_FOUND', `destination directory ${dst.path} does not exist in container ${rec.Name}`);
        into = posix.dirname(posix.normalize(dstPath));
        name = posix.basename(posix.normalize(dstPath));
      }
      const host = ScopedFs.open('/');
      try {
        await extractToContainer(files, rec, into, packTree(host, local, { rebase: name, followLast: follow }), { copyUIDGID: archive, noOverwriteDirNonDir: true });
      } finally {
        host.close();
      }
      return 0;
    } finally {
      files.close();
    }
  },
};

/** The tree at `path` in the container, its top entry renamed `name`. */
function packTreeFrom(files: ReturnType<typeof openContainerFiles>, path: string, name: string): AsyncGenerator<Buffer> {
  return packTree(files.fs, posix.normalize(path), { rebase: name, ids: files.ids });
}

/**
 * Where a copy out of a container lands on the host: the directory that receives it and the name
 * of its top entry, by Docker's rules (see the header).
 */
function hostTarget(dest: string, slash: boolean, srcIsDir: boolean, srcName: string): { dir: string; name: string } {
  let st;
  try { st = statSync(dest); } catch (err) { if (errnoCode(err) !== 'ENOENT') throw err; }
  if (st?.isDirectory()) return { dir: realpathSync(dest), name: srcName };
  if (st && srcIsDir) throw new BerthError('EINVALID_ARG', `cannot copy a directory to a file: ${dest} exists and is not a directory`);
  if (!st && slash) throw new BerthError('ENOT_FOUND', `destination directory ${dest} does not exist`);
  const parent = posix.dirname(dest);
  try {
    if (!statSync(parent).isDirectory()) throw new BerthError('EINVALID_ARG', `${parent} is not a directory`);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw new BerthError('ENOT_FOUND', `the parent directory ${parent} of ${dest} does not exist`);
    throw err;
  }
  return { dir: realpathSync(parent), name: posix.basename(dest) };
}
