#!/usr/bin/env node
// Runs the compiled CLI (built by `npm ci` through the `prepare` script); falls back to the
// TypeScript sources through tsx in a checkout that has not been built.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/sim/cli/main.js', import.meta.url));
let entry;
// INFERSIM_FROM_SOURCE=1 forces the sources (tests use it so a stale build cannot mask a change).
if (existsSync(compiled) && process.env.INFERSIM_FROM_SOURCE !== '1') {
  entry = pathToFileURL(compiled).href;
  // `infersim run`: its worker thread loads the simulator while this one loads the CLI and parses
  // the command line (the command is the first argument that is not an option, as main.ts finds it).
  // A build older than the early start (no runThread.js) runs as it did: its run command starts its own thread.
  if (process.argv.slice(2).find((a) => !a.startsWith('-')) === 'run') {
    const early = new URL('../dist/sim/cli/runThread.js', import.meta.url);
    if (existsSync(early)) (await import(early.href)).prestartRunThread();
    // A plain `run` line runs without yargs (runPlain.ts); INFERSIM_PLAIN_RUN=0 sends every line through yargs.
    const plain = new URL('../dist/sim/cli/runPlain.js', import.meta.url);
    if (process.env.INFERSIM_PLAIN_RUN !== '0' && existsSync(plain) && (await (await import(plain.href)).runPlain(process.argv.slice(2)))) entry = undefined;
  }
} else {
  const { register } = await import('tsx/esm/api');
  register();
  entry = new URL('../sim/cli/main.ts', import.meta.url).href;
}
if (entry !== undefined) {
  const { main } = await import(entry);
  await main(process.argv);
}
