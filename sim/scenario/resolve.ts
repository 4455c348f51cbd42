// TEMPORARY: resolving moved to sim/setup/resolve.ts; this shim keeps sim/cluster compiling until
// its split lands and its imports follow. It breaks the layering rule and is removed then.
export * from '../setup/resolve.js';
