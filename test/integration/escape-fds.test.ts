/**
 * Issue 10, part 1 (found from outside, as an attacker writing a config): with `process.cwd` set
 * to /proc/self/fd/4 the container started with its working directory in the host's
 * /sys/fs/cgroup/unified/berth/<id> (the cgroup v2 fd kept for CLONE_INTO_CGROUP was still open
 * in the child), and `..` from there reached the host's /; with `run`, fd 5 was the host's
 * /proc. The CVE-2024-21626 class: a host fd open in the container's process is reachable as
 * /proc/self/fd/<n> by chdir, stat and execve, which run before O_CLOEXEC closes anything.
 *
 * Every /proc/self/fd/N for N = 3..32 is tried as the working directory and as the executable,
 * through `run` (cold and warm), `create` + `start`, and `exec` (cold and warm) of berth-runtime,
 * and through the engine's `run -d` (its detached monitor holds more host fds) and `exec -w`.
 * Each attempt must either fail cleanly (a one-line error, nothing left behind) or run inside the
 * container's own tree: a marker file in a host directory must never be read. A second test
 * attacks from a process inside the container: the init of a created container has not exec'd
 * yet (it is still the helper), and its fds, exe and root must be out of reach.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, whyNotRoot } from '../support/bundle.js';
import { escapeSuite } from '../support/escape.js';

const clientBin = join(repoRoot, 'native/build/berth-runtime');

escapeSuite('issue 10: no host descriptor is reachable as /proc/self/fd/N (CVE-2024-21626 class)', {
  skip: whyNotRoot() ?? (existsSync(clientBin) ? undefined : `${clientBin} is missing: run make -C native`),
  flows: ['run-cold', 'run-warm', 'create-start-cold', 'create-start-warm', 'exec-cold', 'exec-warm', 'engine', 'inside'],
});
