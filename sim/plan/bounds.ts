import { addDecode, addPrefillChunk, emptyBatch } from '../latency/batch.js';
import type { LengthDist } from '../scenario/types.js';
import { fewestTokens } from '../setup/checks.js';
import { latencyModelFor } from '../setup/latency.js';
import type { RunSetup } from '../setup/resolve.js';
import { PERCENTILE_TARGETS, REQUEST_TARGETS, type DeploymentInput } from './deploymentSchema.js';

/**
 * Latency floors: what the shortest request of the workload would see alone on an idle replica.
 * No replica count beats them (replicas only remove queueing and batching), so a target below a
 * floor rules the candidate out without simulating the doubling search up to max_replicas.
 * They are floors, not estimates: the first prefill chunk stands for the whole prefill, and a
 * decode step at batch 1 with the shortest context stands for every step.
 */
export interface LatencyFloor {
  ttft_s: number;
  tpot_s: number;
  e2e_s: number;
}

/** The least a length distribution can draw (1 where it does not bound it from below). */
export function leastLength(d: number | LengthDist): number {
  return typeof d === 'number' ? d : Math.max(1, fewestTokens(d));
}

export function latencyFloor(setup: RunSetup, plan: DeploymentInput): LatencyFloor {
  const latency = latencyModelFor(setup);
  const prompt = leastLength(plan.workload.input_tokens);
  const output = leastLength(plan.workload.output_tokens);
  const chunk = Math.min(prompt, setup.scenario.engine.max_num_batched_tokens);
  const prefill = emptyBatch();
  addPrefillChunk(prefill, chunk, 0, chunk === prompt);
  const decode = emptyBatch();
  addDecode(decode, prompt + 1);
  const ttft_s = latency.iterationTime_s(prefill);
  const tpot_s = latency.iterationTime_s(decode);
  return { ttft_s, tpot_s, e2e_s: ttft_s + (output - 1) * tpot_s };
}

/** Why the floor rules the plan's SLO out, or undefined when every target lies above it. */
export function floorVerdict(plan: DeploymentInput, floor: LatencyFloor): string | undefined {
  const s = plan.slo;
  const floorOf = (key: string): number => {
    const metric = key.split('_')[0];
    return metric === 'ttft' ? floor.ttft_s : metric === 'e2e' ? floor.e2e_s : floor.tpot_s;
  };
  // A one-token request has no TPOT and meets any per-request tpot_ms: that floor binds only when every request has two tokens or more.
  const oneToken = leastLength(plan.workload.output_tokens) <= 1;
  for (const key of [...REQUEST_TARGETS, ...PERCENTILE_TARGETS]) {
    const target = s[key];
    if (target === undefined || floorOf(key) * 1000 <= target || (key === 'tpot_ms' && oneToken)) continue;
    const name = key.replace(/_ms$/, '');
    return `${name} ≤ ${target} ms is out of reach: the shortest request alone on an idle replica takes ${(floorOf(key) * 1000).toFixed(1)} ms`;
  }
  return undefined;
}
