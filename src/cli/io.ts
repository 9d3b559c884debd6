/**
 * The caller of one command, for both command lines (`berth`, `berth-runtime`): where it runs,
 * what it sees and where its output goes. Commands and the engine code they call take all of it
 * from here and nothing from the process (process.stdout, process.env, process.cwd(),
 * process.umask(), /proc/self/cgroup), so one Node process can run several commands at once for
 * different callers (the runtime server, the warm engine worker, a test).
 *
 * Only the entry points build a CommandIO from the real process (`processIO`): bin/berth.js,
 * bin/berth-runtime.js, the runtime server (src/server/) for each request.
 */
import { BerthError } from '../util/errors.js';
import { chmodSync, closeSync, fchmodSync, openSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { Writable } from 'node:stream';
import type { HelperLauncher } from '../native/helper-session.js';
import type { Env } from '../util/env.js';

/**
 * An output of the caller (stdout, stderr): a Node writable stream (process.stdout, the server's
 * relay to a client, a test's collector) with what the caller's terminal is.
 */
export interface CommandOutput extends NodeJS.WritableStream {
  /** Whether the caller's output is a terminal (progress bars, `stats` clearing the screen). */
  isTTY?: boolean;
  /** The terminal's size, when it is one. */
  columns?: number;
  rows?: number;
  /**
   * The file descriptor a container started by this command gets as this output (the cold path:
   * 1 and 2). Absent for an output that is not a file of this process (the server's relay): a
   * foreground container then needs `launch` (its helper is the client, with the caller's own
   * stdio), else the command fails rather than write to this process's own.
   */
  fd?: number;
}

/** The caller's stdin: only opened as a stream by the commands that read it in Node. */
export interface CommandInput {
  isTTY: boolean;
  /** The descriptor a container gets as its stdin (the cold path: 0); see CommandOutput.fd. */
  fd?: number;
  /**
   * The stream itself (`load`, `import -`, `login --password-stdin`, `attach`). Opened on first
   * use: Node makes an fd it opens non-blocking, which a container sharing it must not inherit.
   */
  stream(): NodeJS.ReadableStream & { setRawMode?(raw: boolean): unknown };
}

/**
 * Signals sent to the caller, for a command that passes them on (the sig-proxy of a foreground
 * `berth run`, `attach`) or must survive them (`container-cleanup`). `on` returns the function
 * that removes the handler: a command removes every handler it added before it returns.
 */
export interface SignalSource {
  on(signal: NodeJS.Signals, handler: (signal: NodeJS.Signals) => void): () => void;
}

/**
 * Everything a command takes from its caller.
 *
 * @example
 *   // `berth ps` for a caller in /srv whose output is collected (see test/integration/engine-io.test.ts):
 *   const out = new CollectOutput();
 *   const io: CommandIO = {
 *     cwd: '/srv', env: { PATH: '/usr/bin:/bin', BERTH_DATA_ROOT: '/tmp/d' }, umask: 0o022,
 *     stdin: noInput(), stdout: out, stderr: new CollectOutput(), signals: noSignals,
 *   };
 *   const code = await main(['ps', '-a'], io); // main of src/cli/berth/main.ts
 *   out.text; // the table
 */
export interface CommandIO {
  /** The caller's working directory: relative paths of the command line are relative to it. */
  cwd: string;
  /**
   * The caller's environment: `-e KEY`, `--env-file` entries without a value, and the settings
   * that come from the environment (BERTH_DATA_ROOT, BERTH_RUNTIME_ROOT, BERTH_CONFIG_DIR and
   * HOME, BERTH_REGISTRY_*, BERTH_INSECURE_REGISTRIES, BERTH_STORAGE_DRIVER).
   */
  env: Env;
  /** The caller's umask: a file made for the caller (`save -o`, `--pid-file`, `spec`) gets `mode & ~umask`. */
  umask: number;
  stdin: CommandInput;
  stdout: CommandOutput;
  stderr: CommandOutput;
  /**
   * The caller's pid, whose cgroups (/proc/<pid>/cgroup) a relative cgroup path goes below
   * (`--cgroup-parent`, a relative cgroupsPath), as if the caller had run the command itself.
   * Absent: this process's own.
   */
  callerPid?: number;
  /** Signals sent to the caller (processSignals in the cold path). */
  signals: SignalSource;
  /**
   * How a container's helper is started: spawned by this process when absent; in the server, the
   * caller's client becomes the helper, with the caller's own stdio and signals.
   */
  launch?: HelperLauncher;
  /**
   * Set when the command runs in the warm server for a client: an invocation the server cannot
   * serve (it reads the caller's stdin in Node, say) answers COLD instead, and the client runs it
   * in a process of its own.
   */
  served?: boolean;
  /**
   * Aborted when the caller went away (its client killed, or Ctrl-C): a command ends at its next
   * wait for something outside (new events, log lines, a container's end) as a process of its own
   * would end on the signal; it never stops half-way through a change.
   */
  gone?: AbortSignal;
}

/** The exit code of a command that ended because its caller went away: 128 + SIGINT, as for Ctrl-C. */
export const CALLER_GONE = 130;

/** This process's signals, as a SignalSource. */
export const processSignals: SignalSource = {
  on(signal, handler) {
    process.on(signal, handler);
    return () => { process.off(signal, handler); };
  },
};

/** A SignalSource that never fires (a caller whose signals reach its container another way). */
export const noSignals: SignalSource = { on: () => () => {} };

/** An empty stdin that no container gets (`stdin` of a test, or of a caller with none). */
export function noInput(): CommandInput {
  return {
    isTTY: false,
    stream: () => {
      throw new Error('this caller has no stdin');
    },
  };
}

/**
 * The CommandIO of this process itself: what bin/berth.js and bin/berth-runtime.js run with (the
 * cold path). The standard streams are taken on first use, as Node does.
 */
export function processIO(): CommandIO {
  return {
    cwd: process.cwd(),
    env: { ...process.env },
    umask: process.umask(),
    stdin: { isTTY: isatty(0), fd: 0, stream: () => process.stdin },
    get stdout() { return process.stdout; },
    get stderr() { return process.stderr; },
    signals: processSignals,
  };
}

/** An output kept in memory (tests, and whoever wants a command's output as text). */
export class CollectOutput extends Writable implements CommandOutput {
  private readonly chunks: Buffer[] = [];
  isTTY = false;
  constructor(public fd?: number) {
    super({
      write: (chunk: Buffer, _enc, cb) => {
        this.chunks.push(chunk);
        cb();
      },
    });
  }

  /** Everything written so far, as UTF-8. */
  get text(): string {
    return Buffer.concat(this.chunks).toString();
  }
}

/**
 * An output written straight to file descriptor `fd` (a file, a pipe), which a container started
 * by the command gets as its own: e.g. a test's per-command output file opened O_APPEND.
 */
export function fdOutput(fd: number): CommandOutput {
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      try {
        for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  }) as Writable & CommandOutput;
  out.fd = fd;
  out.isTTY = isatty(fd);
  return out;
}

/**
 * An output relayed by `send` (the server's "out"/"err" messages to its client), with the
 * client's terminal: `isTTY`, and its size when it is one.
 */
export function relayOutput(send: (data: Buffer) => void, term: { isTTY: boolean; columns?: number; rows?: number } = { isTTY: false }): CommandOutput {
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      send(chunk);
      cb();
    },
  }) as Writable & CommandOutput;
  if (term.isTTY) {
    out.isTTY = true;
    if (term.columns) {
      out.columns = term.columns;
      out.rows = term.rows ?? 0;
    }
  }
  return out;
}

/**
 * The stdio a container started by the command gets: the caller's fd for each stream it is
 * given, 'ignore' for the others. With a launcher the helper is the caller's client, whose own
 * stdio the container gets ('inherit' stands for it); an output with no fd and no launcher
 * cannot be handed to a container.
 */
export function containerStdio(io: CommandIO, use: [boolean, boolean, boolean]): ['inherit' | 'ignore' | number, 'inherit' | 'ignore' | number, 'inherit' | 'ignore' | number] {
  const one = (on: boolean, fd: number | undefined, what: string): 'inherit' | 'ignore' | number => {
    if (!on) return 'ignore';
    if (io.launch) return 'inherit';
    if (fd !== undefined) return fd;
    throw new Error(`the caller's ${what} cannot be given to a container: it is not a file descriptor of this process`);
  };
  return [one(use[0], io.stdin.fd, 'stdin'), one(use[1], io.stdout.fd, 'stdout'), one(use[2], io.stderr.fd, 'stderr')];
}

/**
 * Give a file just made for the caller the mode it would have had with the caller's umask
 * (`mode & ~umask`), whatever this process's own umask is.
 */
export function chmodForCaller(io: Pick<CommandIO, 'umask'>, path: string, mode = 0o666): void {
  chmodSync(path, mode & ~io.umask);
}

/**
 * Append `text` to file `path` of the caller (berth-runtime's `--log`); a file made here gets
 * `0666 & ~umask` of the caller.
 */
export function appendForCaller(io: Pick<CommandIO, 'umask'>, path: string, text: string): void {
  let fd: number;
  let made = false;
  try {
    fd = openSync(path, 'ax');
    made = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    fd = openSync(path, 'a');
  }
  try {
    if (made) fchmodSync(fd, 0o666 & ~io.umask);
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/**
 * Copy `source` to the caller's stdout, waiting when it is full. A reader that goes away (`save |
 * head -c0`: EPIPE) ends the copy quietly, as Docker does: returns false then.
 */
export async function streamToOutput(out: NodeJS.WritableStream, source: AsyncIterable<Buffer>): Promise<boolean> {
  let broken: Error | undefined;
  const onError = (err: Error): void => { broken = err; };
  out.on('error', onError);
  try {
    for await (const chunk of source) {
      if (broken) break;
      if (!out.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = (): void => { out.off('drain', done); out.off('error', done); resolve(); };
          out.once('drain', done);
          out.once('error', done);
        });
      }
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
    broken = err as Error;
  } finally {
    out.off('error', onError);
  }
  // Another write error (a full disk behind the redirect) is the caller's to read, not a stack trace.
  if (broken && (broken as NodeJS.ErrnoException).code !== 'EPIPE') throw new BerthError('EINVALID_ARG', `writing the output failed: ${(broken as NodeJS.ErrnoException).code ?? broken.message}`);
  return !broken;
}
