#!/usr/bin/env node
// berth-runtime: a runc-compatible OCI runtime. The code is in src/cli/runtime/main.ts.
import { main } from '../dist/src/cli/runtime/main.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
