/**
 * A worker thread's body (started by bandThreads.ts): one of the uncertainty band's re-runs, the
 * same call the main thread would make, with its progress and its summary sent back. Whatever
 * goes wrong is answered: a failure as a reply, a death without one through the shared flag, so
 * the waiting thread never waits for a reply that cannot come (but for a worker killed outright,
 * out of memory, which its stall limit catches).
 */
import { workerData } from 'node:worker_threads';
import { BandState, type BandJob, type BandReply } from './bandThreads.js';

const job = workerData as BandJob;
const state = new BandState(job.state);
process.on('exit', () => state.replied(false));
state.alive();
let reply: BandReply;
try {
  // Imported here, not above: a failure to load the simulator is then a reply, not a silent death.
  const { runSimulation } = await import('./simulate.js');
  state.alive();
  const summary = runSimulation(job.setup, {
    efficiency: job.efficiency,
    band_edge: job.band_edge,
    band_threads: false,
    onStart: () => state.alive(),
    onProgress: (sim_s, done) => state.tick(sim_s, done),
  }).summary;
  reply = { summary };
} catch (err) {
  reply = { failed: err instanceof Error ? err.message : String(err) };
}
try {
  job.port.postMessage(reply);
  state.replied();
} finally {
  job.port.close();
}
