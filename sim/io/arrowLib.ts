import { createRequire } from 'node:module';

type ArrowLib = typeof import('apache-arrow');
let arrow: ArrowLib | undefined;

/**
 * apache-arrow, loaded on first use: runs that write no files and read no Arrow trace (sweep
 * points) skip its load. It is loaded from the single-file bundle the package ships
 * (Arrow.esnext.min.js: the same version and API as its module builds, built by the Arrow
 * project), which loads in ~30 ms on a 2-core machine against ~120 ms for its CommonJS build of
 * ~200 files and ~0.2 s for its ES modules; outputs are byte-identical. Nothing here uses the
 * Node-only stream adapters the package's Node entry adds. The run thread's bundle
 * (scripts/bundle.mjs) turns the call below into a plain `require`, so that the package is in the
 * bundle and its code cache, still loaded on first use.
 */
export function arrowLib(): ArrowLib {
  if (arrow !== undefined) return arrow;
  // The package's exports map serves `apache-arrow/<name>` as `<name>.js`.
  return (arrow = createRequire(import.meta.url)('apache-arrow/Arrow.esnext.min') as ArrowLib);
}
