/**
 * A worker thread's body (started by bandThreads.ts): the uncertainty band's re-runs that nobody
 * has claimed, in its order, the same call the main thread would make, with their progress and
 * summaries sent back. Whatever goes wrong is answered: a failure as a reply, a death without one
 * through the shared flags, so the waiting thread never waits for a reply that cannot come (but
 * for a worker killed outright, out of memory, which its stall limit catches).
 */
import { workerData } from 'node:worker_threads';
import { BandState, type BandEdge, type BandJob, type BandReply } from './bandThreads.js';

const job = workerData as BandJob;
const state = new BandState(job.state);
/** The edge this worker has claimed and not answered. */
let current: BandEdge | undefined;
process.on('exit', () => {
  if (current !== undefined) state.replied(current, false);
});
try {
  // Imported here, not above: a failure to load the simulator leaves the edges unclaimed, for the main thread.
  const { runSimulation } = await import('./simulate.js');
  for (const edge of job.edges) {
    if (!state.claim(edge, 'worker')) continue;
    current = edge;
    state.alive(edge);
    let reply: BandReply;
    try {
      const summary = runSimulation(job.setup, {
        efficiency: job.efficiency,
        band_edge: edge,
        band_threads: false,
        iterations: false,
        onStart: () => state.alive(edge),
        onProgress: (sim_s, done) => state.tick(edge, sim_s, done),
      }).summary;
      reply = { edge, summary };
    } catch (err) {
      reply = { edge, failed: err instanceof Error ? err.message : String(err) };
    }
    job.port.postMessage(reply);
    state.replied(edge);
    current = undefined;
  }
} finally {
  job.port.close();
}
