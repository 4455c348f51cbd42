/**
 * A run's sink in a thread of its own. Request rows (their ITL statistics above all), the Arrow
 * files and the statistics the summary needs were about a quarter of a large run's time in the
 * run's thread; they only receive what the run records, and nothing they compute feeds back into
 * it, so another core can do them while the run goes on. The run writes each record into a ring
 * of shared memory (sinkRing.ts, sinkCodec.ts) and goes on; the sink thread reads them in order
 * into the same MetricsSink the run would have had, so every output is the same, byte for byte.
 *
 * What stays here: the step stamps that sequences read and pin (a copy; the other thread's makes
 * room as this one did, pins or not), the event log, and replica numbering. `finish` blocks
 * (Atomics.wait) until the sink thread has written and published the outputs and sent the
 * summary; an error there, or in any record before, is thrown here, in the run's thread, as the
 * run would have thrown it.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { InfersimError } from '../errors.js';
import { workerExecArgv } from '../engine/workerArgs.js';
import { CLUSTER_COLUMNS, newRow, withDictionaries } from './columns.js';
import { EventLog, type RunEvent } from './events.js';
import { assertReplaceable } from './outputDir.js';
import type { ClusterRow, IterationRecord, RequestOutcome } from './records.js';
import type { RunSink } from './runSink.js';
import type { MetricsSinkOptions } from './sink.js';
import { CLUSTER_CODEC, ITERATION_CODEC, writeOutcome } from './sinkCodec.js';
import { newRingBuffer, RingWriter, STATE_OF, TAG } from './sinkRing.js';
import { STEP_WINDOW, StepStamps } from './stepStamps.js';
import type { FinishContext, Summary } from './summary.js';

/** What sinkWorker.ts is given. */
export interface SinkJob {
  opts: MetricsSinkOptions;
  ring: SharedArrayBuffer;
  port: MessagePort;
}

/** What the run's thread posts before its FINISH record. */
export interface SinkFinish {
  ctx: FinishContext;
  events: RunEvent[];
}

/** What the sink thread answers: the summary, or the error it met (a record's, or the outputs'). */
export type SinkReply = { summary: Summary } | { error: { name: string; message: string; stack?: string } };

const WORKER_URL = new URL('./sinkWorker.js', import.meta.url);
/** An iteration row has no dictionary column. */
const NO_IDS: readonly number[] = [];

/**
 * The requests from which a run hands its sink to a thread by default. The thread's start (loading
 * the sink and Arrow, ~0.3 s of CPU, its code cold at first) competes with the run's own on two
 * cores: on the 2-vCPU development machine the scale scenario took 1.02 of the time in one thread
 * at 50 k requests, 0.92 at 100 k and 0.70 at 300 k, and the Azure trace (19 k) 1.06–1.08
 * (docs/performance.md).
 */
export const SINK_THREAD_FROM_REQUESTS = 100_000;

/**
 * The sink thread's young generation, capped: V8 splits it into two semi-spaces and a
 * large-object space, 8 MiB each. Uncapped, V8 grew a semi-space from 8 to 16 MiB as more of
 * what the thread allocates survived, over the first millions of requests: its heap grew by
 * 16 MiB between 1 M and 3 M requests with no more live data. With the cap its heap is the same
 * at 1 M and 10 M, and the 3 M- and 10 M-request runs took no longer (docs/performance.md,
 * seventeenth session).
 */
export const SINK_YOUNG_GENERATION_MB = 24;

/**
 * Whether a run writing outputs, of `expected_requests` (Infinity: unknown, as a streamed trace's),
 * hands its sink to a thread: INFERSIM_SINK_THREAD=0 never, =1 always; by default from
 * SINK_THREAD_FROM_REQUESTS requests with two cores or more. Only from the compiled library (the
 * TypeScript sources have no compiled worker to start). Whether it does changes no output.
 */
export function sinkThreadWanted(expected_requests: number): boolean {
  const forced = process.env.INFERSIM_SINK_THREAD;
  if (forced === '0') return false;
  if (!existsSync(fileURLToPath(WORKER_URL))) return false;
  return forced === '1' || (availableParallelism() >= 2 && expected_requests >= SINK_THREAD_FROM_REQUESTS);
}

export class SinkThread implements RunSink {
  /** Sink threads started by this process (tests check that a forced run did start one). */
  static started = 0;
  readonly events = new EventLog();
  private readonly ring: RingWriter;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly stamps: StepStamps[] = [];
  private readonly pools: number;
  private readonly clusterTable: typeof CLUSTER_COLUMNS;
  private readonly clusterIds = [0];
  private state: 'open' | 'finished' | 'aborted' = 'open';

  /** `opts.dir` must be set: a run without outputs keeps its sink (a few statistics) in its thread. */
  constructor(private readonly opts: MetricsSinkOptions) {
    if (opts.dir === undefined) throw new Error('SinkThread: a run without an output folder keeps its sink in its own thread');
    // The errors a user can cause come before the run starts, as in the run's thread.
    assertReplaceable(resolve(opts.dir));
    this.pools = opts.pools?.length ?? 1;
    this.clusterTable = withDictionaries(CLUSTER_COLUMNS, { pool: (opts.pools ?? [{ name: 'default' }]).map((p) => p.name) });
    for (let r = 0; r < opts.replicas; r++) this.addStamps();
    const buffer = newRingBuffer();
    this.ring = new RingWriter(buffer, () => this.failed());
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const job: SinkJob = { opts, ring: buffer, port: port2 };
    const resourceLimits = { maxYoungGenerationSizeMb: SINK_YOUNG_GENERATION_MB };
    this.worker = new Worker(WORKER_URL, { workerData: job, transferList: [port2], stdout: false, stderr: false, execArgv: workerExecArgv(), resourceLimits });
    // Its failures come through the ring's state and the port; an unheard 'error' event would crash this thread.
    this.worker.on('error', () => {});
    this.worker.unref();
    SinkThread.started++;
  }

  get replicas(): number {
    return this.stamps.length;
  }

  addReplica(start_s: number, gpus: number, pool = 0): number {
    this.assertOpen();
    if (!(Number.isInteger(pool) && pool >= 0 && pool < this.pools)) throw new Error(`replica added to pool ${pool}: no such pool (0..${this.pools - 1})`);
    const at = this.ring.reserve(4);
    const d = this.ring.data;
    d[at] = TAG.ADD_REPLICA;
    d[at + 1] = start_s;
    d[at + 2] = gpus;
    d[at + 3] = pool;
    this.ring.commit(at + 4);
    this.addStamps();
    return this.stamps.length - 1;
  }

  retireReplica(index: number, end_s: number): void {
    this.assertOpen();
    const at = this.ring.reserve(3);
    this.ring.data[at] = TAG.RETIRE_REPLICA;
    this.ring.data[at + 1] = index;
    this.ring.data[at + 2] = end_s;
    this.ring.commit(at + 3);
  }

  recordRequest(o: RequestOutcome): void {
    if (this.state !== 'open') this.assertOpen();
    writeOutcome(this.ring, o);
  }

  recordStepStamp(replica: number, step: number, stamp_s: number): StepStamps {
    const stamps = this.stamps[replica];
    stamps.push(step, stamp_s);
    const at = this.ring.reserve(5);
    const d = this.ring.data;
    d[at] = TAG.STAMP;
    d[at + 1] = replica;
    d[at + 2] = step;
    d[at + 3] = stamp_s;
    d[at + 4] = stamps.room;
    this.ring.commit(at + 5);
    return stamps;
  }

  stepStampPins(replica: number): number {
    return this.stamps[replica].pinned;
  }

  recordIteration(it: IterationRecord): void {
    if (this.state !== 'open') this.assertOpen();
    const at = this.ring.reserve(1 + ITERATION_CODEC.words);
    this.ring.data[at] = TAG.ITERATION;
    ITERATION_CODEC.encode(it, this.ring.data, at + 1, NO_IDS);
    this.ring.commit(at + 1 + ITERATION_CODEC.words);
  }

  newClusterRow(): ClusterRow {
    return newRow(this.clusterTable);
  }

  recordClusterRow(row: ClusterRow): void {
    this.assertOpen();
    this.clusterIds[0] = this.ring.string(row.pool);
    const at = this.ring.reserve(1 + CLUSTER_CODEC.words);
    this.ring.data[at] = TAG.CLUSTER;
    CLUSTER_CODEC.encode(row, this.ring.data, at + 1, this.clusterIds);
    this.ring.commit(at + 1 + CLUSTER_CODEC.words);
  }

  finish(ctx: FinishContext): Summary {
    this.assertOpen();
    try {
      const message: SinkFinish = { ctx, events: this.events.events };
      this.port.postMessage(message);
      this.send(TAG.FINISH);
      this.ring.awaitEnd();
      if (this.ring.state === STATE_OF.failed) this.failed();
      const reply = this.reply();
      if (reply === undefined || !('summary' in reply)) throw new Error('sink thread: done without a summary');
      this.state = 'finished';
      this.close();
      return reply.summary;
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  abort(): void {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    try {
      this.send(TAG.ABORT);
      // Its temporary folder goes before this returns, as in the run's thread (within reason: a stuck thread is left to exit with the process).
      for (let waited = 0; waited < 50 && this.ring.state < STATE_OF.failed; waited++) this.ring.waitState(this.ring.state, 100);
    } catch {
      // It failed, and cleaned up as it did.
    }
    this.close();
  }

  private send(tag: number): void {
    const at = this.ring.reserve(1);
    this.ring.data[at] = tag;
    this.ring.commit(at + 1);
    this.ring.publish();
  }

  private reply(): SinkReply | undefined {
    return receiveMessageOnPort(this.port)?.message as SinkReply | undefined;
  }

  /** The sink thread stopped on an error (or ended early): throws it here. */
  private failed(): never {
    const reply = this.reply();
    this.state = 'aborted';
    this.close();
    if (reply !== undefined && 'error' in reply) {
      const { name, message, stack } = reply.error;
      if (name === 'InfersimError') throw new InfersimError(message);
      // A defect: its stack is the sink thread's, where it happened.
      const err = new Error(message);
      if (stack !== undefined) err.stack = `${stack}\n    (in the sink thread; raised here by SinkThread)`;
      throw err;
    }
    throw new Error('sink thread: stopped without a word (out of memory?)');
  }

  private close(): void {
    this.port.close();
    void this.worker.terminate();
  }

  private addStamps(): void {
    // Windowed as the sink thread's are (it spills: this run has an output folder).
    this.stamps.push(new StepStamps(undefined, this.opts.stepWindow ?? STEP_WINDOW, true));
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new Error(`MetricsSink is ${this.state}`);
  }
}
