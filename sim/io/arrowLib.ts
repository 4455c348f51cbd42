import { createRequire } from 'node:module';

type ArrowLib = typeof import('apache-arrow');
let arrow: ArrowLib | undefined;

/**
 * apache-arrow, loaded on first use: runs that write no files and read no Arrow trace (sweep
 * points) skip its ~0.1 s load. Its CommonJS build, through require, loads in about half the time
 * of its ES module build (same version, same bytes written).
 */
export function arrowLib(): ArrowLib {
  return (arrow ??= createRequire(import.meta.url)('apache-arrow') as ArrowLib);
}
