/**
 * The engine worker's rehearsal: before it says it is ready, a worker runs one throwaway
 * container (`berth run --rm --network none -- /bin/true` on the host's root, in a data root of
 * its own, in a cgroup below the worker's own). Node compiles a function the first time it runs,
 * and the first container of a process costs three times the later ones (55 ms against 18 ms
 * here, mostly that compilation), so the rehearsal moves that cost off the client's clock: it
 * happens while the worker waits in the pool. Its output goes to the server's log; a failure only
 * means the first real command compiles what it needs itself. `BERTH_WORKER_REHEARSE=0` skips it.
 */
import { mkdtempSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { detectCgroupHost, dirInMount } from '../cgroups/host.js';
import type { CommandIO } from '../cli/io.js';
import { main } from '../cli/berth/main.js';

/**
 * Run the rehearsal container as the caller `io` (the worker itself: its output is the server's
 * log) and remove everything it made. Never throws.
 */
export async function rehearse(log: (msg: string) => void, io: CommandIO): Promise<void> {
  if (io.env.BERTH_WORKER_REHEARSE === '0') return;
  const dir = mkdtempSync(join(io.env.TMPDIR || '/tmp', 'berth-worker-'));
  const parent = `berth-worker-${process.pid}`;
  try {
    const code = await main(['--data-root', join(dir, 'data'), '--root', join(dir, 'run'),
      'run', '--rm', '--network', 'none', '--cgroup-parent', parent, '--', '/bin/true'], io);
    if (code !== 0) log(`rehearsal container exited ${code}`);
  } catch (err) {
    log(`rehearsal failed: ${(err as Error).message}`);
  } finally {
    // The engine leaves a --cgroup-parent in place (Docker does too): remove this one.
    try {
      const host = await detectCgroupHost();
      for (const [ctrl, mount] of Object.entries(host.v1)) {
        try { rmdirSync(dirInMount(mount, join(host.self[ctrl] ?? '/', parent))); } catch { /* not made, or shared by co-mounted controllers */ }
      }
      if (host.unified) {
        try { rmdirSync(dirInMount(host.unified, join(host.selfUnified ?? '/', parent))); } catch { /* not made */ }
      }
    } catch { /* no cgroups to clean */ }
    rmSync(dir, { recursive: true, force: true });
  }
}
