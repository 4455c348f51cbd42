/**
 * A worker thread's body (started by bandThreads.ts): one of the uncertainty band's re-runs, the
 * same call the main thread would make, with its progress and its summary sent back.
 */
import { workerData } from 'node:worker_threads';
import { BandState, type BandJob, type BandReply } from './bandThreads.js';
import { runSimulation } from './simulate.js';

const job = workerData as BandJob;
const state = new BandState(job.state);
let reply: BandReply;
try {
  const summary = runSimulation(job.setup, { efficiency: job.efficiency, band_edge: job.band_edge, band_threads: false, onProgress: (sim_s, done) => state.tick(sim_s, done) }).summary;
  reply = { summary };
} catch (err) {
  reply = { failed: err instanceof Error ? err.message : String(err) };
}
job.port.postMessage(reply);
state.replied();
job.port.close();
