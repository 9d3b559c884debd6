/**
 * Whom the runtime server serves (docs/architecture.md, the runtime server): only a caller that sees what the server
 * sees — the same root directory and the same mount, pid, network, cgroup, user, IPC and UTS
 * namespaces — and only a client of the server's own build. Anyone else gets the cold path.
 *
 * A request is full of names that mean something only in the caller's view: its directory and
 * relative paths (mount namespace and root), its pid, whose /proc/<pid>/cgroup places a relative
 * cgroupsPath (pid and cgroup namespaces), the cgroup mounts the plan opens, the network a
 * container joins. Run in the server's view they name other things ("cgroup-fd: open
 * /sys/fs/cgroup/unified/...: No such file or directory" for a caller that has no such mount).
 *
 * The client measures itself (native/client.c `send_caller`, PROTOCOL.md "Who is served"): the
 * (st_dev, st_ino) of its executable, its "/" and its /proc/self/ns/* files. These are claims,
 * not kernel-verified credentials: Node has no SO_PEERCRED, and the pid a client could send names
 * another process across pid namespaces. Claims suffice here because the socket is root's alone
 * (0600) and the client is our own code: the check routes honest callers, it is no defence
 * against a root process that lies (one that could do whatever the server does by itself).
 */
import { statSync } from 'node:fs';

/** The "caller" message's fields, in order (after the type). */
export const CALLER_FIELDS = ['exe', 'root', 'mnt', 'pid', 'net', 'cgroup', 'user', 'ipc', 'uts'] as const;
export type CallerField = (typeof CALLER_FIELDS)[number];

/** Each field: "<st_dev>:<st_ino>" in decimal, or "-" when it could not be measured. */
export type Identity = Record<CallerField, string>;

/** What the server does with a caller. */
export type Verdict =
  | { kind: 'serve' }
  /** It sees something else (or could not say what it sees): the cold path, no new server. */
  | { kind: 'cold'; reason: string }
  /** A client of another installation (or of a protocol before "caller"): hand the socket over. */
  | { kind: 'other-build'; reason: string }
  /** Garbage from a client of this very build: close the connection. */
  | { kind: 'malformed' };

const DEV_INO = /^\d+:\d+$/;

/** "<st_dev>:<st_ino>" of `path` (following links, as stat(2) does), or "-". */
function devIno(path: string): string {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch {
    return '-';
  }
}

/** This process measured as a client measures itself; `helper` stands for the executable. */
export function measureSelf(helper: string): Identity {
  const files: Record<CallerField, string> = {
    exe: helper, root: '/', mnt: '/proc/self/ns/mnt', pid: '/proc/self/ns/pid', net: '/proc/self/ns/net',
    cgroup: '/proc/self/ns/cgroup', user: '/proc/self/ns/user', ipc: '/proc/self/ns/ipc', uts: '/proc/self/ns/uts',
  };
  return Object.fromEntries(CALLER_FIELDS.map((f) => [f, devIno(files[f])])) as Identity;
}

/**
 * Judge a client's first message against the server's own identity. The view is compared before
 * the build: a caller that sees something else must never make the server hand over (its cold
 * path would start a server in its own view on a socket that others share). Anything missing,
 * unmeasured ("-") or unreadable in the view counts as different.
 */
export function judgeCaller(fields: readonly string[], own: Identity): Verdict {
  const [type, ...values] = fields;
  // Every client since the first speaks "stale"; one that does not open with "caller" is older.
  if (type !== 'caller') return { kind: 'other-build', reason: `its first message is ${JSON.stringify(type ?? '')}, not "caller"` };
  const differ = CALLER_FIELDS.slice(1).filter((f, i) => {
    const v = values[i + 1];
    return v === undefined || !DEV_INO.test(v) || v !== own[f];
  });
  if (differ.length) {
    const what = differ.map((f) => (f === 'root' ? 'root directory' : `${f} namespace`));
    return { kind: 'cold', reason: `its ${what.join(', ')} ${what.length > 1 ? 'differ' : 'differs'} from the server's` };
  }
  const exe = values[0];
  if (exe === undefined || !DEV_INO.test(exe) || own.exe === '-') return { kind: 'cold', reason: 'its executable could not be measured' };
  if (exe !== own.exe) return { kind: 'other-build', reason: `its executable is ${exe}, the server's helper ${own.exe}` };
  if (values.length !== CALLER_FIELDS.length) return { kind: 'malformed' };
  return { kind: 'serve' };
}
