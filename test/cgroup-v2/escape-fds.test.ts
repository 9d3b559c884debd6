/**
 * Issue 10, part 1 on a real cgroup v2 kernel (the VM of scripts/test-cgroup-v2.sh): there every
 * container is cloned into its cgroup through an fd of its cgroup directory (CLONE_INTO_CGROUP),
 * the fd that let a container start in the host's cgroup tree (see
 * test/integration/escape-fds.test.ts). The same sweep of /proc/self/fd/N, N = 3..32, through the
 * warm client's `run`, `create` + `start` and `exec`, and the attack from inside a
 * created container. Skipped outside the VM.
 */
import { escapeSuite } from '../support/escape.js';

escapeSuite('issue 10 on cgroup v2: no host descriptor is reachable as /proc/self/fd/N', {
  skip: process.env['V2VM'] === '1' ? false : 'runs only in the cgroup v2 VM (npm run test:cgroup-v2)',
  flows: ['run-warm', 'create-start-warm', 'exec-warm', 'inside'],
  // Under TCG a Node start takes seconds and every exec about 40 times as long as on the host.
  serverWaitMs: 120_000,
  timeoutMs: 600_000,
});
