/**
 * `-u name|uid[:group|gid]` resolved against the container's own /etc/passwd and /etc/group, as
 * Docker (moby/sys/user) resolves it: a numeric id needs no entry, a name must have one, the
 * primary group comes from passwd unless given, supplementary groups are the groups that list the
 * user, and HOME comes from passwd (/ when there is none).
 */
import { BerthError } from '../util/errors.js';
import { readFileInRoot } from '../util/inroot.js';

/** A resolved user. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

/** A passwd-style file of the container's root, read as the container sees it (util/inroot.ts). */
function readLines(rootDir: string, file: string): string[][] {
  return (readFileInRoot(rootDir, file) ?? '').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}

/** Pure core: resolve `spec` against passwd and group file contents (as split lines). */
export function resolveUserIn(spec: string, passwd: string[][], group: string[][]): ResolvedUser {
  const [userPart = '', groupPart] = spec.split(':');
  const isNum = (s: string) => /^\d+$/.test(s);
  let uid: number;
  let gid = 0;
  let home = '/';
  let name: string | undefined;
  const pw = userPart === '' ? passwd.find((p) => p[2] === '0') : passwd.find((p) => (isNum(userPart) ? p[2] === userPart : p[0] === userPart));
  if (userPart === '' || isNum(userPart)) {
    uid = userPart === '' ? 0 : Number(userPart);
    if (pw) { gid = Number(pw[3]); home = pw[5] || '/'; name = pw[0]; }
  } else {
    if (!pw) throw new BerthError('EINVALID_ARG', `unable to find user ${userPart}: no matching entries in passwd file`);
    uid = Number(pw[2]);
    gid = Number(pw[3]);
    home = pw[5] || '/';
    name = pw[0];
  }
  if (groupPart !== undefined && groupPart !== '') {
    if (isNum(groupPart)) gid = Number(groupPart);
    else {
      const gr = group.find((g) => g[0] === groupPart);
      if (!gr) throw new BerthError('EINVALID_ARG', `unable to find group ${groupPart}: no matching entries in group file`);
      gid = Number(gr[2]);
    }
  }
  if (uid > 0xfffffffe || gid > 0xfffffffe) throw new BerthError('EINVALID_ARG', `invalid --user ${JSON.stringify(spec)}: ids must be below 4294967295`);
  const additionalGids = name && groupPart === undefined
    ? group.filter((g) => (g[3] ?? '').split(',').includes(name!) && Number(g[2]) !== gid).map((g) => Number(g[2]))
    : [];
  return { uid, gid, additionalGids, home };
}

/** Resolve `spec` against `<rootDir>/etc/passwd` and `<rootDir>/etc/group` (missing files = empty). */
export function resolveUser(spec: string, rootDir: string): ResolvedUser {
  return resolveUserIn(spec, readLines(rootDir, '/etc/passwd'), readLines(rootDir, '/etc/group'));
}
