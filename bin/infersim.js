#!/usr/bin/env node
// Runs the compiled CLI (built by `npm ci` through the `prepare` script); falls back to the
// TypeScript sources through tsx in a checkout that has not been built.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/sim/cli/main.js', import.meta.url));
let entry;
if (existsSync(compiled)) {
  entry = pathToFileURL(compiled).href;
} else {
  const { register } = await import('tsx/esm/api');
  register();
  entry = new URL('../sim/cli/main.ts', import.meta.url).href;
}
const { main } = await import(entry);
await main(process.argv);
