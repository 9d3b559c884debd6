/**
 * POSIX resource limits: OCI `process.rlimits[].type` names → the `resource` numbers of
 * setrlimit(2)/prlimit(2).
 *
 * x86_64 and aarch64 both use the generic numbering of include/uapi/asm-generic/resource.h (only
 * alpha, mips, sparc and parisc renumber some of them), so one table serves both.
 */

/** RLIMIT_* name → resource number for Linux x86_64 and aarch64. */
export const RLIMITS: Readonly<Record<string, number>> = Object.freeze({
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
});

/** The rlimit names in resource-number order. */
export const RLIMIT_NAMES: readonly string[] = Object.freeze(
  Object.entries(RLIMITS)
    .sort((a, b) => a[1] - b[1])
    .map(([name]) => name),
);

/** The resource number of an RLIMIT_* name, or undefined when it is not a Linux rlimit. */
export function rlimitNumber(name: string): number | undefined {
  return Object.prototype.hasOwnProperty.call(RLIMITS, name) ? RLIMITS[name] : undefined;
}
