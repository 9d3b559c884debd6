#!/usr/bin/env node
// berth: Docker-like container engine commands. The code is in src/cli/berth/main.ts.
// This is the cold path: native/build/berth (the C client) runs commands in a warm engine worker
// of the runtime server (src/server/) and comes here when there is none, asking for one.
// The command runs for this process itself: its directory, environment, umask, stdio, signals.
import { main } from '../dist/src/cli/berth/main.js';
import { processIO } from '../dist/src/cli/io.js';
import { programsFromEnv, usePrograms } from '../dist/src/util/programs.js';

if (process.env._BERTH_FROM_CLIENT === '1') {
  delete process.env._BERTH_FROM_CLIENT;
  const { startServerDetached } = await import('../dist/src/server/start.js');
  startServerDetached(process.env, true);
}

usePrograms(programsFromEnv(process.env));
main(process.argv.slice(2), processIO()).then((code) => {
  process.exitCode = code;
});
