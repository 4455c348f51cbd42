/**
 * The real workload simulated on a scenario's hardware and engine: the scenario file gives model,
 * GPU, parallelism, engine and cluster; its workload is replaced by the real requests.
 */
import { basename } from 'node:path';
import { fieldError, InfersimError } from '../errors.js';
import { runSimulation, type RunResult } from '../cluster/simulate.js';
import type { RequestOutcome } from '../metrics/records.js';
import { loadScenario } from '../setup/load.js';
import { MAX_TIME_S, shown } from '../scenario/bounds.js';
import type { ScenarioInput } from '../scenario/types.js';
import { resolveScenario } from '../setup/resolve.js';
import { capOf, realWorkloadStream, scheduledTimes } from './stream.js';
import type { ArrivalPlan, RealRun, TimedRequest } from './types.js';

export type ArrivalMode = 'auto' | 'recorded' | 'configured';

/**
 * Which arrivals to replay. `auto`: the tool's configured traffic when it capped requests in flight
 * (the recorded send times then depend on how fast the real server answered, so replaying them would
 * hide the simulated server's own pace), else the recorded send times, else the configured traffic.
 */
export function choosePlan(run: RealRun, mode: ArrivalMode): ArrivalPlan {
  const capped = run.configured !== undefined && capOf(run.configured) !== undefined;
  if (mode === 'recorded' || (mode === 'auto' && !capped && run.recorded !== undefined)) {
    if (run.recorded === undefined) throw fieldError('--arrivals', `recorded: ${run.file} records no send times (use configured)`);
    return run.recorded;
  }
  if (run.configured === undefined) {
    if (mode === 'configured') throw fieldError('--arrivals', `configured: ${run.file} records no single rate or concurrency (${run.traffic}); use recorded`);
    throw fieldError('--arrivals', `${run.file} records neither send times nor a rate or concurrency to replay`);
  }
  return run.configured;
}

export function describePlan(plan: ArrivalPlan): string {
  if (plan.kind === 'recorded') return `the recorded send times (open loop, ${plan.times_s.length} requests)`;
  if (plan.kind === 'closed') return `closed loop, ${plan.concurrency} in flight`;
  const cap = plan.concurrency === undefined ? '' : `, at most ${plan.concurrency} in flight`;
  if (plan.process === 'burst') return `all at once${cap}`;
  const shape = plan.process === 'gamma' ? ` (gamma, burstiness ${plan.burstiness})` : '';
  return `${plan.process} at ${plan.rate_per_s}/s${shape}${cap}`;
}

export interface SimulateOptions {
  scenario: string;
  set?: string[];
  seed?: number;
  /** Multiplies every step time (tests: a known latency scale). */
  time_scale?: number;
  /** Write the run's Arrow files and summary.json here. */
  outDir?: string;
}

export interface SimulatedRun {
  requests: TimedRequest[];
  /** Requests that did not finish (rejected: longer than max_model_len, queue full; timed out). */
  unfinished: number;
  result: RunResult;
  model: string;
}

/** The scenario with its workload replaced: a placeholder the real stream stands in for, and no band re-runs (they would rebuild the placeholder). */
function scenarioFor(input: ScenarioInput, n: number): ScenarioInput {
  return {
    ...input,
    workload: { arrival: { process: 'burst' }, input_tokens: { dist: 'fixed', value: 1 }, output_tokens: { dist: 'fixed', value: 1 }, num_requests: n },
    metrics: { ...input.metrics, uncertainty: false, warmup_s: 0 },
  };
}

/** One finished request as the client saw it: its chunks are its distinct token times (tokens of one step share a chunk). */
export function timedOutcome(o: RequestOutcome): TimedRequest {
  const t = o.token_times_s;
  const chunks: number[] = [];
  for (let i = 0; i < t.length; i++) if (i === 0 || t[i] > t[i - 1]) chunks.push(t[i]);
  const gaps_s = chunks.slice(1).map((c, i) => c - chunks[i]);
  return { input_tokens: o.input_tokens, output_tokens: o.output_tokens, start_s: o.arrival_s, first_s: t[0], last_s: t[t.length - 1], end_s: o.finish_s, gaps_s };
}

/**
 * What summary.json records as the workload: the real one replayed, not the placeholder the run was
 * resolved with. Nothing reads a run's scenario back as a scenario (the report prints it as JSON), so
 * this need not be a valid workload spec; the run itself reads only workload keys absent from both
 * (timeout_s, duration_s, models, trace).
 */
export function replayedWorkload(run: RealRun, plan: ArrivalPlan) {
  return {
    replayed_from: run.file,
    format: run.format,
    num_requests: run.requests.length,
    arrivals: describePlan(plan),
    traffic: run.traffic,
    lengths: 'each request\'s prompt and output tokens as the file records them',
  };
}

/**
 * The plan's send times. A rate the simulation cannot replay (arrivals past its time limit, or a rate
 * out of its bounds) is the file's field that gave it, not the scenario key the rate is passed as.
 */
function sendTimes(run: RealRun, plan: ArrivalPlan, n: number, seed: number): number[] {
  const file = basename(run.file);
  const refuse = (): InfersimError => {
    const rate = plan.kind === 'process' ? plan.rate_per_s : undefined;
    const instead = run.recorded === undefined ? '' : '; replay the recorded send times instead (--arrivals recorded)';
    return fieldError(
      `${file}: ${run.rate_field ?? 'the configured rate'}`,
      `at ${rate}/s the ${n} requests cannot be replayed: the simulation takes rates from ${shown(1 / MAX_TIME_S)} to ${shown(1e9)} per second, and arrivals within its ${shown(MAX_TIME_S)} s time limit${instead}`,
    );
  };
  let times: number[];
  try {
    times = scheduledTimes(plan, n, seed);
  } catch (err) {
    if (!(err instanceof InfersimError) || plan.kind !== 'process') throw err;
    // vLLM's burstiness is the gamma shape; the arrival clock takes cv = 1 / √burstiness within [1e-3, 1e3].
    if (err.message.startsWith('workload.arrival.cv')) throw fieldError(`${file}: burstiness`, 'must be ≥ 1e-6 and ≤ 1e6 to be replayed (the gamma shape)', plan.burstiness);
    throw refuse();
  }
  if (times.some((t) => !(t <= MAX_TIME_S))) throw refuse();
  return times;
}

export function simulateReal(run: RealRun, plan: ArrivalPlan, opts: SimulateOptions): SimulatedRun {
  const { input } = loadScenario(opts.scenario, { set: opts.set, seed: opts.seed });
  const resolved = resolveScenario(scenarioFor(input, run.requests.length));
  // summary.json (with --dir) records the real workload in place of the placeholder.
  const setup = { ...resolved, scenario: { ...resolved.scenario, workload: replayedWorkload(run, plan) as unknown as typeof resolved.scenario.workload } };
  const s = setup.scenario;
  const times = sendTimes(run, plan, run.requests.length, s.seed);
  const stream = realWorkloadStream(run.requests, times, capOf(plan));
  const byId: (TimedRequest | undefined)[] = new Array(run.requests.length);
  let unfinished = 0;
  const onRequest = (o: RequestOutcome): void => {
    if (o.status === 'finished' && o.token_times_s.length > 0) byId[o.request_id] = timedOutcome(o);
    else unfinished++;
  };
  const result = runSimulation(setup, { stream, onRequest, time_scale: opts.time_scale, outDir: opts.outDir });
  return { requests: byId.filter((q): q is TimedRequest => q !== undefined), unfinished, result, model: String(s.model) };
}
