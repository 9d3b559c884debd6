#!/usr/bin/env node
// berth: Docker-like container engine commands. The code is in src/cli/berth/main.ts.
import { main } from '../dist/src/cli/berth/main.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
