/** Worker-thread entry: runs the points it is sent, one at a time, and posts each outcome back. */
import { parentPort } from 'node:worker_threads';
import { runPoint, type PointJob } from './point.js';

const port = parentPort;
if (port === null) throw new Error('sim/sweep/worker runs as a worker thread only');
port.on('message', (job: PointJob) => port.postMessage(runPoint(job)));
