/**
 * The `--log` of a command line whose global flags could not be parsed. An unknown or malformed
 * global flag fails before the logger exists, yet containerd reads the error from the log file:
 * this finds `--log FILE` / `--log=FILE` and `--log-format` among the arguments before the
 * command name on a best-effort basis (an unusable format falls back to text).
 */
import { makeLogger, type RuntimeContext } from './context.js';

/** A logger for `argv` as far as it can be made out, or undefined when there is no `--log`. */
export function earlyLogger(argv: string[], at: (p: string) => string, err: (s: string) => void, umask: number): RuntimeContext['log'] | undefined {
  let file: string | undefined;
  let format = 'text';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') ? (eq > 0 ? a.slice(2, eq) : a.slice(2)) : undefined;
    const value = eq > 0 ? a.slice(eq + 1) : argv[i + 1];
    if (name === 'log' && value !== undefined) file = value;
    else if (name === 'log-format' && value === 'json') format = 'json';
  }
  return file === undefined ? undefined : makeLogger(at(file), format, false, err, umask);
}
