/**
 * The built-in `host` root filesystem: run with no image at all. The container's root is an
 * empty directory of its own (its writable layer, kept until `rm`, as Docker keeps a container's
 * upper layer) on which the host's system directories — /usr, /bin, /sbin, /lib*, /etc — are
 * bind-mounted read-only, with a private /tmp, /proc and /dev like any container. On a merged-/usr
 * host (/bin -> usr/bin) the symlinks are recreated as symlinks, so the container's / looks like
 * the host's.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Mount } from '../oci/spec.js';

/** The host directories a `host` container sees, in mount order. */
export const HOST_SYSTEM_DIRS: readonly string[] = ['usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32', 'etc'];

/** Directories the container's own root gets (mount points and the usual empty homes). */
const OWN_DIRS = ['proc', 'dev', 'sys', 'tmp', 'run', 'root', 'home', 'var/tmp', 'mnt'];

/** One top-level entry of the host: a real directory, or a symlink with its target. */
export interface HostEntry {
  name: string;
  kind: 'dir' | 'symlink';
  target?: string;
}

/** How a host root filesystem is made: symlinks to create in the root, read-only bind mounts. */
export interface HostfsLayout {
  symlinks: { path: string; target: string }[];
  mounts: Mount[];
}

/** Pure: the layout for these host entries (`hostRoot` is where the host's / is, normally /). */
export function hostfsLayout(entries: readonly HostEntry[], hostRoot = '/'): HostfsLayout {
  const layout: HostfsLayout = { symlinks: [], mounts: [] };
  for (const e of entries) {
    if (e.kind === 'symlink') {
      layout.symlinks.push({ path: e.name, target: e.target! });
    } else {
      layout.mounts.push({
        destination: `/${e.name}`, type: 'bind', source: join(hostRoot, e.name),
        // rbind keeps submounts (e.g. /usr on its own disk); ro is applied recursively by the helper.
        options: ['rbind', 'ro', 'nosuid', 'nodev', 'rprivate'],
      });
    }
  }
  return layout;
}

/** The host's entries among HOST_SYSTEM_DIRS (missing ones, like lib32 on most hosts, skipped). */
export function readHostEntries(hostRoot = '/'): HostEntry[] {
  const out: HostEntry[] = [];
  for (const name of HOST_SYSTEM_DIRS) {
    const p = join(hostRoot, name);
    let st;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) {
      // A link to a directory the container will have (bin -> usr/bin) stays a link; a link that
      // points elsewhere is followed and its directory bound.
      const target = readlinkSync(p);
      if (!target.startsWith('/') && existsSync(join(hostRoot, target))) out.push({ name, kind: 'symlink', target });
      else if (existsSync(p)) out.push({ name, kind: 'dir' });
    } else if (st.isDirectory()) {
      out.push({ name, kind: 'dir' });
    }
  }
  return out;
}

/**
 * Make `rootDir` ready to be a `host` container's root: the symlinks, and the mount points (the
 * helper would create missing ones, but doing it here keeps the directory tidy and the modes
 * right). Returns the bind mounts for the spec.
 */
export function prepareHostRootfs(rootDir: string, hostRoot = '/'): Mount[] {
  const layout = hostfsLayout(readHostEntries(hostRoot), hostRoot);
  mkdirSync(rootDir, { recursive: true, mode: 0o755 });
  for (const l of layout.symlinks) {
    try { symlinkSync(l.target, join(rootDir, l.path)); } catch { /* already there (a re-start) */ }
  }
  for (const m of layout.mounts) mkdirSync(join(rootDir, m.destination), { recursive: true, mode: 0o755 });
  for (const d of OWN_DIRS) {
    mkdirSync(join(rootDir, d), { recursive: true, mode: 0o755 });
    // mkdir's mode passes through the umask and cannot set the sticky bit: chmod can.
    if (d === 'tmp' || d === 'var/tmp') chmodSync(join(rootDir, d), 0o1777);
  }
  return layout.mounts;
}
