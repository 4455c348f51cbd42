/**
 * The uncertainty band's two re-runs in worker threads, alongside the main run. They share nothing
 * with it but the resolved setup (plain data, copied), and each is the same deterministic run it
 * would be in this thread, so the bounds are the same numbers; with a core for each run the band
 * then adds about a worker's start to the wall time, not two more runs.
 *
 * `runSimulation` is synchronous, so this thread collects a result by blocking on a shared flag
 * (Atomics.wait) and reading the worker's message with receiveMessageOnPort. While it waits it
 * forwards the worker's progress. A worker that fails (a run error, an uncaught one, or no sign of
 * life for `stall_ms`: a worker out of memory dies without a word) is reported as failed: the
 * caller re-runs that edge here, which raises the very error the run would have raised, or gives
 * its result.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { InfersimError } from '../errors.js';
import type { LatencyEfficiency } from '../latency/efficiency.js';
import type { Summary } from '../metrics/summary.js';
import type { RunSetup } from '../setup/resolve.js';

export type BandEdge = 'low' | 'high';

/** What bandWorker.ts is given. */
export interface BandJob {
  setup: RunSetup;
  efficiency: Partial<LatencyEfficiency> | undefined;
  band_edge: BandEdge;
  /** BandState's buffer. */
  state: SharedArrayBuffer;
  port: MessagePort;
}

/** What bandWorker.ts answers: the run's summary, or that it failed (the caller re-runs the edge to raise the error). */
export type BandReply = { summary: Summary } | { failed: string };

/**
 * A worker that shows no sign of life for this long is taken for dead: it ticks when it has loaded,
 * when its run is set up, and every few thousand events of it.
 */
export const BAND_THREADS_STALL_MS = 60_000;
/** How often a waiting thread wakes to forward progress. */
const POLL_MS = 100;

/**
 * The memory a worker and its parent share: [sim_s, requests done] as float64, then as int32 a
 * done flag (0 running, 1 replied, 2 died without a reply) and a heartbeat counter bumped on
 * every tick.
 */
export class BandState {
  readonly progress: Float64Array;
  readonly flags: Int32Array;
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(24)) {
    this.progress = new Float64Array(buffer, 0, 2);
    this.flags = new Int32Array(buffer, 16, 2);
  }

  /** In the worker: a progress tick. */
  tick(sim_s: number, done: number): void {
    this.progress[0] = sim_s;
    this.progress[1] = done;
    Atomics.add(this.flags, 1, 1);
  }

  /** In the worker: a sign of life without progress (loaded, set up). */
  alive(): void {
    Atomics.add(this.flags, 1, 1);
  }

  /** In the worker, after posting its reply (`posted`) or as it dies without one: wakes the waiting thread. */
  replied(posted = true): void {
    if (Atomics.load(this.flags, 0) !== 0) return;
    Atomics.store(this.flags, 0, posted ? 1 : 2);
    Atomics.notify(this.flags, 0);
  }
}

const WORKER_URL = new URL('./bandWorker.js', import.meta.url);

interface Running {
  worker: Worker;
  port: MessagePort;
  state: BandState;
}

/**
 * A main run shorter than this never starts the threads: a worker's start (loading the simulator,
 * ~0.3 s of CPU) would cost more than it saves.
 */
export const BAND_THREADS_AFTER_MS = 150;

/**
 * Threads only with a core for each of the three runs and one to spare (the collector and the
 * compiler run beside them). On the 2-vCPU development machine two runs at once each ran 35 %
 * slower than one alone, and the threaded band cost 36–42 % more CPU for 5 % less wall time on the
 * Azure trace and a 60 k-request run, and 38 % more wall time on a 1 s run (docs/performance.md).
 */
export const BAND_THREADS_MIN_CORES = 4;

/**
 * When the band's threads start: after the main run has lasted `after_ms`, on a machine with at
 * least `min_cores` cores. INFERSIM_BAND_THREADS=0 never starts them (Node 20 counts a
 * container's host cores, not its CPU quota: this keeps a small container's re-runs in one
 * thread); =1 starts them with the main run, whatever the cores (long runs on a small machine
 * gain a little, for more CPU). `stall_ms`: BAND_THREADS_STALL_MS.
 */
export interface BandThreadsPolicy {
  after_ms: number;
  min_cores: number;
  stall_ms: number;
}

/** The two band runs under way in worker threads, started as `BandThreadsPolicy` says. */
export class BandThreads {
  private readonly runs = new Map<BandEdge, Running>();
  private started = false;
  private readonly since_ms = performance.now();

  private constructor(
    private readonly setup: RunSetup,
    private readonly efficiency: Partial<LatencyEfficiency> | undefined,
    private readonly policy: BandThreadsPolicy,
  ) {}

  /**
   * The band's threads for a main run starting now, or undefined where they would not help or
   * cannot start: fewer than `min_cores` cores, INFERSIM_BAND_THREADS=0, or the TypeScript sources
   * (tests from the sources, tsx), whose worker entry is not compiled. The caller then runs the
   * edges itself.
   */
  static for(setup: RunSetup, efficiency: Partial<LatencyEfficiency> | undefined, policy: Partial<BandThreadsPolicy> = {}): BandThreads | undefined {
    const forced = bandThreadsForced();
    if (forced === false) return undefined;
    const full = { after_ms: BAND_THREADS_AFTER_MS, min_cores: BAND_THREADS_MIN_CORES, stall_ms: BAND_THREADS_STALL_MS, ...policy, ...(forced && { after_ms: 0, min_cores: 1 }) };
    if (availableParallelism() < full.min_cores || !existsSync(fileURLToPath(WORKER_URL))) return undefined;
    return new BandThreads(setup, efficiency, full);
  }

  /** Called as the main run starts and every few thousand events of it: starts the threads once it has run `after_ms`. Whether they run changes no result. */
  poll(): void {
    if (!this.started && performance.now() - this.since_ms >= this.policy.after_ms) this.start();
  }

  /** Starts both edges' runs; a thread that cannot start leaves its edge to the caller. */
  private start(): void {
    this.started = true;
    for (const band_edge of ['low', 'high'] as const) {
      const { port1, port2 } = new MessageChannel();
      const state = new BandState();
      const job: BandJob = { setup: this.setup, efficiency: this.efficiency, band_edge, state: state.buffer, port: port2 };
      let worker: Worker;
      try {
        worker = new Worker(WORKER_URL, { workerData: job, transferList: [port2], stdout: false, stderr: false });
      } catch {
        port1.close();
        continue;
      }
      // Its failures reach `wait` through the flag (or its absence); an unheard 'error' event would crash this thread.
      worker.on('error', () => {});
      worker.unref();
      this.runs.set(band_edge, { worker, port: port1, state });
    }
  }

  /**
   * Blocks until the `edge` run replies; its summary, or undefined when it failed (see the file's
   * comment) or never started. `progress` hears its progress meanwhile.
   */
  wait(edge: BandEdge, progress?: (sim_s: number, done: number) => void): Summary | undefined {
    const run = this.runs.get(edge);
    if (run === undefined) return undefined;
    this.runs.delete(edge);
    try {
      const { flags, progress: shown } = run.state;
      let beat = Atomics.load(flags, 1);
      let lastBeat_ms = performance.now();
      while (Atomics.wait(flags, 0, 0, POLL_MS) === 'timed-out') {
        const now_ms = performance.now();
        if (Atomics.load(flags, 1) !== beat) {
          beat = Atomics.load(flags, 1);
          lastBeat_ms = now_ms;
          progress?.(shown[0], shown[1]);
        } else if (now_ms - lastBeat_ms > this.policy.stall_ms) break;
      }
      const reply = receiveMessageOnPort(run.port)?.message as BandReply | undefined;
      return reply !== undefined && 'summary' in reply ? reply.summary : undefined;
    } finally {
      close(run);
    }
  }

  /** Stops the runs not waited for (the main run failed). */
  stop(): void {
    for (const run of this.runs.values()) close(run);
    this.runs.clear();
  }
}

/** INFERSIM_BAND_THREADS: '1' true, '0' false, unset undefined; anything else is refused. */
function bandThreadsForced(): boolean | undefined {
  const value = process.env.INFERSIM_BAND_THREADS;
  if (value === undefined || value === '') return undefined;
  if (value === '0' || value === '1') return value === '1';
  throw new InfersimError(`INFERSIM_BAND_THREADS is ${JSON.stringify(value)}: use 1 (the band's re-runs in threads), 0 (in the main thread), or leave it unset (threads with 4 cores or more)`);
}

function close(run: Running): void {
  run.port.close();
  void run.worker.terminate();
}
