/**
 * The sink thread's body (started by sinkThread.ts): a MetricsSink fed, in order, with the records
 * the run's thread writes into the ring, until its FINISH (publish the outputs, answer the summary)
 * or ABORT (remove them). An error, from the sink or from a record, is answered and ends the
 * thread; the run's thread throws it at its next record or at `finish`.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { ClusterRow, IterationRecord } from './records.js';
import type { MetricsSink } from './sink.js';
import { RingReader, STATE_OF, TAG } from './sinkRing.js';
import type { SinkFinish, SinkJob, SinkReply } from './sinkThread.js';

const job = workerData as SinkJob;
const ring = new RingReader(job.ring);
process.on('exit', () => {
  if (ring.state < STATE_OF.failed) ring.setState(STATE_OF.failed);
});
let sink: MetricsSink | undefined;
try {
  // Imported here, not above: a failure to load the sink is answered like any other.
  const [{ MetricsSink }, codec, { newIterationRecord }] = await Promise.all([import('./sink.js'), import('./sinkCodec.js'), import('./records.js')]);
  sink = new MetricsSink(job.opts);
  ring.setState(STATE_OF.ready);
  const reply = serve(sink, codec, newIterationRecord());
  if (reply !== undefined) job.port.postMessage(reply);
  ring.release();
  ring.setState(STATE_OF.done);
} catch (err) {
  sink?.abort();
  const e = err instanceof Error ? err : new Error(String(err));
  const reply: SinkReply = { error: { name: e.name, message: e.message, stack: e.stack } };
  job.port.postMessage(reply);
  ring.setState(STATE_OF.failed);
} finally {
  job.port.close();
}

/** Feeds `sink` until FINISH (its summary) or ABORT (undefined). */
function serve(sink: MetricsSink, codec: typeof import('./sinkCodec.js'), it: IterationRecord): SinkReply | undefined {
  const { CLUSTER_CODEC, ITERATION_CODEC, readOutcome } = codec;
  const long = new codec.LongValues();
  const d = ring.data;
  const str = (id: number): string => ring.string(id);
  const stampsOf = (replica: number) => sink.stampsOf(replica);
  for (;;) {
    const at = ring.next();
    const tag = d[at];
    if (tag === TAG.REQUEST) {
      const { o, end } = readOutcome(ring, at, stampsOf, long);
      sink.recordRequest(o);
      ring.done(end);
    } else if (tag === TAG.LONG) {
      ring.done(long.read(d, at));
    } else if (tag === TAG.STAMP) {
      sink.recordStepStampAs(d[at + 1], d[at + 2], d[at + 3], d[at + 4]);
      ring.done(at + 5);
    } else if (tag === TAG.ITERATION) {
      ITERATION_CODEC.decode(d, at + 1, it, str);
      sink.recordIteration(it);
      ring.done(at + 1 + ITERATION_CODEC.words);
    } else if (tag === TAG.CLUSTER) {
      const row: ClusterRow = sink.newClusterRow();
      CLUSTER_CODEC.decode(d, at + 1, row, str);
      sink.recordClusterRow(row);
      ring.done(at + 1 + CLUSTER_CODEC.words);
    } else if (tag === TAG.ADD_REPLICA) {
      sink.addReplica(d[at + 1], d[at + 2], d[at + 3]);
      ring.done(at + 4);
    } else if (tag === TAG.RETIRE_REPLICA) {
      sink.retireReplica(d[at + 1], d[at + 2]);
      ring.done(at + 3);
    } else if (tag === TAG.FINISH) {
      const message = receiveMessageOnPort(job.port)?.message as SinkFinish | undefined;
      if (message === undefined) throw new Error('sink thread: FINISH without its context');
      for (const e of message.events) sink.events.record(e);
      ring.done(at + 1);
      return { summary: sink.finish(message.ctx) };
    } else if (tag === TAG.ABORT) {
      sink.abort();
      ring.done(at + 1);
      return undefined;
    } else throw new Error(`sink thread: unknown record ${tag} at word ${at}`);
  }
}
