#!/usr/bin/env node
// berth: Docker-like container engine commands. The code is in src/cli/berth/main.ts.
// This is the cold path: native/build/berth (the C client) runs commands in a warm engine worker
// of the runtime server (src/server/) and comes here when there is none, asking for one.
import { main } from '../dist/src/cli/berth/main.js';

if (process.env._BERTH_FROM_CLIENT === '1') {
  delete process.env._BERTH_FROM_CLIENT;
  const { startServerDetached } = await import('../dist/src/server/start.js');
  startServerDetached(true);
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
