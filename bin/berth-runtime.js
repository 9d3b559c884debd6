#!/usr/bin/env node
// berth-runtime: a runc-compatible OCI runtime. The code is in src/cli/runtime/main.ts.
// This is the cold path: native/build/berth-runtime (the C client) runs commands in the warm
// runtime server (src/server/) and comes here when there is none, asking for one to be started.
// The command runs for this process itself: its directory, environment, umask, stdio, signals.
import { main } from '../dist/src/cli/runtime/main.js';
import { processIO } from '../dist/src/cli/io.js';
import { programsFromEnv, usePrograms } from '../dist/src/util/programs.js';

if (process.env._BERTH_FROM_CLIENT === '1') {
  delete process.env._BERTH_FROM_CLIENT;
  const { startServerDetached } = await import('../dist/src/server/start.js');
  startServerDetached(process.env);
}

usePrograms(programsFromEnv(process.env));
main(process.argv.slice(2), processIO()).then((code) => {
  process.exitCode = code;
});
