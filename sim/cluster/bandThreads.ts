/**
 * The uncertainty band's two re-runs in worker threads, alongside the main run. They share nothing
 * with it but the resolved setup (plain data, copied), and each is the same deterministic run it
 * would be in this thread, so the bounds are the same numbers whoever runs them.
 *
 * Edges are claimed, not assigned: a worker takes the first edge of its order that nobody has
 * taken, runs it, and goes on to the next; the main thread, its own run done, takes what is left
 * (`claim`) and waits for the rest (`wait`). With one worker (three cores, or two with threads
 * forced on) it runs the low edge while the main run goes on, and the main thread then runs the
 * high one beside it, so two runs go on at a time; with four cores or more, two workers start from
 * opposite edges. Claiming rather than assigning means no edge waits on a worker that is late,
 * slow to load, or never started: the main thread takes it.
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
import { workerExecArgv } from '../engine/workerArgs.js';
import type { LatencyEfficiency } from '../latency/efficiency.js';
import type { Summary } from '../metrics/summary.js';
import type { RunSetup } from '../setup/resolve.js';

export type BandEdge = 'low' | 'high';
export const BAND_EDGES: readonly BandEdge[] = ['low', 'high'];

/** What bandWorker.ts is given. */
export interface BandJob {
  setup: RunSetup;
  efficiency: Partial<LatencyEfficiency> | undefined;
  /** The edges this worker tries to claim, in turn. */
  edges: BandEdge[];
  /** BandState's buffer. */
  state: SharedArrayBuffer;
  port: MessagePort;
}

/** What bandWorker.ts answers for one edge: the run's summary, or that it failed (the caller re-runs the edge to raise the error). */
export type BandReply = { edge: BandEdge } & ({ summary: Summary } | { failed: string });

/**
 * A worker that shows no sign of life for this long is taken for dead: it ticks when it has loaded,
 * when its run is set up, and every few thousand events of it.
 */
export const BAND_THREADS_STALL_MS = 60_000;
/** How often a waiting thread wakes to forward progress. */
const POLL_MS = 100;

const FREE = 0;
const WORKER = 1;
const HERE = 2;

/**
 * The memory the workers and this thread share, per edge: [sim_s, requests done] as float64, then
 * as int32 its claim (FREE, WORKER or HERE), its done flag (0 running, 1 replied, 2 died without a
 * reply) and a heartbeat counter bumped on every tick.
 */
export class BandState {
  private readonly progress: Float64Array;
  private readonly flags: Int32Array;
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(56)) {
    this.progress = new Float64Array(buffer, 0, 4);
    this.flags = new Int32Array(buffer, 32, 6);
  }

  /** Takes `edge` for `who` (WORKER or HERE) if nobody has; whether it did. */
  claim(edge: BandEdge, who: 'worker' | 'here'): boolean {
    return Atomics.compareExchange(this.flags, slot(edge), FREE, who === 'worker' ? WORKER : HERE) === FREE;
  }

  /** Who holds `edge`. */
  holder(edge: BandEdge): 'nobody' | 'worker' | 'here' {
    return (['nobody', 'worker', 'here'] as const)[Atomics.load(this.flags, slot(edge))];
  }

  /** In the worker: a progress tick of its `edge` run. */
  tick(edge: BandEdge, sim_s: number, done: number): void {
    this.progress[2 * slot(edge)] = sim_s;
    this.progress[2 * slot(edge) + 1] = done;
    this.alive(edge);
  }

  /** In the worker: a sign of life of its `edge` run without progress (set up). */
  alive(edge: BandEdge): void {
    Atomics.add(this.flags, 4 + slot(edge), 1);
  }

  /** In the worker, after posting its `edge` reply (`posted`) or as it dies without one: wakes the waiting thread. */
  replied(edge: BandEdge, posted = true): void {
    const done = 2 + slot(edge);
    if (Atomics.load(this.flags, done) !== 0) return;
    Atomics.store(this.flags, done, posted ? 1 : 2);
    Atomics.notify(this.flags, done);
  }

  /**
   * Blocks until the `edge` run replies or dies, or its heartbeat has stopped for `stall_ms`;
   * `progress` hears its ticks meanwhile.
   */
  await(edge: BandEdge, stall_ms: number, progress?: (sim_s: number, done: number) => void): void {
    const i = slot(edge);
    let beat = Atomics.load(this.flags, 4 + i);
    let lastBeat_ms = performance.now();
    while (Atomics.wait(this.flags, 2 + i, 0, POLL_MS) === 'timed-out') {
      const now_ms = performance.now();
      if (Atomics.load(this.flags, 4 + i) !== beat) {
        beat = Atomics.load(this.flags, 4 + i);
        lastBeat_ms = now_ms;
        progress?.(this.progress[2 * i], this.progress[2 * i + 1]);
      } else if (now_ms - lastBeat_ms > stall_ms) return;
    }
  }
}

const slot = (edge: BandEdge): number => (edge === 'low' ? 0 : 1);

const WORKER_URL = new URL('./bandWorker.js', import.meta.url);

interface Running {
  worker: Worker;
  port: MessagePort;
}

/**
 * A main run shorter than this never starts the threads: a worker's start (loading the simulator,
 * ~0.3 s of CPU) would cost more than it saves.
 */
export const BAND_THREADS_AFTER_MS = 150;

/**
 * Threads only with a core for the main run, one for a worker and one to spare (the collector and
 * the compiler run beside them). On the 2-vCPU development machine two runs at once each ran
 * ~35 % slower than one alone: a worker per edge (three runs on two cores) cost 10 % more wall
 * time, and one worker, the main thread taking the other edge once its own run is done, saved
 * 4 % for 28 % more CPU (docs/performance.md).
 */
export const BAND_THREADS_MIN_CORES = 3;
/** From this many cores, a worker per edge: each of the three runs has a core, and one is spare for the collector and the compiler. */
export const BAND_THREADS_TWO_WORKERS_CORES = 4;

/**
 * When the band's threads start: after the main run has lasted `after_ms`, on a machine with at
 * least `min_cores` cores; `workers` of them (default: one, two from
 * BAND_THREADS_TWO_WORKERS_CORES cores). INFERSIM_BAND_THREADS=0 never starts them (Node 20
 * counts a container's host cores, not its CPU quota: this keeps a small container's re-runs in
 * one thread); =1 starts them with the main run, whatever the cores. `stall_ms`:
 * BAND_THREADS_STALL_MS.
 */
export interface BandThreadsPolicy {
  after_ms: number;
  min_cores: number;
  workers: 1 | 2;
  stall_ms: number;
}

/** The band's runs under way in worker threads, started as `BandThreadsPolicy` says. */
export class BandThreads {
  private readonly running: Running[] = [];
  private readonly state = new BandState();
  private readonly replies = new Map<BandEdge, BandReply>();
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
    const cores = availableParallelism();
    const workers = cores >= BAND_THREADS_TWO_WORKERS_CORES ? 2 : 1;
    const full = { after_ms: BAND_THREADS_AFTER_MS, min_cores: BAND_THREADS_MIN_CORES, workers, stall_ms: BAND_THREADS_STALL_MS, ...policy, ...(forced && { after_ms: 0, min_cores: 1 }) } as const;
    if (cores < full.min_cores || !existsSync(fileURLToPath(WORKER_URL))) return undefined;
    return new BandThreads(setup, efficiency, full);
  }

  /** Called as the main run starts and every few thousand events of it: starts the threads once it has run `after_ms`. Whether they run changes no result. */
  poll(): void {
    if (!this.started && performance.now() - this.since_ms >= this.policy.after_ms) this.start();
  }

  /** Starts the workers, the first from the low edge, a second from the high one; a worker that cannot start leaves its edges to the others. */
  private start(): void {
    this.started = true;
    const orders: BandEdge[][] = [['low', 'high'], ['high', 'low']];
    for (const edges of orders.slice(0, this.policy.workers)) {
      const { port1, port2 } = new MessageChannel();
      const job: BandJob = { setup: this.setup, efficiency: this.efficiency, edges, state: this.state.buffer, port: port2 };
      let worker: Worker;
      try {
        worker = new Worker(WORKER_URL, { workerData: job, transferList: [port2], stdout: false, stderr: false, execArgv: workerExecArgv() });
      } catch {
        port1.close();
        continue;
      }
      // Its failures reach `wait` through the flags (or their silence); an unheard 'error' event would crash this thread.
      worker.on('error', () => {});
      worker.unref();
      this.running.push({ worker, port: port1 });
    }
  }

  /** The edges in the order this thread should try them: the reverse of the first worker's, whose runs it would otherwise wait for. */
  hereOrder(): readonly BandEdge[] {
    return this.running.length > 0 ? [...BAND_EDGES].reverse() : BAND_EDGES;
  }

  /** Takes `edge` for this thread if no worker has: true when the caller is to run it here. */
  claim(edge: BandEdge): boolean {
    return this.state.claim(edge, 'here') || this.state.holder(edge) === 'here';
  }

  /** Who runs `edge`: nobody yet, a worker, or this thread. */
  holder(edge: BandEdge): 'nobody' | 'worker' | 'here' {
    return this.state.holder(edge);
  }

  /**
   * The summary of the `edge` run a worker claimed, once it replies; undefined when that worker
   * failed (see the file's comment), or when no worker had claimed it (this thread takes it then):
   * the caller runs the edge here. `progress` hears its progress meanwhile.
   */
  wait(edge: BandEdge, progress?: (sim_s: number, done: number) => void): Summary | undefined {
    if (this.claim(edge)) return undefined;
    this.state.await(edge, this.policy.stall_ms, progress);
    const reply = this.reply(edge);
    return reply !== undefined && 'summary' in reply ? reply.summary : undefined;
  }

  /** The `edge` reply, from the workers' ports (a worker's replies arrive in the order it ran its edges). */
  private reply(edge: BandEdge): BandReply | undefined {
    for (const run of this.running) {
      for (let m = receiveMessageOnPort(run.port); m !== undefined; m = receiveMessageOnPort(run.port)) {
        const r = m.message as BandReply;
        this.replies.set(r.edge, r);
      }
    }
    return this.replies.get(edge);
  }

  /** Stops the workers (the band is complete, or the main run failed). */
  stop(): void {
    for (const run of this.running) {
      run.port.close();
      void run.worker.terminate();
    }
    this.running.length = 0;
  }
}

/** INFERSIM_BAND_THREADS: '1' true, '0' false, unset undefined; anything else is refused. */
function bandThreadsForced(): boolean | undefined {
  const value = process.env.INFERSIM_BAND_THREADS;
  if (value === undefined || value === '') return undefined;
  if (value === '0' || value === '1') return value === '1';
  throw new InfersimError(`INFERSIM_BAND_THREADS is ${JSON.stringify(value)}: use 1 (the band's re-runs in threads), 0 (in the main thread), or leave it unset (threads with 3 cores or more)`);
}
