/**
 * OCI mount `options` → the arguments of mount(2), the propagation calls and mount_setattr(2).
 *
 * The option names are runc's (libcontainer/specconv): a flag table for mount(2), a propagation
 * table (each propagation option needs its own mount(2) call with only that flag, because the
 * kernel rejects propagation flags combined with anything but MS_REC), the recursive `r*` options
 * which only mount_setattr(2) (Linux 5.12) can apply to a whole tree, and runc's extensions.
 * Anything else is filesystem data ("mode=755,size=65536k") passed through in order.
 */

// mount(2) flags, include/uapi/linux/mount.h. All below 2^31, so plain numbers and | are safe.
export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_SYNCHRONOUS = 0x10;
export const MS_REMOUNT = 0x20;
export const MS_MANDLOCK = 0x40;
export const MS_DIRSYNC = 0x80;
export const MS_NOSYMFOLLOW = 0x100;
export const MS_NOATIME = 0x400;
export const MS_NODIRATIME = 0x800;
export const MS_BIND = 0x1000;
export const MS_MOVE = 0x2000;
export const MS_REC = 0x4000;
export const MS_SILENT = 0x8000;
export const MS_POSIXACL = 0x10000;
export const MS_UNBINDABLE = 0x20000;
export const MS_PRIVATE = 0x40000;
export const MS_SLAVE = 0x80000;
export const MS_SHARED = 0x100000;
export const MS_RELATIME = 0x200000;
export const MS_I_VERSION = 0x800000;
export const MS_STRICTATIME = 0x1000000;
export const MS_LAZYTIME = 0x2000000;

// mount_setattr(2) attributes. The three atime modes are an enum inside MOUNT_ATTR__ATIME, and
// MOUNT_ATTR_RELATIME is 0: setting an atime mode requires MOUNT_ATTR__ATIME in attr_clr.
export const MOUNT_ATTR_RDONLY = 0x1;
export const MOUNT_ATTR_NOSUID = 0x2;
export const MOUNT_ATTR_NODEV = 0x4;
export const MOUNT_ATTR_NOEXEC = 0x8;
export const MOUNT_ATTR__ATIME = 0x70;
export const MOUNT_ATTR_RELATIME = 0x0;
export const MOUNT_ATTR_NOATIME = 0x10;
export const MOUNT_ATTR_STRICTATIME = 0x20;
export const MOUNT_ATTR_NODIRATIME = 0x80;
export const MOUNT_ATTR_IDMAP = 0x100000;
export const MOUNT_ATTR_NOSYMFOLLOW = 0x200000;

/** A flag option: `clear` options remove the flag ("rw" clears MS_RDONLY). */
export interface FlagOption {
  clear: boolean;
  flag: number;
}

/**
 * runc's mount(2) flag table. runc 1.2 dropped "acl"/"noacl" (MS_POSIXACL is not a mount flag
 * the kernel honours from userspace, runc#3738), so they are filesystem data here too.
 * "defaults" has no flag; runc passes it on as data, which tmpfs and others reject on current
 * kernels, so Berth drops it, as mount(8) does.
 */
export const MOUNT_FLAGS: Readonly<Record<string, FlagOption>> = Object.freeze({
  async: { clear: true, flag: MS_SYNCHRONOUS },
  atime: { clear: true, flag: MS_NOATIME },
  bind: { clear: false, flag: MS_BIND },
  defaults: { clear: false, flag: 0 },
  dev: { clear: true, flag: MS_NODEV },
  diratime: { clear: true, flag: MS_NODIRATIME },
  dirsync: { clear: false, flag: MS_DIRSYNC },
  exec: { clear: true, flag: MS_NOEXEC },
  iversion: { clear: false, flag: MS_I_VERSION },
  lazytime: { clear: false, flag: MS_LAZYTIME },
  loud: { clear: true, flag: MS_SILENT },
  mand: { clear: false, flag: MS_MANDLOCK },
  noatime: { clear: false, flag: MS_NOATIME },
  nodev: { clear: false, flag: MS_NODEV },
  nodiratime: { clear: false, flag: MS_NODIRATIME },
  noexec: { clear: false, flag: MS_NOEXEC },
  noiversion: { clear: true, flag: MS_I_VERSION },
  nolazytime: { clear: true, flag: MS_LAZYTIME },
  nomand: { clear: true, flag: MS_MANDLOCK },
  norelatime: { clear: true, flag: MS_RELATIME },
  nostrictatime: { clear: true, flag: MS_STRICTATIME },
  nosuid: { clear: false, flag: MS_NOSUID },
  nosymfollow: { clear: false, flag: MS_NOSYMFOLLOW }, // Linux 5.10
  rbind: { clear: false, flag: MS_BIND | MS_REC },
  relatime: { clear: false, flag: MS_RELATIME },
  remount: { clear: false, flag: MS_REMOUNT },
  ro: { clear: false, flag: MS_RDONLY },
  rw: { clear: true, flag: MS_RDONLY },
  silent: { clear: false, flag: MS_SILENT },
  strictatime: { clear: false, flag: MS_STRICTATIME },
  suid: { clear: true, flag: MS_NOSUID },
  sync: { clear: false, flag: MS_SYNCHRONOUS },
  symfollow: { clear: true, flag: MS_NOSYMFOLLOW }, // Linux 5.10
});

/** Propagation options; each becomes a separate mount(2) call on the destination. */
export const PROPAGATION_FLAGS: Readonly<Record<string, number>> = Object.freeze({
  rprivate: MS_PRIVATE | MS_REC,
  private: MS_PRIVATE,
  rslave: MS_SLAVE | MS_REC,
  slave: MS_SLAVE,
  rshared: MS_SHARED | MS_REC,
  shared: MS_SHARED,
  runbindable: MS_UNBINDABLE | MS_REC,
  unbindable: MS_UNBINDABLE,
});

/**
 * Recursive attribute options, applied with mount_setattr(2, AT_RECURSIVE) after the mount
 * (runtime/plan.ts mountOps: the helper's `mountattr`, Linux 5.12+); MS_REMOUNT|MS_BIND only
 * changes the top mount of a tree.
 */
export const RECURSIVE_ATTR_FLAGS: Readonly<Record<string, FlagOption>> = Object.freeze({
  rro: { clear: false, flag: MOUNT_ATTR_RDONLY },
  rrw: { clear: true, flag: MOUNT_ATTR_RDONLY },
  rnosuid: { clear: false, flag: MOUNT_ATTR_NOSUID },
  rsuid: { clear: true, flag: MOUNT_ATTR_NOSUID },
  rnodev: { clear: false, flag: MOUNT_ATTR_NODEV },
  rdev: { clear: true, flag: MOUNT_ATTR_NODEV },
  rnoexec: { clear: false, flag: MOUNT_ATTR_NOEXEC },
  rexec: { clear: true, flag: MOUNT_ATTR_NOEXEC },
  rnodiratime: { clear: false, flag: MOUNT_ATTR_NODIRATIME },
  rdiratime: { clear: true, flag: MOUNT_ATTR_NODIRATIME },
  rrelatime: { clear: false, flag: MOUNT_ATTR_RELATIME },
  rnorelatime: { clear: true, flag: MOUNT_ATTR_RELATIME },
  rnoatime: { clear: false, flag: MOUNT_ATTR_NOATIME },
  ratime: { clear: true, flag: MOUNT_ATTR_NOATIME },
  rstrictatime: { clear: false, flag: MOUNT_ATTR_STRICTATIME },
  rnostrictatime: { clear: true, flag: MOUNT_ATTR_STRICTATIME },
  rnosymfollow: { clear: false, flag: MOUNT_ATTR_NOSYMFOLLOW }, // Linux 5.14
  rsymfollow: { clear: true, flag: MOUNT_ATTR_NOSYMFOLLOW }, // Linux 5.14
});

/**
 * runc's extensions. `tmpcopyup` copies the destination's old contents into a new tmpfs;
 * `idmap`/`ridmap` make an id-mapped bind mount (mount_setattr MOUNT_ATTR_IDMAP; ridmap maps the
 * whole copied tree, see runtime/idmap.ts). They are recognised (so they are not passed to the
 * kernel as data); an option with `supported: false` is reported in `unsupported`.
 */
export const EXTENSION_OPTIONS: Readonly<Record<string, { supported: boolean }>> = Object.freeze({
  tmpcopyup: { supported: true },
  notmpcopyup: { supported: true },
  idmap: { supported: true },
  ridmap: { supported: true },
});

/** What an OCI mount's `options` mean, ready for a launch plan. */
export interface MountOptions {
  /** MS_* flags for the mount(2) call (MS_BIND included for bind/rbind). */
  flags: number;
  /** MS_* flags explicitly cleared ("rw", "suid" …): matters for bind remounts of a ro source. */
  clearedFlags: number;
  /** Propagation flags in order, each for its own mount(2) call (e.g. MS_PRIVATE | MS_REC). */
  propagation: number[];
  /** mount_setattr(2) attr_set/attr_clr for the `r*` options, or undefined when none given. */
  recursiveAttr?: { set: number; clear: number };
  /** Filesystem-specific data, the unrecognised options joined by commas. */
  data: string;
  /** bind or rbind was given. */
  isBind: boolean;
  /** rbind was given (MS_BIND | MS_REC). */
  isRecursiveBind: boolean;
  /** Extension options present (tmpcopyup, idmap, ridmap), in order. */
  extensions: string[];
  /** The subset of `extensions` that Berth does not implement yet. */
  unsupported: string[];
}

/**
 * Parse OCI mount options the way runc does: later options win over earlier ones
 * ("ro","rw" → read-write), unknown options are filesystem data.
 *
 * @example parseMountOptions(['nosuid', 'mode=755']) → { flags: MS_NOSUID, data: 'mode=755', … }
 */
export function parseMountOptions(options: readonly string[] = []): MountOptions {
  let flags = 0;
  let clearedFlags = 0;
  let attrSet = 0;
  let attrClr = 0;
  let anyAttr = false;
  const propagation: number[] = [];
  const data: string[] = [];
  const extensions: string[] = [];
  const unsupported: string[] = [];
  for (const o of options) {
    const f = own(MOUNT_FLAGS, o);
    if (f) {
      if (f.flag === 0) continue; // "defaults"
      if (f.clear) {
        flags &= ~f.flag;
        clearedFlags |= f.flag;
      } else {
        flags |= f.flag;
        clearedFlags &= ~f.flag;
      }
      continue;
    }
    const p = own(PROPAGATION_FLAGS, o);
    if (p !== undefined) {
      propagation.push(p);
      continue;
    }
    const r = own(RECURSIVE_ATTR_FLAGS, o);
    if (r) {
      anyAttr = true;
      if (r.clear) {
        attrClr |= r.flag;
        attrSet &= ~r.flag;
      } else {
        attrSet |= r.flag;
        attrClr &= ~r.flag;
        // An atime mode (relatime is 0) is only applied when the whole atime field is cleared.
        if ((r.flag & MOUNT_ATTR__ATIME) === r.flag) attrClr |= MOUNT_ATTR__ATIME;
      }
      continue;
    }
    const e = own(EXTENSION_OPTIONS, o);
    if (e) {
      extensions.push(o);
      if (!e.supported) unsupported.push(o);
      continue;
    }
    data.push(o);
  }
  const result: MountOptions = {
    flags,
    clearedFlags,
    propagation,
    data: data.join(','),
    isBind: (flags & MS_BIND) !== 0,
    isRecursiveBind: (flags & (MS_BIND | MS_REC)) === (MS_BIND | MS_REC),
    extensions,
    unsupported,
  };
  if (anyAttr) result.recursiveAttr = { set: attrSet, clear: attrClr };
  return result;
}

/** Every option name Berth recognises and implements, sorted (for `features`). */
export function knownMountOptions(): string[] {
  const supportedExt = Object.entries(EXTENSION_OPTIONS)
    .filter(([, v]) => v.supported)
    .map(([k]) => k);
  return [
    ...Object.keys(MOUNT_FLAGS),
    ...Object.keys(PROPAGATION_FLAGS),
    ...Object.keys(RECURSIVE_ATTR_FLAGS),
    ...supportedExt,
  ].sort();
}

/** The table entry for `key`, ignoring inherited properties ("constructor", "__proto__"). */
function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}
