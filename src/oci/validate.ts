/**
 * Parse and validate a bundle's config.json.
 *
 * Every problem becomes one EINVALID_CONFIG error whose message names the field path, the value
 * found and what would be valid:
 *   config.json: process.cwd "foo" must be an absolute path
 *   config.json: linux.namespaces[2].type "pidd" is not one of pid, network, mount, ipc, uts, …
 *   config.json: invalid json at line 3 column 7: expected ',' or '}' after property value, …
 * Unknown properties are ignored anywhere, as the spec requires. The checks for `process`,
 * `linux` and `linux.resources` live in validate-process.ts, validate-linux.ts,
 * validate-resources.ts and validate-seccomp.ts.
 */
import { isAbsolute, resolve } from 'node:path';
import { BerthError, invalidConfig } from '../util/errors.js';
import { findJsonSyntaxError } from './json-error.js';
import { parseMountOptions } from './mountopts.js';
import { OCI_VERSION, type Spec } from './spec.js';
import {
  checkDevices, checkIdMappings, checkLinuxMisc, checkNamespaces, checkSysctl, checkTimeOffsets,
  checkUserNamespace, NAMESPACE_TYPES, type NamespaceSet,
} from './validate-linux.js';
import { checkProcess } from './validate-process.js';
import { checkResources } from './validate-resources.js';
import { checkSeccomp } from './validate-seccomp.js';
import {
  absolute, asObj, asStr, bad, get, join, missing, optInt, optObj, optObjArr, optStr, optStrArr,
  reqStr, type Obj,
} from './validate-util.js';

export { NAMESPACE_TYPES };

/** The hook kinds of the spec, in lifecycle order (`prestart` is deprecated but still run). */
export const HOOK_NAMES = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;

/** Versions this runtime accepts: any 1.x.y, optionally with a pre-release or build suffix. */
const OCI_VERSION_RE = /^1\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/**
 * Parse config.json text and validate it. Returns the spec with `root.path` and relative bind
 * mount sources resolved against `bundleDir` (as runc resolves them against the bundle).
 *
 * @example const spec = parseConfig(readFileSync(join(bundle, 'config.json'), 'utf8'), bundle);
 */
export function parseConfig(text: string, bundleDir: string): Spec {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const at = findJsonSyntaxError(text);
    const where = at ? `at line ${at.line} column ${at.column}: ${at.problem}` : `(${(e as Error).message})`;
    throw new BerthError('EINVALID_CONFIG', `config.json: invalid json ${where}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    const kind = Array.isArray(doc) ? 'an array' : doc === null ? 'null' : `a ${typeof doc}`;
    throw new BerthError('EINVALID_CONFIG', `config.json: the document must be a json object, not ${kind}`);
  }
  return validateSpec(doc as Obj, bundleDir);
}

/**
 * Validate an already-parsed spec object (the engine builds specs in memory). Same checks and
 * same result as `parseConfig`; the input object is updated in place and returned.
 */
export function validateSpec(spec: Obj, bundleDir: string): Spec {
  const version = get(spec, 'ociVersion');
  if (version === undefined) throw missing('ociVersion');
  if (!OCI_VERSION_RE.test(asStr(version, 'ociVersion'))) {
    throw bad('ociVersion', version, `must be a 1.x.y version (this runtime implements ${OCI_VERSION})`);
  }

  const linux = optObj(spec, 'linux', '') ?? {};
  const ns = checkNamespaces(linux);

  const rootV = get(spec, 'root');
  if (rootV === undefined) throw missing('root', '(root.path names the container\'s root filesystem)');
  const root = asObj(rootV, 'root');
  const rootPath = reqStr(root, 'path', 'root');
  if (rootPath === '') throw bad('root.path', rootPath, 'must name the root filesystem directory');
  root.path = resolve(bundleDir, rootPath);
  const ro = get(root, 'readonly');
  if (ro !== undefined && typeof ro !== 'boolean') throw bad('root.readonly', ro, 'must be true or false');

  const proc = optObj(spec, 'process', '');
  if (proc) checkProcess(proc);

  for (const key of ['hostname', 'domainname']) {
    const v = optStr(spec, key, '');
    if (v && !ns.has('uts')) {
      throw invalidConfig(key, `${JSON.stringify(v)} cannot be set without a private uts namespace; add {"type": "uts"} to linux.namespaces`);
    }
  }

  checkMounts(spec, ns, bundleDir);
  checkHooks(spec);
  const ann = optObj(spec, 'annotations', '');
  for (const [k, v] of Object.entries(ann ?? {})) {
    if (k === '') throw invalidConfig('annotations', 'must not have an empty key');
    asStr(v, join('annotations', k));
  }

  checkUserNamespace(linux, ns);
  checkTimeOffsets(linux, ns);
  checkSysctl(linux, ns);
  checkDevices(linux);
  const res = optObj(linux, 'resources', 'linux');
  if (res) checkResources(res);
  const seccomp = optObj(linux, 'seccomp', 'linux');
  if (seccomp) checkSeccomp(seccomp);
  checkLinuxMisc(linux, ns);
  return spec as unknown as Spec;
}

/**
 * `mounts`: absolute destinations, string options, Berth-supported extensions only; id-mapped
 * mounts (idmap, ridmap, mount mappings) only as bind mounts inside a user namespace (runc's
 * checkIDMapMounts).
 */
function checkMounts(spec: Obj, ns: NamespaceSet, bundleDir: string): void {
  (optObjArr(spec, 'mounts', '') ?? []).forEach((m, i) => {
    const p = join('mounts', i);
    absolute(reqStr(m, 'destination', p), join(p, 'destination'));
    const type = optStr(m, 'type', p);
    const source = optStr(m, 'source', p);
    const options = optStrArr(m, 'options', p) ?? [];
    const parsed = parseMountOptions(options);
    for (const name of parsed.unsupported) {
      throw bad(join(p, `options[${options.indexOf(name)}]`), name, 'is not supported by berth yet');
    }
    const uid = optObjArr(m, 'uidMappings', p);
    const gid = optObjArr(m, 'gidMappings', p);
    if (uid) checkIdMappings(uid, join(p, 'uidMappings'));
    if (gid) checkIdMappings(gid, join(p, 'gidMappings'));
    if (uid || gid) {
      if (!uid || !gid) throw missing(join(p, uid ? 'gidMappings' : 'uidMappings'), 'when the other mapping is given');
      if (!ns.has('user')) {
        throw invalidConfig(join(p, 'uidMappings'), 'needs a user namespace; add {"type": "user"} to linux.namespaces');
      }
      if (!parsed.isBind && type !== 'bind') throw invalidConfig(join(p, 'uidMappings'), 'is only supported for bind mounts (add "bind" or "rbind" to options)');
    }
    // idmap/ridmap: the kernel id-maps an existing tree that was cloned detached (open_tree),
    // so only a bind mount can be one (a new tmpfs or proc has no tree to clone; runc agrees),
    // and the mapping is a user namespace's, so the container needs one.
    const idmapAt = options.findIndex((o) => o === 'idmap' || o === 'ridmap');
    if (idmapAt >= 0) {
      const opt = join(p, `options[${idmapAt}]`);
      const what = `${JSON.stringify(options[idmapAt])} (mount on ${String(m.destination)})`;
      if (!parsed.isBind && type !== 'bind') {
        throw invalidConfig(opt, `${what} is only supported for bind mounts, not type ${JSON.stringify(type ?? '')}; add "bind" or "rbind" to options`);
      }
      // Without mount mappings the container's are used: a new user namespace always has
      // them (checkUserNamespace), one joined by path has its own.
      if (!ns.has('user')) throw invalidConfig(opt, `${what} needs a user namespace; add {"type": "user"} to linux.namespaces`);
    }
    if (parsed.isBind) {
      if (source === undefined || source === '') throw missing(join(p, 'source'), 'for a bind mount');
      if (!isAbsolute(source)) m.source = resolve(bundleDir, source);
    }
  });
}

/** `hooks`: each hook has an absolute path, string args and env, and a positive timeout. */
function checkHooks(spec: Obj): void {
  const hooks = optObj(spec, 'hooks', '');
  if (!hooks) return;
  for (const kind of HOOK_NAMES) {
    (optObjArr(hooks, kind, 'hooks') ?? []).forEach((h, i) => {
      const p = join(join('hooks', kind), i);
      absolute(reqStr(h, 'path', p), join(p, 'path'));
      optStrArr(h, 'args', p);
      optStrArr(h, 'env', p);
      optInt(h, 'timeout', p, 1, 2 ** 31 - 1);
    });
  }
}
