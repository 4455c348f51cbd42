// Temporary: readText moved to sim/io/readText.ts. Three importers are being edited by others
// (scenario/read.ts, latency/profile/load.ts, cli/validateProbe.ts); once they import sim/io,
// delete this file.
export { MAX_DATA_BYTES, readText } from '../io/readText.js';
