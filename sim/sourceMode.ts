import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * tsx's ESM loader, for a process or thread that runs the TypeScript sources (tests,
 * `INFERSIM_FROM_SOURCE=1`, a checkout without a build): importing it registers the loader.
 */
export function tsxLoader(): string {
  return tsxFile('tsx', 'dist/loader.mjs');
}

/**
 * tsx's API module, whose `register()` a worker thread calls before importing TypeScript: importing
 * the loader alone registers nothing there, and a worker thread does not inherit its parent's.
 */
export function tsxApi(): string {
  return tsxFile('tsx/esm/api', 'dist/esm/api/index.mjs');
}

function tsxFile(specifier: string, file: string): string {
  const meta = import.meta as ImportMeta & { resolve?: (specifier: string) => string };
  if (typeof meta.resolve === 'function') return meta.resolve(specifier);
  // Hosts without import.meta.resolve (some test runners): the file beside tsx's package.json.
  return new URL(file, pathToFileURL(createRequire(import.meta.url).resolve('tsx/package.json'))).href;
}
