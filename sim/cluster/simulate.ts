import { EventQueue } from '../engine/eventQueue.js';
import { fieldError, InfersimError } from '../errors.js';
import { BlockManager } from '../kv/blockManager.js';
import { addDecode, addPrefillChunk, emptyBatch } from '../latency/batch.js';
import { latencyModelFor } from '../setup/latency.js';
import type { LatencyEfficiency } from '../latency/efficiency.js';
import type { LatencyBand, LatencyModel } from '../latency/model.js';
import type { RequestOutcome } from '../metrics/records.js';
import { MetricsSink } from '../metrics/sink.js';
import type { Summary, UncertaintySummary } from '../metrics/summary.js';
import { MAX_TIME_S } from '../scenario/bounds.js';
import type { RunSetup } from '../scenario/resolve.js';
import { SCHEDULERS } from '../scheduler/registry.js';
import type { SchedulerLimits } from '../scheduler/scheduler.js';
import { Sequence, type SampleGroup } from '../scheduler/sequence.js';
import { createRequestStream, type WorkloadStream } from '../workload/index.js';
import type { Request } from '../workload/request.js';
import { checkInvariants, exactCount, stepTimeError, type RunTotals } from './invariants.js';
import { Replica } from './replica.js';
import { ROUTERS } from './routers.js';
import { runAtBandEdges, scaledLatencyModel, uncertaintySkipReason } from './uncertainty.js';
import { clearKeepingStorage } from '../engine/arrays.js';

/**
 * Event kinds double as tie-break priorities at one instant: step completions first, then
 * arrivals, then scheduling passes, so requests that arrive together share their first step.
 */
const STEP_END = 0;
const ARRIVAL = 1;
const TIMEOUT = 2;
const SCHEDULE = 3;

export interface RunHooks {
  /** Every request as it leaves the system (finished or rejected). */
  onRequest?: (outcome: RequestOutcome) => void;
  /** Directory for the Arrow files and summary.json; undefined writes nothing. */
  outDir?: string;
  writeTokens?: boolean;
  /** Override the latency model (tests, measured profiles). */
  latency?: LatencyModel;
  efficiency?: Partial<LatencyEfficiency>;
  /** Multiplies every step time of the model built from the scenario (the uncertainty band's re-runs). */
  time_scale?: number;
  /** Called once everything is set up and checked, just before the first event (the CLI prints its banner here). */
  onStart?: () => void;
  /** A request stream already built from the scenario's workload (the CLI builds it first, so input errors come before any output). */
  stream?: WorkloadStream;
  /**
   * Called every few thousand events of each pass over the workload: the main run is pass 0 of
   * `passes`, the latency band's re-runs (if any) passes 1 and 2. For progress displays.
   */
  onProgress?: (sim_s: number, requests_done: number, pass: number, passes: number) => void;
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

/** A small mixed batch, to ask a latency model which sources its operators come from. */
function probeBatch() {
  const b = emptyBatch();
  addPrefillChunk(b, 128, 0, true);
  addDecode(b, 128);
  return b;
}

export function runSimulation(setup: RunSetup, hooks: RunHooks = {}): RunResult {
  const wallStart = performance.now();
  const s = setup.scenario;
  const e = s.engine;
  const latency = hooks.latency ?? latencyModelFor(setup, hooks.efficiency, hooks.time_scale);
  const limits: SchedulerLimits = {
    max_num_seqs: e.max_num_seqs,
    max_num_batched_tokens: e.max_num_batched_tokens,
    enable_chunked_prefill: e.enable_chunked_prefill,
    preemption: e.preemption,
    scheduling_policy: e.scheduling_policy,
    max_model_len: e.max_model_len,
    orca_reservation: e.orca_reservation,
    max_batch_size: e.max_batch_size,
    batch_timeout_s: e.batch_timeout_ms / 1000,
  };
  const factory = SCHEDULERS[e.scheduler];
  const transfer = {
    bytes_per_block: setup.kv.kv_bytes_per_block,
    // The catalog gives PCIe's total over both directions.
    pcie_one_direction_bytes_per_s: setup.gpu.pcie_bandwidth_bytes_per_s / 2,
    hbm_bytes_per_s: setup.gpu.hbm_bandwidth_bytes_per_s,
  };
  const swap_blocks = Math.floor((e.swap_space_gb * 2 ** 30) / setup.kv.kv_bytes_per_block);
  const replicas: Replica[] = [];
  for (let i = 0; i < s.cluster.replicas; i++) {
    const kv = new BlockManager(setup.kv.usable_blocks, e.block_size, { prefix_caching: e.enable_prefix_caching, swap_blocks });
    replicas.push(new Replica(i, factory.create(kv, limits), kv, latency, transfer));
  }
  const forkSamples = factory.samples === 'fork';
  const router = ROUTERS[s.cluster.router](s.seed);
  const stream = hooks.stream ?? createRequestStream(s.workload, s.seed);
  const sink = new MetricsSink({
    dir: hooks.outDir,
    writeTokens: hooks.writeTokens ?? false,
    replicas: replicas.length,
    warmup_s: s.metrics.warmup_s,
    slo: s.slo,
    block_size: e.block_size,
  });

  const frontIn_s = e.frontend_input_ms / 1000;
  const frontOut_s = e.frontend_output_ms / 1000;
  const maxLen = e.max_model_len;
  const maxQueue = e.max_queue_len ?? Infinity;
  const timeout_s = s.workload.timeout_s;
  const queue = new EventQueue();
  const totals: RunTotals = {
    drawn: 0,
    requests: 0,
    finished: 0,
    rejected: 0,
    timed_out: 0,
    sequences_finished: 0,
    steps: 0,
    events: 0,
    prefill_tokens: 0,
    decode_tokens: 0,
    prompt_tokens_finished: 0,
    output_tokens_finished: 0,
    prompt_shared_tokens: 0,
    reused_tokens: 0,
    recomputed_tokens: 0,
    discarded_tokens: 0,
    preemptions: 0,
    swap_in_blocks: 0,
    swap_out_blocks: 0,
    evicted_blocks: 0,
    kv_blocks_used_at_end: [],
    end_s: 0,
  };
  const emit = (o: RequestOutcome): void => {
    sink.recordRequest(o);
    hooks.onRequest?.(o);
  };

  // Requests pulled from the stream whose arrival event is queued, by id.
  const pending = new Map<number, Request>();
  const pullArrival = (): void => {
    const request = stream.next();
    if (request === undefined) return;
    totals.drawn++;
    pending.set(request.id, request);
    queue.push(request.arrival_s + frontIn_s, ARRIVAL, ARRIVAL, request.id);
  };
  const finishRequest = (id: number, finish_s: number): void => {
    const released = stream.onFinished(id, finish_s);
    for (let i = 0; i < released; i++) pullArrival();
  };
  // Leaders of requests that may still time out, by id (only with workload.timeout_s).
  const waitingLeaders = new Map<number, Sequence>();

  const startStep = (replica: Replica, now_s: number): void => {
    const plan = replica.startStep(now_s);
    const kv = replica.kv;
    if (plan.scheduled.length === 0) {
      if (plan.preempted > 0) {
        // Everything running was preempted (a request whose samples no longer fit together): like
        // vLLM's engine loop, ask again at once, now that the blocks are free.
        replica.schedulePending = true;
        queue.push(now_s, SCHEDULE, SCHEDULE, replica.index);
        return;
      }
      const wake = plan.wake_at_s;
      if (wake > now_s && !(replica.wakeAt_s <= wake && replica.wakeAt_s > now_s)) {
        replica.wakeAt_s = wake;
        queue.push(wake, SCHEDULE, SCHEDULE, replica.index);
      }
      return;
    }
    for (const seq of plan.scheduled) {
      if (seq.first_scheduled_s !== now_s) continue;
      // A request leaves the queue when its first sequence is scheduled.
      const group = seq.group;
      if (group !== undefined) {
        if (group.started) continue;
        group.started = true;
      }
      replica.queued_requests--;
      if (timeout_s !== undefined) waitingLeaders.delete(seq.id);
    }
    const b = plan.batch;
    const step_s = replica.stepDuration_s(plan);
    const end_s = now_s + step_s;
    if (!(step_s > 0 && step_s <= MAX_TIME_S)) throw stepTimeError(latency, b, step_s, {
        step: replica.counters.steps, replica: replica.index, now_s, profile: hooks.latency === undefined ? s.hardware.profile : null,
      });
    sink.recordIteration(
      // Padding rows of a static batch cost time (in end_s) but are no sequence's tokens.
      replica.index, now_s, end_s, b.prefill_seqs, b.decode_seqs - plan.padding_seqs, b.prefill_tokens, b.decode_tokens - plan.padding_seqs,
      kv.used_blocks, kv.total_blocks, replica.scheduler.waiting_count,
      replica.scheduler.running_count, replica.scheduler.swapped_count, plan.preempted,
      kv.cached_blocks, kv.swapped_blocks, kv.unused_slots, plan.swap_in_blocks, plan.swap_out_blocks, replica.lastEvicted,
    );
    queue.push(end_s, STEP_END, STEP_END, replica.index);
  };

  /** Schedule now if nothing else happens at this instant, else after everything that does. */
  const requestSchedule = (replica: Replica, now_s: number): void => {
    if (replica.busy || replica.schedulePending) return;
    if (queue.peekTime() > now_s) {
      startStep(replica, now_s);
    } else {
      replica.schedulePending = true;
      queue.push(now_s, SCHEDULE, SCHEDULE, replica.index);
    }
  };

  // A closed loop whose requests are all rejected with zero frontend latency would resend forever
  // at one instant; no real workload needs this many rejections without time passing.
  let rejectionInstant_s = -1;
  let rejectionsAtInstant = 0;
  const noteRejection = (now_s: number): void => {
    if (now_s !== rejectionInstant_s) {
      rejectionInstant_s = now_s;
      rejectionsAtInstant = 0;
    }
    if (++rejectionsAtInstant > 1_000_000) {
      throw new InfersimError(
        `workload: the simulation makes no progress: over a million requests rejected at t = ${now_s} s ` +
          `(prompt + output > engine.max_model_len ${maxLen}, or engine.max_queue_len full) with zero frontend latency; ` +
          'check the workload against those limits, or give engine.frontend_output_ms a positive value',
      );
    }
  };

  /** A request that leaves without a token: rejected at arrival, or timed out while waiting. */
  const leaveEarly = (request: Request, replica: number, status: 'rejected' | 'timed_out', now_s: number): void => {
    if (status === 'rejected') totals.rejected++;
    else totals.timed_out++;
    // The error response takes the same output path as a token, so every request leaves at
    // (event time + frontend output latency) and closed-loop completions stay in time order.
    const finish_s = now_s + frontOut_s;
    noteRejection(now_s);
    emit({
      request_id: request.id, replica, arrival_s: request.arrival_s, input_tokens: request.input_tokens,
      output_tokens: 0, cached_tokens: 0, first_scheduled_s: NaN, token_times_s: NO_TOKEN_TIMES, preemptions: 0,
      status, finish_s, priority: request.priority ?? 0, samples: request.n ?? 1, sequences: sequencesOf(request),
    });
    finishRequest(request.id, finish_s);
  };

  const warmup_s = s.metrics.warmup_s;
  let measured = 0;
  let lastArrival_s = 0;
  const arrive = (request: Request, now_s: number): void => {
    totals.requests++;
    if (request.arrival_s >= warmup_s) measured++;
    lastArrival_s = Math.max(lastArrival_s, request.arrival_s);
    const index = router.route(request, replicas);
    const replica = replicas[index];
    if (request.input_tokens + request.output_tokens > maxLen || replica.queued_requests >= maxQueue) {
      leaveEarly(request, index, 'rejected', now_s);
      return;
    }
    replica.outstanding++;
    replica.queued_requests++;
    const count = sequencesOf(request);
    const leader = new Sequence(request, index);
    if (count > 1) {
      const group: SampleGroup = { sequences: [leader], remaining: 1, started: false };
      leader.group = group;
      if (forkSamples) {
        // One prompt pass; the other samples fork from it (none needed when one token ends every sample).
        leader.pending_forks = count - 1;
      }
    }
    replica.admit(leader, now_s);
    if (count > 1 && !forkSamples) {
      const group = leader.group as SampleGroup;
      for (let k = 1; k < count; k++) {
        const sample = new Sequence(request, index, k);
        sample.group = group;
        group.sequences.push(sample);
        group.remaining++;
        replica.admit(sample, now_s);
      }
    }
    if (timeout_s !== undefined) {
      waitingLeaders.set(request.id, leader);
      // A time-out shorter than the frontend's input latency expires as soon as the engine sees the request.
      queue.push(Math.max(now_s, request.arrival_s + timeout_s), TIMEOUT, TIMEOUT, request.id);
    }
    requestSchedule(replica, now_s);
  };

  /** False for a stale time-out (the request was scheduled in time), which is not counted as an event. */
  const timeOut = (id: number, now_s: number): boolean => {
    const leader = waitingLeaders.get(id);
    if (leader === undefined) return false;
    waitingLeaders.delete(id);
    const replica = replicas[leader.replica];
    const members = leader.group?.sequences ?? [leader];
    for (const seq of members) {
      if (!replica.scheduler.cancelWaiting(seq)) throw new Error(`request ${id}: time-out of a sequence that is not waiting`);
    }
    replica.outstanding--;
    replica.queued_requests--;
    leaveEarly(leader.request, leader.replica, 'timed_out', now_s);
    return true;
  };

  const finished: Sequence[] = [];
  const completeStep = (replica: Replica, now_s: number): void => {
    clearKeepingStorage(finished);
    const stamp_s = now_s + frontOut_s;
    // Before any request of this step is recorded: its pooled gaps refer to this stamp.
    sink.recordStepStamp(replica.index, replica.counters.steps - 1, stamp_s);
    replica.completeStep(stamp_s, finished);
    for (const seq of finished) {
      totals.sequences_finished++;
      totals.prompt_tokens_finished += seq.prompt_tokens;
      totals.output_tokens_finished += seq.output_tokens;
      totals.recomputed_tokens += seq.recomputed_tokens;
      totals.discarded_tokens += seq.discarded_tokens;
      totals.prompt_shared_tokens += seq.prompt_shared_tokens;
      totals.reused_tokens += seq.reused_tokens;
      if (seq.pending_forks > 0) {
        // One token ends every sample: the forks would be born finished, sharing the prompt pass.
        const k = seq.pending_forks;
        seq.pending_forks = 0;
        totals.sequences_finished += k;
        totals.prompt_tokens_finished += k * seq.prompt_tokens;
        totals.output_tokens_finished += k;
        totals.prompt_shared_tokens += k * seq.prompt_tokens;
        totals.reused_tokens += k * seq.prompt_tokens;
      }
      const group = seq.group;
      if (group !== undefined && --group.remaining > 0) continue;
      replica.outstanding--;
      totals.finished++;
      const members = group?.sequences;
      const merged = members === undefined ? undefined : latestTokens(members);
      const times = merged === undefined ? seq.token_times_s : merged.times;
      const finish_s = times[seq.output_tokens - 1];
      let cached = seq.cached_tokens;
      let preemptions = seq.preemptions;
      let firstScheduled = seq.first_scheduled_s;
      if (members !== undefined) {
        cached = 0;
        preemptions = 0;
        for (const m of members) {
          cached += m.cached_tokens;
          preemptions += m.preemptions;
          if (m.first_scheduled_s < firstScheduled) firstScheduled = m.first_scheduled_s;
        }
      }
      const request = seq.request;
      emit({
        request_id: seq.id, replica: seq.replica, arrival_s: seq.arrival_s, input_tokens: seq.prompt_tokens,
        output_tokens: seq.output_tokens, cached_tokens: cached, first_scheduled_s: firstScheduled,
        token_times_s: times, token_steps: merged === undefined ? seq.token_steps : merged.steps, preemptions, status: 'finished', finish_s,
        priority: seq.priority, samples: request.n ?? 1, sequences: sequencesOf(request),
        prompt_lookups: forkSamples ? 1 : sequencesOf(request),
      });
      finishRequest(seq.id, finish_s);
    }
    requestSchedule(replica, now_s);
  };

  const onProgress = hooks.onProgress;
  // Decided before the run: the progress display counts the band's re-runs as passes of the command.
  const skipReason = uncertaintySkipReason(s, latency);
  const passes = skipReason === null ? 3 : 1;
  try {
    hooks.onStart?.();
    pullArrival();
    let now_s = 0;
    let lastEvent_s = 0;
    while (queue.size > 0) {
      const t = queue.pop();
      // Inputs are bounded where they are produced (arrivals, steps, each ≤ 1e9 s); sums of them stay finite.
      if (!(t >= now_s && t < Infinity)) throw new Error(`invariant broken: event time ${t} s after ${now_s} s (times must be finite and non-decreasing)`);
      now_s = t;
      totals.events++;
      if (onProgress !== undefined && totals.events % PROGRESS_EVERY_EVENTS === 0) {
        onProgress(now_s, totals.finished + totals.rejected + totals.timed_out, 0, passes);
      }
      const prevEvent_s = lastEvent_s;
      lastEvent_s = now_s;
      const target = queue.poppedTarget;
      switch (queue.poppedKind) {
        case STEP_END:
          completeStep(replicas[target], now_s);
          break;
        case ARRIVAL: {
          const request = pending.get(target) as Request;
          pending.delete(target);
          // Queue the next arrival first: if it is at this same instant, scheduling must wait for it.
          pullArrival();
          arrive(request, now_s);
          break;
        }
        case TIMEOUT:
          if (!timeOut(target, now_s)) {
            // Time-out events are not withdrawn when a request starts in time: skipping them is bookkeeping, not simulation.
            totals.events--;
            lastEvent_s = prevEvent_s;
          }
          break;
        case SCHEDULE: {
          const replica = replicas[target];
          if (replica.wakeAt_s === now_s) replica.wakeAt_s = NaN;
          replica.schedulePending = false;
          if (!replica.busy) startStep(replica, now_s);
          break;
        }
      }
    }
    totals.end_s = lastEvent_s;
    for (const r of replicas) {
      totals.steps += r.counters.steps;
      totals.prefill_tokens += r.counters.prefill_tokens;
      totals.decode_tokens += r.counters.decode_tokens;
      totals.preemptions += r.counters.preemptions;
      totals.swap_in_blocks += r.counters.swap_in_blocks;
      totals.swap_out_blocks += r.counters.swap_out_blocks;
      totals.evicted_blocks += r.kv.evicted_blocks;
      totals.kv_blocks_used_at_end.push(r.kv.used_blocks + r.kv.swapped_blocks);
      const sched = r.scheduler;
      if (sched.waiting_count + sched.running_count + sched.swapped_count > 0) {
        throw new Error(
          `replica ${r.index} stalled with ${sched.waiting_count} waiting, ${sched.running_count} running and ${sched.swapped_count} swapped sequences`,
        );
      }
    }
    if (!stream.exhausted()) throw new Error('the simulation ended before the workload was exhausted');
    checkInvariants(totals, pending.size, exactCount(stream.info.max_requests, s.workload.duration_s));
    if (measured === 0 && totals.requests > 0) {
      throw fieldError(
        'metrics.warmup_s',
        `no request arrived at or after it (the last at ${lastArrival_s.toPrecision(4)} s), so every latency figure would be empty; use a smaller warm-up`,
        warmup_s,
      );
    }
    const wall_s = (performance.now() - wallStart) / 1000;
    // Re-runs at the latency band's edges, before `finish` so summary.json carries their bounds.
    let uncertainty: UncertaintySummary | null = null;
    let uncertainty_wall_s: number | null = null;
    if (skipReason === null) {
      const bandStart = performance.now();
      // The band runs must not recurse, and report nothing but their summaries.
      const bandSetup: RunSetup = { ...setup, scenario: { ...s, metrics: { ...s.metrics, uncertainty: false } } };
      const override = hooks.latency;
      let pass = 0;
      uncertainty = runAtBandEdges(latency.uncertainty as LatencyBand, (time_scale) => {
        const k = ++pass;
        const progress = onProgress && ((sim_s: number, done: number) => onProgress(sim_s, done, k, passes));
        // Without an override the band run builds its own model, so a step-time fault still names the profile.
        const bandHooks: RunHooks = override === undefined ? { efficiency: hooks.efficiency, time_scale } : { latency: scaledLatencyModel(override, time_scale) };
        return runSimulation(bandSetup, { ...bandHooks, onProgress: progress }).summary;
      });
      uncertainty_wall_s = (performance.now() - bandStart) / 1000;
    }
    const summary = sink.finish({
      gpus: s.cluster.replicas * s.hardware.tensor_parallel * s.hardware.pipeline_parallel,
      usd_per_gpu_hour: s.cost.usd_per_gpu_hour,
      kv: {
        num_gpu_blocks: setup.kv.num_gpu_blocks,
        usable_blocks: setup.kv.usable_blocks,
        block_size: e.block_size,
        kv_tokens: setup.kv.kv_tokens,
        kv_bytes_per_token: setup.kv.kv_bytes_per_token,
        weight_bytes_per_gpu: setup.kv.weight_bytes,
        swap_blocks,
        prefix_caching: e.enable_prefix_caching,
      },
      latency: {
        model: latency.description,
        // Which of a small mixed batch's operators came from measured tables, and which were modelled.
        sources: [...new Set(latency.breakdown(probeBatch()).map((op) => op.source))],
        profile: hooks.latency === undefined ? s.hardware.profile : null,
        efficiency: latency.parameters ?? null,
      },
      scenario: s,
      simulator: { wall_s, events: totals.events, events_per_s: totals.events / Math.max(wall_s, 1e-9), uncertainty_wall_s },
      notes: [`latency: ${latency.description}`, `emulates: ${s.emulates}`, ...(skipReason === null ? [] : [skipReason])],
      uncertainty,
    });
    return { setup, summary, totals, latency };
  } catch (err) {
    sink.abort();
    throw err;
  }
}

/** Token times of a request that left without a token: a typed array like every other's, so reading them stays monomorphic. */
const NO_TOKEN_TIMES = new Float64Array(0);

function sequencesOf(request: Request): number {
  return Math.max(request.n ?? 1, request.best_of ?? 1);
}

/**
 * Token k of a multi-sample request reaches the client when every sample has emitted its token k:
 * its time, and the step that emitted it last (all samples run on one replica).
 */
function latestTokens(members: readonly Sequence[]): { times: Float64Array; steps: Int32Array } {
  const times = Float64Array.from(members[0].token_times_s);
  const steps = Int32Array.from(members[0].token_steps);
  for (let m = 1; m < members.length; m++) {
    const t = members[m].token_times_s;
    const s = members[m].token_steps;
    for (let k = 0; k < times.length; k++) {
      if (t[k] > times[k]) {
        times[k] = t[k];
        steps[k] = s[k];
      }
    }
  }
  return { times, steps };
}
