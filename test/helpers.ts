import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import type { RequestOutcome } from '../sim/metrics/records.js';
import { simulate, type RunResult } from '../sim/index.js';
import type { ScenarioInput } from '../sim/scenario/types.js';

/** A small scenario; `patch` is merged one level deep per section, except `workload`, which it replaces. */
export function scenario(patch: Partial<Record<keyof ScenarioInput, unknown>> = {}): ScenarioInput {
  const base: Record<string, unknown> = {
    seed: 7,
    model: 'llama-3.1-8b',
    hardware: { gpu: 'h100-sxm' },
    workload: {
      arrival: { process: 'poisson', rate_per_s: 20 },
      input_tokens: { dist: 'uniform', min: 50, max: 2000 },
      output_tokens: { dist: 'uniform', min: 1, max: 300 },
      num_requests: 200,
    },
  };
  for (const [key, value] of Object.entries(patch)) {
    const old = base[key];
    base[key] =
      key !== 'workload' && old && typeof old === 'object' && value && typeof value === 'object' && !Array.isArray(value)
        ? { ...(old as object), ...(value as object) }
        : value;
  }
  return base as unknown as ScenarioInput;
}

export interface Observed {
  result: RunResult;
  outcomes: RequestOutcome[];
}

/** Runs a scenario, keeping every request outcome (token times copied). */
export function run(input: ScenarioInput, outDir?: string): Observed {
  const outcomes: RequestOutcome[] = [];
  const result = simulate(input, {
    outDir,
    onRequest: (o) => outcomes.push({ ...o, token_times_s: Array.from(o.token_times_s) }),
  });
  return { result, outcomes };
}

/** The invariants every run must satisfy, whatever the scenario. */
export function expectInvariants({ result, outcomes }: Observed): void {
  const t = result.totals;
  expect(t.kv_blocks_used_at_end.every((b) => b === 0)).toBe(true);
  expect(t.kv_slots_unused_at_end.every((slots) => slots === 0)).toBe(true);
  expect(t.finished + t.rejected + t.timed_out + t.failed).toBe(t.requests);
  expect(outcomes.length).toBe(t.requests);
  // A mirrored copy (traffic.shadow) shares its original's id: each id leaves once as a client request and at most once as a copy.
  expect(new Set(outcomes.map((o) => `${o.shadow === true ? 's' : ''}${o.request_id}`)).size).toBe(outcomes.length);
  // Every computed token is either part of a finished sequence's final KV (prompt + output − 1,
  // the last output token is never fed back) or work a preemption threw away, less the tokens
  // that came without compute (prefix-cache hits, prompts shared by forked samples).
  const finished = outcomes.filter((o) => o.status === 'finished');
  const needed = finished.reduce((sum, o) => sum + o.sequences * (o.input_tokens + o.output_tokens - 1), 0);
  expect(t.prefill_tokens + t.decode_tokens).toBe(needed + t.discarded_tokens + t.rejected_draft_tokens - t.reused_tokens);
  // Prefill tokens processed = prompt tokens − shared prompt tokens + recomputed tokens.
  expect(t.prompt_tokens_finished).toBe(finished.reduce((sum, o) => sum + o.sequences * o.input_tokens, 0));
  expect(t.prefill_tokens).toBe(t.prompt_tokens_finished - t.prompt_shared_tokens + t.recomputed_tokens);
  expect(t.prompt_shared_tokens).toBeLessThanOrEqual(t.reused_tokens);
  // Replica failures lose work too (its resends compute it again).
  if (t.preemptions === 0 && t.lost_sequences === 0) {
    expect(t.recomputed_tokens).toBe(0);
    expect(t.discarded_tokens).toBe(0);
  }
  // Plain checks collected into one assertion: the large scenarios have millions of tokens.
  const violations: string[] = [];
  const speculates = result.summary.speculative !== undefined;
  const fail = (o: RequestOutcome, what: string) => violations.length < 10 && violations.push(`request ${o.request_id}: ${what}`);
  for (const o of outcomes) {
    if (!(o.finish_s >= o.arrival_s)) fail(o, `finishes at ${o.finish_s} before arriving at ${o.arrival_s}`);
    if (o.status !== 'finished') continue;
    const times = o.token_times_s as number[];
    if (times.length !== o.output_tokens) fail(o, `${times.length} token times for ${o.output_tokens} tokens`);
    if (!(times[0] > o.arrival_s)) fail(o, `first token at ${times[0]}, arrival ${o.arrival_s}`);
    if (!(o.first_scheduled_s >= o.arrival_s)) fail(o, `scheduled at ${o.first_scheduled_s} before arrival`);
    for (let i = 1; i < times.length; i++) {
      // A speculative verification emits several tokens at once; otherwise each token has a step of its own.
      if (!(times[i] > times[i - 1] || (speculates && times[i] === times[i - 1]))) fail(o, `token ${i} at ${times[i]} not after token ${i - 1} at ${times[i - 1]}`);
    }
    if (o.finish_s !== times[times.length - 1]) fail(o, `finish ${o.finish_s} is not its last token time`);
  }
  expect(violations).toEqual([]);
}

/** A temporary folder for a whole `describe` block (its tests read files one run wrote), removed after it. */
export function suiteDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'infersim-suite-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An Arrow file a run wrote, as plain row objects. */
export function arrowRows(dir: string, file: string): Record<string, any>[] {
  return tableFromIPC(readFileSync(join(dir, file))).toArray().map((r) => r.toJSON());
}

/**
 * Two replicas with a small KV pool under outputs of 100–900 tokens: sequences are preempted,
 * breaking their stretches of consecutive steps, and resume later; with a small step window
 * (RunHooks.step_window) their replica's stamps slide under the sequences still reading them.
 */
export function preemptingLongOutputs(num_requests: number): ScenarioInput {
  return scenario({
    cluster: { replicas: 2 },
    engine: { num_gpu_blocks_override: 600, max_model_len: 4096 },
    metrics: { uncertainty: false },
    workload: {
      arrival: { process: 'poisson', rate_per_s: 30 },
      input_tokens: { dist: 'uniform', min: 50, max: 1000 },
      output_tokens: { dist: 'uniform', min: 100, max: 900 },
      num_requests,
    },
  });
}
