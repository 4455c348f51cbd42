import { EventQueue } from '../engine/eventQueue.js';
import { InfersimError } from '../errors.js';
import { BlockManager } from '../kv/blockManager.js';
import { addDecode, addPrefillChunk, emptyBatch } from '../latency/batch.js';
import { RooflineLatencyModel } from '../latency/roofline.js';
import { DEFAULT_EFFICIENCY, type LatencyEfficiency } from '../latency/efficiency.js';
import type { LatencyModel } from '../latency/model.js';
import type { RequestOutcome } from '../metrics/records.js';
import { MetricsSink } from '../metrics/sink.js';
import type { Summary } from '../metrics/summary.js';
import type { RunSetup } from '../scenario/resolve.js';
import { SCHEDULERS } from '../scheduler/registry.js';
import type { SchedulerLimits } from '../scheduler/scheduler.js';
import { Sequence } from '../scheduler/sequence.js';
import { createRequestStream, type WorkloadStream } from '../workload/index.js';
import type { Request } from '../workload/request.js';
import { Replica } from './replica.js';
import { ROUTERS } from './routers.js';

/**
 * Event kinds double as tie-break priorities at one instant: step completions first, then
 * arrivals, then scheduling passes, so requests that arrive together share their first step.
 */
const STEP_END = 0;
const ARRIVAL = 1;
const SCHEDULE = 2;

export interface RunHooks {
  /** Every request as it leaves the system (finished or rejected). */
  onRequest?: (outcome: RequestOutcome) => void;
  /** Directory for the Arrow files and summary.json; undefined writes nothing. */
  outDir?: string;
  writeTokens?: boolean;
  /** Override the latency model (tests, measured profiles). */
  latency?: LatencyModel;
  efficiency?: LatencyEfficiency;
  /** Called once everything is set up and checked, just before the first event (the CLI prints its banner here). */
  onStart?: () => void;
  /** A request stream already built from the scenario's workload (the CLI builds it first, so input errors come before any output). */
  stream?: WorkloadStream;
}

/** Totals for conservation checks: every token accounted for. */
export interface RunTotals {
  requests: number;
  finished: number;
  rejected: number;
  steps: number;
  events: number;
  prefill_tokens: number;
  decode_tokens: number;
  /** Σ prompt tokens and Σ output tokens of finished requests. */
  prompt_tokens_finished: number;
  output_tokens_finished: number;
  /** Prefill tokens processed beyond each prompt's first pass (prefill tokens = prompts + these). */
  recomputed_tokens: number;
  /** Computed tokens whose KV recompute preemptions threw away (all tokens = Σ(prompt + output − 1) + these). */
  discarded_tokens: number;
  preemptions: number;
  /** Blocks still held on each replica after the run (must all be 0). */
  kv_blocks_used_at_end: number[];
  end_s: number;
}

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

export function latencyModelFor(setup: RunSetup, efficiency: LatencyEfficiency = DEFAULT_EFFICIENCY): LatencyModel {
  const s = setup.scenario;
  return new RooflineLatencyModel({
    arch: setup.arch,
    gpu: setup.gpu,
    tensor_parallel: s.hardware.tensor_parallel,
    weights: s.precision.weights,
    kv_cache: s.precision.kv_cache,
    block_size: s.engine.block_size,
    cuda_graphs: s.engine.cuda_graphs,
    max_num_seqs: s.engine.max_num_seqs,
    efficiency,
  });
}

/**
 * Checked at the end of every run, not only in tests: a violation is a simulator bug, reported
 * as such rather than written out as results.
 */
function checkInvariants(t: RunTotals): void {
  const leaked = t.kv_blocks_used_at_end.findIndex((blocks) => blocks !== 0);
  if (leaked >= 0) throw new Error(`invariant broken: replica ${leaked} still holds ${t.kv_blocks_used_at_end[leaked]} KV blocks`);
  if (t.finished + t.rejected !== t.requests) {
    throw new Error(`invariant broken: ${t.requests} requests arrived but ${t.finished} finished and ${t.rejected} were rejected`);
  }
  const computed = t.prefill_tokens + t.decode_tokens;
  const needed = t.prompt_tokens_finished + t.output_tokens_finished - t.finished + t.discarded_tokens;
  if (computed !== needed) throw new Error(`invariant broken: ${computed} tokens computed, ${needed} accounted for`);
  if (t.prefill_tokens !== t.prompt_tokens_finished + t.recomputed_tokens) {
    throw new Error(`invariant broken: ${t.prefill_tokens} prefill tokens ≠ prompts ${t.prompt_tokens_finished} + recomputed ${t.recomputed_tokens}`);
  }
}

export function runSimulation(setup: RunSetup, hooks: RunHooks = {}): RunResult {
  const wallStart = performance.now();
  const s = setup.scenario;
  const latency = hooks.latency ?? latencyModelFor(setup, hooks.efficiency);
  const limits: SchedulerLimits = {
    max_num_seqs: s.engine.max_num_seqs,
    max_num_batched_tokens: s.engine.max_num_batched_tokens,
    enable_chunked_prefill: s.engine.enable_chunked_prefill,
    preemption: s.engine.preemption,
    scheduling_policy: 'fcfs',
    max_model_len: s.engine.max_model_len,
    orca_reservation: 'max',
    max_batch_size: s.engine.max_num_seqs,
    batch_timeout_s: 0,
  };
  const factory = SCHEDULERS[s.engine.scheduler];
  if (factory === undefined) throw new InfersimError(`engine.scheduler: ${s.engine.scheduler} is not implemented yet`);
  const replicas: Replica[] = [];
  for (let i = 0; i < s.cluster.replicas; i++) {
    const kv = new BlockManager(setup.kv.usable_blocks, s.engine.block_size);
    replicas.push(new Replica(i, factory.create(kv, limits), kv, latency));
  }
  const router = ROUTERS[s.cluster.router](s.seed);
  const stream = hooks.stream ?? createRequestStream(s.workload, s.seed);
  const sink = new MetricsSink({
    dir: hooks.outDir,
    writeTokens: hooks.writeTokens ?? false,
    replicas: replicas.length,
    warmup_s: s.metrics.warmup_s,
    slo: s.slo,
  });

  const frontIn_s = s.engine.frontend_input_ms / 1000;
  const frontOut_s = s.engine.frontend_output_ms / 1000;
  const maxLen = s.engine.max_model_len;
  const queue = new EventQueue();
  const totals: RunTotals = {
    requests: 0,
    finished: 0,
    rejected: 0,
    steps: 0,
    events: 0,
    prefill_tokens: 0,
    decode_tokens: 0,
    prompt_tokens_finished: 0,
    output_tokens_finished: 0,
    recomputed_tokens: 0,
    discarded_tokens: 0,
    preemptions: 0,
    kv_blocks_used_at_end: [],
    end_s: 0,
  };
  const emit = (o: RequestOutcome): void => {
    sink.recordRequest(o);
    hooks.onRequest?.(o);
  };

  let pending: Request | undefined;
  const pullArrival = (): void => {
    if (pending !== undefined) return;
    pending = stream.next();
    if (pending !== undefined) queue.push(pending.arrival_s + frontIn_s, ARRIVAL, ARRIVAL, 0);
  };

  const startStep = (replica: Replica, now_s: number): void => {
    const plan = replica.startStep(now_s);
    if (plan === undefined) return;
    const end_s = now_s + replica.stepDuration_s(plan);
    const b = plan.batch;
    sink.recordIteration(
      replica.index, now_s, end_s, b.prefill_seqs, b.decode_seqs, b.prefill_tokens, b.decode_tokens,
      replica.kv.used_blocks, replica.kv.total_blocks, replica.scheduler.waiting_count,
      replica.scheduler.running_count, replica.scheduler.swapped_count, plan.preempted,
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
          `(prompt + output > engine.max_model_len ${maxLen}) with zero frontend latency; check the length ` +
          'distributions against engine.max_model_len, or give engine.frontend_output_ms a positive value',
      );
    }
  };

  const arrive = (request: Request, now_s: number): void => {
    totals.requests++;
    const index = router.route(request, replicas);
    if (request.input_tokens + request.output_tokens > maxLen) {
      totals.rejected++;
      // The error response takes the same output path as a token, so every request leaves at
      // (event time + frontend output latency) and closed-loop completions stay in time order.
      const finish_s = now_s + frontOut_s;
      noteRejection(now_s);
      emit({
        request_id: request.id, replica: index, arrival_s: request.arrival_s, input_tokens: request.input_tokens,
        output_tokens: 0, cached_tokens: 0, first_scheduled_s: NaN, token_times_s: [], preemptions: 0,
        status: 'rejected', finish_s,
      });
      stream.onFinished(request.id, finish_s);
      pullArrival();
      return;
    }
    const replica = replicas[index];
    replica.outstanding++;
    replica.admit(new Sequence(request, index));
    requestSchedule(replica, now_s);
  };

  const finished: Sequence[] = [];
  const completeStep = (replica: Replica, now_s: number): void => {
    finished.length = 0;
    replica.completeStep(now_s + frontOut_s, finished);
    for (const seq of finished) {
      replica.outstanding--;
      totals.finished++;
      totals.prompt_tokens_finished += seq.prompt_tokens;
      totals.output_tokens_finished += seq.output_tokens;
      totals.recomputed_tokens += seq.recomputed_tokens;
      totals.discarded_tokens += seq.discarded_tokens;
      const finish_s = seq.token_times_s[seq.output_tokens - 1];
      emit({
        request_id: seq.id, replica: seq.replica, arrival_s: seq.arrival_s, input_tokens: seq.prompt_tokens,
        output_tokens: seq.output_tokens, cached_tokens: 0, first_scheduled_s: seq.first_scheduled_s,
        token_times_s: seq.token_times_s, preemptions: seq.preemptions, status: 'finished', finish_s,
      });
      stream.onFinished(seq.id, finish_s);
    }
    pullArrival();
    requestSchedule(replica, now_s);
  };

  try {
    hooks.onStart?.();
    pullArrival();
    let now_s = 0;
    while (queue.size > 0) {
      const t = queue.pop();
      if (t < now_s) throw new Error(`simulated time went back: ${t} after ${now_s}`);
      now_s = t;
      totals.events++;
      const target = queue.poppedTarget;
      switch (queue.poppedKind) {
        case STEP_END:
          completeStep(replicas[target], now_s);
          break;
        case ARRIVAL: {
          const request = pending as Request;
          pending = undefined;
          // Queue the next arrival first: if it is at this same instant, scheduling must wait for it.
          pullArrival();
          arrive(request, now_s);
          break;
        }
        case SCHEDULE: {
          const replica = replicas[target];
          replica.schedulePending = false;
          if (!replica.busy) startStep(replica, now_s);
          break;
        }
      }
    }
    totals.end_s = now_s;
    for (const r of replicas) {
      totals.steps += r.counters.steps;
      totals.prefill_tokens += r.counters.prefill_tokens;
      totals.decode_tokens += r.counters.decode_tokens;
      totals.preemptions += r.counters.preemptions;
      totals.kv_blocks_used_at_end.push(r.kv.used_blocks);
      if (r.scheduler.waiting_count + r.scheduler.running_count > 0) {
        throw new Error(`replica ${r.index} stalled with ${r.scheduler.waiting_count} waiting and ${r.scheduler.running_count} running requests`);
      }
    }
    if (!stream.exhausted()) throw new Error('the simulation ended before the workload was exhausted');
    checkInvariants(totals);
    const wall_s = (performance.now() - wallStart) / 1000;
    const summary = sink.finish({
      gpus: s.cluster.replicas * s.hardware.tensor_parallel * s.hardware.pipeline_parallel,
      usd_per_gpu_hour: s.cost.usd_per_gpu_hour,
      kv: {
        num_gpu_blocks: setup.kv.num_gpu_blocks,
        usable_blocks: setup.kv.usable_blocks,
        block_size: s.engine.block_size,
        kv_tokens: setup.kv.kv_tokens,
        kv_bytes_per_token: setup.kv.kv_bytes_per_token,
        weight_bytes_per_gpu: setup.kv.weight_bytes,
      },
      latency: {
        model: latency.description,
        // Every operator is modelled (roofline); measured profiles will say "measured" per operator.
        sources: [...new Set(latency.breakdown(probeBatch()).map((op) => op.source))],
        efficiency: hooks.latency === undefined ? (hooks.efficiency ?? DEFAULT_EFFICIENCY) : null,
      },
      scenario: s,
      simulator: { wall_s, events: totals.events, events_per_s: totals.events / Math.max(wall_s, 1e-9) },
      notes: [`latency: ${latency.description}`, `emulates: ${s.emulates}`],
    });
    return { setup, summary, totals, latency };
  } catch (err) {
    sink.abort();
    throw err;
  }
}
