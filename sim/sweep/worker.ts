/** Worker-process entry (forked by pool.ts): runs the points it is sent, one at a time, and sends each outcome back. */
import { runPoint, type PointJob } from './point.js';

const send = process.send?.bind(process);
if (send === undefined) throw new Error('sim/sweep/worker runs as a worker process of infersim sweep only');

/**
 * Test hook: `INFERSIM_SWEEP_TEST_DIE=3,5` makes the worker process exit (code 70) when sent point
 * 3 or 5, as an out-of-memory kill or a native crash would end it.
 */
const die = new Set((process.env.INFERSIM_SWEEP_TEST_DIE ?? '').split(',').filter((x) => x !== '').map(Number));

process.on('message', (job: PointJob) => {
  if (die.has(job.index)) process.exit(70);
  // If the sweep is gone meanwhile, the outcome has nowhere to go: drop it quietly.
  send(runPoint(job), undefined, {}, () => undefined);
});
// Ctrl-C reaches the whole process group: the sweep decides what to keep, and ends its workers itself.
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);
// The sweep ended or was killed: nothing more will come.
process.on('disconnect', () => process.exit(0));
