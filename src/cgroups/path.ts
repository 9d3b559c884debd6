/**
 * OCI `linux.cgroupsPath` resolution.
 *
 * OCI rules: an absolute path is relative to the root of each hierarchy; a relative path is
 * relative to the runtime's own cgroup ("may be interpreted relative to a per-runtime location");
 * when absent the runtime picks one. runc picks `/<id>`; Berth picks `/berth/<id>` so all of its
 * containers sit in one visible subtree (easy to inspect, and no clash with other software's
 * top-level cgroups).
 */
import { posix } from 'node:path';
import { BerthError, invalidConfig } from '../util/errors.js';
import type { CgroupHost } from './types.js';

/**
 * Resolves the cgroup path of container `id`.
 * Returns an absolute path ('/berth/abc') for absolute or absent input, and a normalised relative
 * path ('mygroup/abc') for relative input: on v1 the runtime can sit at a different place in each
 * hierarchy (here memory is /process_api/<x>, the others /), so `cgroupManager` joins a relative
 * path with this process's own cgroup per controller.
 * @example resolveCgroupPath(host, undefined, 'web') // '/berth/web'
 */
export function resolveCgroupPath(host: CgroupHost, cgroupsPath: string | undefined, id: string): string {
  void host; // every mode resolves the same way; kept so callers need not change if that changes
  if (cgroupsPath === undefined || cgroupsPath === '') {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.+-]*$/.test(id)) {
      throw new BerthError('EINVALID_ARG', `container id ${JSON.stringify(id)} cannot be used as a cgroup name`);
    }
    return `/berth/${id}`;
  }
  // runc's systemd driver form "slice:prefix:name": Berth has only the cgroupfs driver.
  if (/^[^/:]*:[^/:]*:[^/:]*$/.test(cgroupsPath)) {
    throw new BerthError('EUNSUPPORTED', `linux.cgroupsPath ${JSON.stringify(cgroupsPath)} is in systemd "slice:prefix:name" form; berth has only the cgroupfs driver, use a path like /machine/${id}`);
  }
  if (cgroupsPath.split('/').includes('..')) {
    throw invalidConfig('linux.cgroupsPath', `${JSON.stringify(cgroupsPath)} must not contain ".."`);
  }
  if (cgroupsPath.includes('\0') || cgroupsPath.includes('\n')) {
    throw invalidConfig('linux.cgroupsPath', 'must not contain NUL or newline characters');
  }
  const norm = posix.normalize(cgroupsPath).replace(/\/+$/, '');
  if (norm === '' || norm === '/' || norm === '.') {
    throw invalidConfig('linux.cgroupsPath', `${JSON.stringify(cgroupsPath)} names the root cgroup; give a sub-cgroup such as /berth/${id}`);
  }
  return norm;
}

/** Joins a resolved path with the runtime's own cgroup when it is relative. */
export function absoluteIn(own: string | undefined, path: string): string {
  return path.startsWith('/') ? path : posix.join(own ?? '/', path);
}
