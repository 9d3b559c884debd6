/**
 * Run an untrusted command with limits and a timeout, stream its output, and get its report —
 * Berth's engine as a TypeScript API, in the same process (no daemon, no CLI).
 *
 *   npm run build && sudo node dist/examples/run-limited.js [COMMAND...]
 *
 * Default command: a shell that prints, then allocates memory until the limit stops it.
 */
import { formatReport, runContainer } from '../src/engine/index.js';

const cmd = process.argv.length > 2 ? process.argv.slice(2) : ['sh', '-c', 'echo hello from the sandbox; x=a; while true; do x=$x$x; done'];

const report = await runContainer({
  cmd,
  memory: '64m',            // memory limit (Docker's sizes: 512k, 64m, 1g)
  cpus: 0.5,                // half a CPU
  pidsLimit: 64,            // no fork bombs
  timeoutMs: 5_000,         // killed (every process) after 5 s
  hostConfig: {
    ReadonlyRootfs: true,                    // the host's system directories are read-only anyway
    CapDrop: ['ALL'],                        // no capabilities
    SecurityOpt: ['no-new-privileges'],      // no setuid escalation
    NetworkMode: 'none',                     // loopback only
  },
  onStdout: (chunk) => process.stdout.write(chunk),
  onStderr: (chunk) => process.stderr.write(chunk),
});

// One line: "killed by the OOM killer: memory limit 64MiB reached (peak 64MiB)", "exited with code 0" …
console.log(`\n${report.summary}`);
// The whole table: exit code, wall and CPU time, throttling, memory and pids peaks, OOM kills.
process.stderr.write(formatReport(report));
process.exitCode = report.exitCode;
