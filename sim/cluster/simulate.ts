import { EventLoop } from '../engine/loop.js';
import { fieldError } from '../errors.js';
import { addDecode, addPrefillChunk, emptyBatch } from '../latency/batch.js';
import type { LatencyEfficiency } from '../latency/efficiency.js';
import type { LatencyBand, LatencyModel } from '../latency/model.js';
import type { RequestOutcome } from '../metrics/records.js';
import type { SpeculativeSummary, Summary, UncertaintySummary } from '../metrics/summary.js';
import type { PoolSetup, RunSetup } from '../setup/resolve.js';
import { createRequestStream, type WorkloadStream } from '../workload/index.js';
import { Cluster } from './cluster.js';
import { RunContext } from './context.js';
import { RunTicker } from './ticker.js';
import { ARRIVAL, CONTROL, EVENT_KINDS, KV_TRANSFER_DONE, REPLICA_FAILED, REPLICA_READY, SCHEDULE, STEP_END, TIMEOUT } from './events.js';
import { Disaggregation } from './disagg.js';
import { bytesPerKvElement, kvBytesPerToken } from '../model/derived.js';
import { Faults } from './faults.js';
import { Gateway } from './gateway.js';
import { checkInvariants, exactCount, newTotals, type RunTotals } from './invariants.js';
import { ReplicaLifecycle, type RunControl } from './lifecycle.js';
import { Traffic } from './traffic.js';
import { draftLatency, gpusOf, kvFigures, newSink, poolBuilder, poolInfo, poolLatency } from './build.js';
import { CanaryRollout } from './canary.js';
import { ClusterSampler } from './sampler.js';
import { Autoscaling, type ScaledPool } from './autoscaling.js';
import { AUTOSCALERS } from '../autoscale/registry.js';
import { ReplicaSteps } from './steps.js';
import { bandTimeScales, runAtBandEdges, scaledLatencyModel, uncertaintySkipReason } from './uncertainty.js';
import { BAND_EDGES, BandThreads, type BandEdge, type BandThreadsPolicy } from './bandThreads.js';
import { pipelineSummary } from './pipeline.js';
import { loraSummary } from './loraStep.js';

export interface RunHooks {
  /** Every request as it leaves the system (finished or rejected). */
  onRequest?: (outcome: RequestOutcome) => void;
  /** Directory for the Arrow files and summary.json; undefined writes nothing. */
  outDir?: string;
  writeTokens?: boolean;
  /** Steps each replica's step stamps keep once a run with `outDir` spills (default stepWindowFor(the replicas); tests pass a small one). */
  step_window?: number;
  /** Override the latency model (tests, measured profiles). */
  latency?: LatencyModel;
  efficiency?: Partial<LatencyEfficiency>;
  /** Multiplies every step time of the model built from the scenario. */
  time_scale?: number;
  /** The uncertainty band's re-runs: each pool's step times scaled to this edge of its own model's band (a pool without one unscaled). */
  band_edge?: 'low' | 'high';
  /**
   * false: no per-step records, so the summary's KV figures measured from the iterations are
   * missing (a band re-run, whose summary feeds only the latency and throughput bounds). Ignored with `outDir`.
   */
  iterations?: false;
  /**
   * Where the band's re-runs go: by default into worker threads once the main run has lasted
   * BAND_THREADS_AFTER_MS, on a machine with BAND_THREADS_MIN_CORES cores (bandThreads.ts; the
   * object changes either); false: in this thread, one after the other. The results are the same.
   */
  band_threads?: false | Partial<BandThreadsPolicy>;
  /** The pass this run reports to onProgress as, of how many (a band re-run: 1 or 2 of 3); default pass 0 of its own passes. */
  progress_pass?: { pass: number; passes: number };
  /** Called once everything is set up and checked, just before the first event (the CLI prints its banner here). */
  onStart?: () => void;
  /** A request stream already built from the scenario's workload (the CLI builds it first, so input errors come before any output). */
  stream?: WorkloadStream;
  /** For progress displays, every few thousand events of each pass: the main run is pass 0 of `passes`, the band's re-runs 1 and 2. */
  onProgress?: (sim_s: number, requests_done: number, pass: number, passes: number) => void;
  /** Given the run's controls before the first event: to add or drain replicas while it runs (tests, what-if scripts). */
  control?: (control: RunControl) => void;
}

/** Events between two onProgress calls: frequent enough for a display, rare enough to cost nothing. */
const PROGRESS_EVERY_EVENTS = 4096;

export type { RunTotals } from './invariants.js';

export interface RunResult {
  setup: RunSetup;
  summary: Summary;
  totals: RunTotals;
  latency: LatencyModel;
}

/** One run's parts, wired: the handlers share `ctx`. */
interface Run {
  ctx: RunContext;
  gateway: Gateway;
  lifecycle: ReplicaLifecycle;
  stream: WorkloadStream;
  latency: LatencyModel;
  /** Per pool (the first is `latency`). */
  latencies: LatencyModel[];
  swap_blocks: number;
  traffic: Traffic;
  canary: CanaryRollout | undefined;
  autoscaling: Autoscaling | undefined;
  sampler: ClusterSampler;
  faults: Faults | undefined;
  disagg: Disaggregation | undefined;
}

function buildRun(setup: RunSetup, hooks: RunHooks): Run {
  const s = setup.scenario;
  const e = s.engine;
  const latencies = setup.pools.map((p) => hooks.latency ?? poolLatency(p.setup, hooks));
  const profile = (p: PoolSetup): string | null => (hooks.latency === undefined ? p.setup.scenario.hardware.profile : null);
  const builders = setup.pools.map((p, i) => poolBuilder(p, i, latencies[i], profile(p), draftLatency(p.setup, hooks)));
  const cluster = new Cluster(setup.pools.length);
  setup.pools.forEach((p, i) => {
    for (let k = 0; k < p.setup.scenario.cluster.replicas; k++) cluster.add(builders[i].build, 'ready');
  });
  const traffic = new Traffic(setup, cluster);
  // Built before the sink, which may create the output folder: a bad input leaves no output behind.
  const stream = hooks.stream ?? createRequestStream(s.workload, s.seed);
  const sink = newSink(setup, { dir: hooks.outDir, tokens: hooks.writeTokens, step_window: hooks.step_window }, stream, setup.pools.map((p, i) => poolInfo(p, latencies[i], builders[i].swap_blocks)));
  const timeout_s = s.workload.timeout_s;
  const observers = traffic.routers().filter((r) => r.observe !== undefined);
  const canaryRule = s.traffic?.canary;
  const poolModels = setup.pools.map((p) => ({ name: p.name, model: p.setup.scenario.model }));
  const canary = canaryRule === undefined ? undefined : new CanaryRollout(canaryRule as Required<typeof canaryRule>, traffic, cluster, sink.events, poolModels);
  const scaled = scaledPools(setup);
  const autoscaling = scaled.length === 0 ? undefined : new Autoscaling(scaled, cluster, sink.events, (pool) => (gateway as Gateway).heldFor(pool));
  const sampler = new ClusterSampler(
    setup.pools.map((p) => ({ name: p.name, usd_per_replica_hour: gpusOf(p.setup) * p.setup.scenario.cost.usd_per_gpu_hour })),
    cluster,
    s.metrics.interval_s,
    () => (gateway as Gateway).arrivals,
    (pool) => (gateway as Gateway).heldFor(pool),
    (row) => sink.recordClusterRow(row),
    () => sink.newClusterRow(),
  );
  const ctx = new RunContext({
    loop: new EventLoop(EVENT_KINDS),
    cluster,
    sink,
    totals: newTotals(),
    frontOut_s: e.frontend_output_ms / 1000,
    waitingLeaders: timeout_s === undefined ? undefined : new Map(),
    observe: observers.length === 0 ? undefined : (replica, ttft_s, e2e_s) => observers.forEach((r) => r.observe?.(replica, ttft_s, e2e_s)),
    watchers: [canary, autoscaling, sampler].filter((w) => w !== undefined),
    onRequest: hooks.onRequest,
  });
  const totals = ctx.totals;
  const active = (): boolean => !stream.exhausted() || totals.requests + (gateway as Gateway).undelivered > totals.finished + totals.rejected + totals.timed_out + totals.failed;
  const lifecycle = new ReplicaLifecycle(ctx, builders.map((b) => b.build), setup.pools.map((p) => ({ name: p.name, gpus: gpusOf(p.setup) })), active);
  // The gateway is built after the step handlers it schedules through, which report departures back to it.
  let gateway: Gateway | undefined;
  const steps = new ReplicaSteps(ctx, lifecycle, hooks.iterations !== false || hooks.outDir !== undefined);
  // A pool whose autoscaler may bring a replica holds requests while it has none ready.
  const autoscaled = setup.pools.map((p) => (p.setup.scenario.autoscale?.max_replicas ?? 0) > 0);
  const limits = { frontIn_s: e.frontend_input_ms / 1000, timeout_s, warmup_s: s.metrics.warmup_s, autoscaled, max_retries: s.cluster.max_retries };
  gateway = new Gateway(ctx, stream, traffic, limits, steps, lifecycle);
  steps.exit = gateway;
  lifecycle.ready.push((replica, now_s) => (gateway as Gateway).release(replica.pool_index, now_s));
  const loop = ctx.loop;
  loop.on(STEP_END, steps.onStepEnd, steps);
  loop.on(REPLICA_READY, lifecycle.onReady, lifecycle);
  loop.on(ARRIVAL, gateway.onArrival, gateway);
  loop.on(TIMEOUT, gateway.onTimeout, gateway);
  loop.on(CONTROL, lifecycle.onControl, lifecycle);
  loop.on(SCHEDULE, steps.onSchedule, steps);
  const faults = faultsOf(setup, ctx, gateway, lifecycle);
  if (faults !== undefined) loop.on(REPLICA_FAILED, faults.onFailure, faults);
  const disagg = disaggregationOf(setup, ctx, traffic, steps);
  if (disagg !== undefined) loop.on(KV_TRANSFER_DONE, disagg.onTransferEvent, disagg);
  return { ctx, gateway, lifecycle, stream, latency: latencies[0], latencies, swap_blocks: builders[0].swap_blocks, traffic, canary, autoscaling, sampler, faults, disagg };
}

/** Prefill/decode hand-offs and their KV transfers, when the scenario has prefill and decode pools. */
function disaggregationOf(setup: RunSetup, ctx: RunContext, traffic: Traffic, steps: ReplicaSteps): Disaggregation | undefined {
  const transfer = setup.scenario.transfer;
  if (transfer === undefined) return undefined;
  const kv = setup.pools.map((p) => {
    const h = p.setup.scenario.hardware;
    const perGpu = p.setup.kv.kv_bytes_per_token;
    const total = kvBytesPerToken(p.setup.arch, bytesPerKvElement(p.setup.scenario.precision.kv_cache));
    return { role: p.role, kv_bytes_per_token_per_gpu: perGpu, kv_bytes_per_token: total, layers: Math.ceil(p.setup.arch.num_hidden_layers / h.pipeline_parallel) };
  });
  const disagg = new Disaggregation(ctx, transfer, traffic.decodeGroups, kv, steps);
  steps.handOffs = disagg;
  return disagg;
}

/** summary.json `speculative`, when some pool speculates (the first such pool's method and k). */
function speculativeSummary(setup: RunSetup, ctx: RunContext): { speculative?: SpeculativeSummary } {
  const spec = setup.pools.map((p) => p.setup.scenario.engine.speculative).find((x) => x !== undefined);
  if (spec === undefined) return {};
  const t = ctx.totals;
  const busy = ctx.cluster.replicas.reduce((acc, r) => acc + r.busy_s, 0);
  const draft = ctx.cluster.replicas.reduce((acc, r) => acc + r.counters.draft_s, 0);
  return {
    speculative: {
      method: spec.method, k: spec.k, verify_steps: t.verify_steps, drafted_tokens: t.drafted_tokens, accepted_tokens: t.accepted_drafts,
      acceptance_rate: t.drafted_tokens === 0 ? null : t.accepted_drafts / t.drafted_tokens,
      mean_tokens_per_verify: t.verify_steps === 0 ? null : (t.accepted_drafts + t.verify_steps) / t.verify_steps,
      draft_time_share: busy > 0 ? draft / busy : null,
    },
  };
}

/** Replica failures, when the scenario has scripted faults or any pool fails at random. */
function faultsOf(setup: RunSetup, ctx: RunContext, gateway: Gateway, lifecycle: ReplicaLifecycle): Faults | undefined {
  const s = setup.scenario;
  const pools = setup.pools.map((p) => {
    const ps = p.setup.scenario;
    return { name: p.name, gpus: gpusOf(p.setup), cold_start_s: ps.cold_start?.total_s ?? 0, ...(ps.failures === undefined ? {} : { failures: ps.failures }) };
  });
  if (s.faults === undefined && !pools.some((p) => p.failures !== undefined)) return undefined;
  const scripted = (s.faults ?? []).map((f) => ({ at_s: f.at_s, pool: pools.findIndex((p) => p.name === f.pool), position: f.replica, down_s: f.down_s }));
  return new Faults(ctx, pools, scripted, (request, from, pool, attempt, now_s) => gateway.retry(request, from, pool, attempt, now_s), lifecycle, s.seed);
}

/** The pools with an autoscaler, each with its policy and cold start. */
function scaledPools(setup: RunSetup): ScaledPool[] {
  return setup.pools.flatMap((p, index) => {
    const s = p.setup.scenario;
    const settings = s.autoscale;
    if (settings === undefined) return [];
    const cold_start_s = (s.cold_start as NonNullable<typeof s.cold_start>).total_s;
    return [{ index, name: p.name, settings, policy: AUTOSCALERS.hpa.create(settings), cold_start_s }];
  });
}

/** After the last event: totals from every replica, and the checks that make a result trustworthy. */
function closeRun(run: Run, setup: RunSetup): void {
  const { ctx, gateway, stream } = run;
  const totals = ctx.totals;
  totals.end_s = ctx.loop.last_event_s;
  totals.events = ctx.loop.events;
  for (const r of ctx.cluster.replicas) {
    totals.steps += r.counters.steps;
    totals.prefill_tokens += r.counters.prefill_tokens;
    totals.decode_tokens += r.counters.decode_tokens;
    totals.preemptions += r.counters.preemptions;
    totals.swap_in_blocks += r.counters.swap_in_blocks;
    totals.swap_out_blocks += r.counters.swap_out_blocks;
    totals.evicted_blocks += r.kv.evicted_blocks;
    totals.kv_blocks_used_at_end.push(r.kv.used_blocks + r.kv.swapped_blocks);
    totals.kv_slots_unused_at_end.push(r.kv.unused_slots);
    totals.stamp_pins_at_end.push(ctx.sink.stepStampPins(r.index));
    const sched = r.scheduler;
    if (sched.waiting_count + sched.running_count + sched.swapped_count > 0) {
      throw new Error(
        `replica ${r.index} stalled with ${sched.waiting_count} waiting, ${sched.running_count} running and ${sched.swapped_count} swapped sequences`,
      );
    }
  }
  const s = setup.scenario;
  if (!stream.exhausted()) throw new Error('the simulation ended before the workload was exhausted');
  if (gateway.still_held > 0) throw new Error(`the simulation ended with ${gateway.still_held} requests waiting for a replica that never became ready`);
  if ((run.disagg?.in_flight ?? 0) > 0) throw new Error(`the simulation ended with ${run.disagg?.in_flight} requests handed off whose KV never landed`);
  checkInvariants(totals, gateway.undelivered, exactCount(stream.info.max_requests, s.workload.duration_s));
  if (gateway.measured === 0 && totals.requests > 0) {
    throw fieldError(
      'metrics.warmup_s',
      `no request arrived at or after it (the last at ${gateway.last_arrival_s.toPrecision(4)} s), so every latency figure would be empty; use a smaller warm-up`,
      s.metrics.warmup_s,
    );
  }
}

export function runSimulation(setup: RunSetup, hooks: RunHooks = {}): RunResult {
  const wallStart = performance.now();
  const s = setup.scenario;
  const run = buildRun(setup, hooks);
  const { ctx, latency } = run;
  // Decided before the run: the progress display counts the band's re-runs as passes of the command.
  // The band re-runs apply when any pool's model states a band (the first such band is reported).
  const banded = run.latencies.find((l) => l.uncertainty !== undefined) ?? latency;
  const skipReason = uncertaintySkipReason(s, banded);
  const passes = skipReason === null ? 3 : 1;
  const onProgress = hooks.onProgress;
  const totals = ctx.totals;
  // The band's re-runs may go on beside the main run, in threads started while it runs.
  const threaded = skipReason === null && hooks.latency === undefined && hooks.band_threads !== false;
  let threads: BandThreads | undefined;
  try {
    if (threaded) threads = BandThreads.for(bandSetupOf(setup), hooks.efficiency, hooks.band_threads || undefined);
    // Without a display or band threads to poll, a tick would do nothing: no ticker, and the loop's counting skips its branch.
    const ticker = onProgress === undefined && threads === undefined ? undefined : new RunTicker(PROGRESS_EVERY_EVENTS, totals, threads, onProgress, hooks.progress_pass ?? { pass: 0, passes });
    run.canary?.start(run.lifecycle);
    run.autoscaling?.start(run.lifecycle);
    run.sampler.start(run.lifecycle);
    run.faults?.start();
    hooks.control?.(run.lifecycle);
    hooks.onStart?.();
    run.gateway.pullArrival();
    threads?.poll();
    ctx.loop.run(ticker);
    run.sampler.finish(ctx.loop.last_event_s);
    closeRun(run, setup);
    const wall_s = (performance.now() - wallStart) / 1000;
    const band = skipReason === null ? bandRuns(setup, hooks, banded, passes, threads) : { uncertainty: null, wall_s: null };
    const summary = summarize(run, setup, hooks, { wall_s, uncertainty_wall_s: band.wall_s }, skipReason, band.uncertainty);
    return { setup, summary, totals, latency };
  } catch (err) {
    threads?.stop();
    ctx.sink.abort();
    throw err;
  }
}

/** The setup of a band re-run: it must not recurse. */
function bandSetupOf(setup: RunSetup): RunSetup {
  const s = setup.scenario;
  return { ...setup, scenario: { ...s, metrics: { ...s.metrics, uncertainty: false } } };
}

/**
 * Re-runs at the latency band's edges, before the summary is written so summary.json carries their
 * bounds: collected from `threads` where they ran there, else run here. They report nothing but
 * their summaries. wall_s is what they added to the main run's wall time.
 */
function bandRuns(setup: RunSetup, hooks: RunHooks, latency: LatencyModel, passes: number, threads: BandThreads | undefined): { uncertainty: UncertaintySummary; wall_s: number } {
  const bandStart = performance.now();
  const bandSetup = bandSetupOf(setup);
  const override = hooks.latency;
  const onProgress = hooks.onProgress;
  // Passes are numbered in the order this thread runs or waits for them, so a progress display only moves forward.
  let passes_begun = 0;
  const band = latency.uncertainty as LatencyBand;
  const scales = bandTimeScales(band);
  // The run reports its progress as its pass through `onProgress` itself: a function made per pass would be a new call target in the loop's tick every run.
  const here = (band_edge: BandEdge, pass = ++passes_begun): Summary => {
    // Without an override the band run builds its own models (each pool's at its own band's edge), so a step-time fault still names the profile.
    const bandHooks: RunHooks = override === undefined ? { efficiency: hooks.efficiency, band_edge } : { latency: scaledLatencyModel(override, scales[band_edge]) };
    return runSimulation(bandSetup, { ...bandHooks, band_threads: false, iterations: false, onProgress, progress_pass: { pass, passes } }).summary;
  };
  const summaries = new Map<BandEdge, Summary>();
  // First the edges no worker has taken, run here while the workers run theirs; then the workers' replies.
  for (const edge of threads?.hereOrder() ?? BAND_EDGES) if (threads === undefined || threads.claim(edge)) summaries.set(edge, here(edge));
  for (const edge of BAND_EDGES) {
    if (summaries.has(edge)) continue;
    const pass = ++passes_begun;
    const progress = onProgress && ((sim_s: number, done: number) => onProgress(sim_s, done, pass, passes));
    summaries.set(edge, threads?.wait(edge, progress) ?? here(edge, pass));
  }
  threads?.stop();
  const uncertainty = runAtBandEdges(band, (_, band_edge) => summaries.get(band_edge) as Summary);
  return { uncertainty, wall_s: (performance.now() - bandStart) / 1000 };
}

/** What a reader of a pools run must know: which top-level figures are the first pool's. */
function poolNotes(setup: RunSetup, skipReason: string | null): string[] {
  if (setup.pools.length === 1) return [];
  return [
    `pools: kv, latency and the lines above describe the first pool (${setup.pools[0].name}); pools[] gives each pool's`,
    ...(skipReason === null ? ['uncertainty: each pool\'s step times were scaled to the edges of its own latency model\'s band (the band shown is the first stated)'] : []),
  ];
}

/** A small mixed batch, to ask a latency model which sources its operators come from. */
function probeBatch() {
  const b = emptyBatch();
  addPrefillChunk(b, 128, 0, true);
  addDecode(b, 128);
  return b;
}

function summarize(
  run: Run,
  setup: RunSetup,
  hooks: RunHooks,
  wall: { wall_s: number; uncertainty_wall_s: number | null },
  skipReason: string | null,
  uncertainty: UncertaintySummary | null,
): Summary {
  const s = setup.scenario;
  const { latency, ctx } = run;
  const events = ctx.totals.events;
  return ctx.sink.finish({
    gpus: setup.pools.reduce((acc, p) => acc + p.setup.scenario.cluster.replicas * gpusOf(p.setup), 0),
    usd_per_gpu_hour: s.cost.usd_per_gpu_hour,
    kv: kvFigures(setup, run.swap_blocks),
    latency: {
      model: latency.description,
      // Which of a small mixed batch's operators came from measured tables, and which were modelled.
      sources: [...new Set(latency.breakdown(probeBatch()).map((op) => op.source))],
      profile: hooks.latency === undefined ? s.hardware.profile : null,
      efficiency: latency.parameters ?? null,
    },
    scenario: s,
    simulator: { wall_s: wall.wall_s, events, events_per_s: events / Math.max(wall.wall_s, 1e-9), uncertainty_wall_s: wall.uncertainty_wall_s },
    fleet: run.sampler.fleet(),
    ...(run.faults === undefined ? {} : { faults: run.faults.summary() }),
    ...(run.disagg === undefined ? {} : { disaggregation: run.disagg.summary(ctx.cluster.replicas, ctx.loop.last_event_s) }),
    ...speculativeSummary(setup, ctx),
    pipeline: pipelineSummary(ctx.cluster.replicas),
    lora: loraSummary(ctx.cluster.replicas),
    notes: [`latency: ${latency.description}`, `emulates: ${s.emulates}`, ...(skipReason === null ? [] : [skipReason]), ...poolNotes(setup, skipReason)],
    uncertainty,
  });
}
