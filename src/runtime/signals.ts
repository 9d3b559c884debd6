/**
 * Signal names as runc's `kill` takes them: `KILL`, `SIGKILL`, `kill` or `9`.
 */
import { constants } from 'node:os';
import { BerthError } from '../util/errors.js';

const BY_NUMBER = new Map<number, NodeJS.Signals>();
for (const [name, num] of Object.entries(constants.signals)) {
  if (!BY_NUMBER.has(num)) BY_NUMBER.set(num, name as NodeJS.Signals);
}

/** Parse a signal into its number; an unknown one is an error naming it. */
export function parseSignal(text: string): number {
  const s = text.trim();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    // Real-time signals (SIGRTMIN..SIGRTMAX) have no names in Node but are valid.
    if (BY_NUMBER.has(n) || (n >= 34 && n <= 64)) return n;
  } else {
    const upper = s.toUpperCase();
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    const num = (constants.signals as Record<string, number>)[name];
    if (num !== undefined) return num;
    const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name) ?? /^SIGRTMAX(?:-(\d+))?$/.exec(name);
    if (rt) return name.startsWith('SIGRTMIN') ? 34 + Number(rt[1] ?? 0) : 64 - Number(rt[1] ?? 0);
  }
  throw new BerthError('EINVALID_ARG', `unknown signal ${JSON.stringify(text)}: use a name like SIGTERM or KILL, or a number`);
}

/** The name of a signal number (`SIGKILL`), or `signal N`. */
export function signalName(num: number): string {
  return BY_NUMBER.get(num) ?? `signal ${num}`;
}
