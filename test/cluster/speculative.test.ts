import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rngStream } from '../../sim/engine/rng.js';
import { addDecode, addVerify, emptyBatch } from '../../sim/latency/batch.js';
import { buildLatencyModel } from '../../sim/latency/build.js';
import { getModel } from '../../sim/model/catalog.js';
import { expectedTokensPerStep, speculation } from '../../sim/scheduler/speculation.js';
import { parseScenarioObject } from '../../sim/setup/load.js';
import { resolveScenario } from '../../sim/setup/resolve.js';
import { expectInvariants, run, scenario } from '../helpers.js';
import { ROOT } from '../cli/cli.js';

const DRAFT = join(ROOT, 'test/fixtures/draft/llama-3.2-1b/config.json');
const PROMPT = 512;
const OUTPUT = 400;

const specScenario = (spec: Record<string, unknown> | undefined, rate_per_s: number, num_requests: number, seed = 5) =>
  scenario({
    seed,
    engine: { frontend_input_ms: 0, frontend_output_ms: 0, ...(spec === undefined ? {} : { speculative: spec }) },
    metrics: { uncertainty: false },
    workload: { arrival: { process: 'poisson', rate_per_s }, input_tokens: { dist: 'fixed', value: PROMPT }, output_tokens: { dist: 'fixed', value: OUTPUT }, num_requests },
  });
const meanTpot = (spec: Record<string, unknown> | undefined, rate: number, n: number): number => {
  const observed = run(specScenario(spec, rate, n));
  expectInvariants(observed);
  const o = observed.outcomes;
  return o.reduce((acc, r) => acc + ((r.token_times_s as number[])[OUTPUT - 1] - (r.token_times_s as number[])[0]) / (OUTPUT - 1), 0) / o.length;
};

describe('the acceptance model', () => {
  it('expected tokens per step: 1 + α + … + α^k, (1 − α^(k+1)) ÷ (1 − α) for one rate', () => {
    expect(expectedTokensPerStep([0.8, 0.8, 0.8, 0.8])).toBeCloseTo((1 - 0.8 ** 5) / (1 - 0.8), 12);
    expect(expectedTokensPerStep([0.9, 0.5, 0.1])).toBeCloseTo(1 + 0.9 + 0.45 + 0.045, 12);
    expect(expectedTokensPerStep([0.9, 0.5, 0.1], 1)).toBeCloseTo(1.9, 12);
  });

  it('draws accepted counts whose mean is the analytic one (truncated geometric), never more than proposed', () => {
    const s = speculation([0.8, 0.8, 0.8, 0.8], rngStream(1, 'test'));
    let sum = 0;
    let outside = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const a = s.draw(4);
      if (!(a >= 0 && a <= 4)) outside++;
      sum += a;
    }
    expect(outside).toBe(0);
    // Standard error of the mean ≈ 1.5 / √n ≈ 0.0034: 0.02 is six of them.
    expect(Math.abs(sum / n + 1 - expectedTokensPerStep([0.8, 0.8, 0.8, 0.8]))).toBeLessThan(0.02);
    expect(s.draw(0)).toBe(0);
  });
});

describe('speculative decoding with a small draft model (α = 0.8, k = 4)', () => {
  const spec = { method: 'draft', model: DRAFT, k: 4, acceptance: 0.8 };
  const setup = resolveScenario(parseScenarioObject(specScenario(spec, 1, 1)));
  const model = (arch: ReturnType<typeof getModel>) =>
    buildLatencyModel({
      arch, gpu: setup.gpu, tensor_parallel: 1, weights: 'bf16', kv_cache: 'bf16', block_size: 16,
      cuda_graphs: true, graphs: 'v1', max_num_seqs: setup.scenario.engine.max_num_seqs, profile: setup.profile,
    });
  const target = model(setup.arch);
  const draft = model(getModel(DRAFT));
  const time = (m: typeof target, add: (b: ReturnType<typeof emptyBatch>) => void) => {
    const b = emptyBatch();
    add(b);
    return m.iterationTime_s(b);
  };

  it('at low load TPOT falls by the analytic factor: expected tokens per step ÷ (speculative step ÷ plain step), within 10 %', () => {
    // One request at a time, at the context of mid-decode.
    const c = PROMPT + OUTPUT / 2;
    const plain_s = time(target, (b) => addDecode(b, c));
    // Each proposed position is one draft decode step, without the engine's per-step host work (paid once per step).
    const noHost = (m: typeof draft, add: (b: ReturnType<typeof emptyBatch>) => void) => {
      const b = emptyBatch();
      add(b);
      return m.breakdown(b).reduce((acc, op) => acc + (op.name === 'cpu_overhead' ? 0 : op.time_s), 0);
    };
    let draft_s = 0;
    for (let j = 1; j <= 4; j++) draft_s += noHost(draft, (b) => addDecode(b, c + j));
    const spec_s = draft_s + time(target, (b) => addVerify(b, 5, c));
    const factor = expectedTokensPerStep([0.8, 0.8, 0.8, 0.8]) / (spec_s / plain_s);
    const measured = meanTpot(undefined, 0.02, 12) / meanTpot(spec, 0.02, 12);
    expect(factor).toBeGreaterThan(1.2);
    expect(Math.abs(measured / factor - 1)).toBeLessThan(0.1);
  });

  it('at a compute-bound load the gain shrinks, and with a weak draft (α = 0.4) it turns negative', () => {
    const low = meanTpot(undefined, 0.02, 12) / meanTpot(spec, 0.02, 12);
    const busy = (s: Record<string, unknown> | undefined) => meanTpot(s, 60, 300);
    const high = busy(undefined) / busy(spec);
    expect(high).toBeLessThan(low);
    expect(busy(undefined) / busy({ ...spec, acceptance: 0.4 })).toBeLessThan(1);
  });

  it('conserves tokens (each verification emits its accepted tokens plus one) and leaks no block after roll-backs', () => {
    const observed = run(specScenario(spec, 8, 80));
    expectInvariants(observed);
    const t = observed.result.totals;
    const s = observed.result.summary.speculative!;
    expect(t.verify_steps).toBeGreaterThan(0);
    // Every output token after a request's first comes from a decode step: the tokens decoded, less the rejected drafts.
    const output = observed.outcomes.reduce((acc, o) => acc + o.output_tokens, 0);
    expect(output - observed.outcomes.length).toBe(t.decode_tokens - t.rejected_draft_tokens);
    expect(t.rejected_draft_tokens).toBe(t.drafted_tokens - t.accepted_drafts);
    expect(s).toMatchObject({ method: 'draft', k: 4, drafted_tokens: t.drafted_tokens, accepted_tokens: t.accepted_drafts });
    expect(s.draft_time_share).toBeGreaterThan(0);
    expect(s.draft_time_share).toBeLessThan(1);
  });
});

describe('the draft model in GPU memory', () => {
  it('its weights leave the KV cache less room, and each token holds its KV too', () => {
    const kvOf = (input: ReturnType<typeof specScenario>) => resolveScenario(parseScenarioObject(input)).kv;
    const plain = kvOf(specScenario(undefined, 1, 1));
    const withDraft = kvOf(specScenario({ method: 'draft', model: DRAFT, k: 4, acceptance: 0.8 }, 1, 1));
    const draftAlone = kvOf({ ...specScenario(undefined, 1, 1), model: DRAFT });
    expect(withDraft.weight_bytes).toBe(plain.weight_bytes + draftAlone.weight_bytes);
    // Llama-3.1-8B: 2 × 32 layers × 8 KV heads × 128 × 2 bytes; Llama-3.2-1B: 2 × 16 × 8 × 64 × 2.
    expect(withDraft.kv_bytes_per_token).toBe(2 * 32 * 8 * 128 * 2 + 2 * 16 * 8 * 64 * 2);
    expect(withDraft.num_gpu_blocks).toBeLessThan(plain.num_gpu_blocks);
  });
});

describe('methods and bad input', () => {
  it('n-gram proposals cost no time; EAGLE and MTP cost a layer\'s share of a step', () => {
    const tpot = (method: string) => meanTpot({ method, k: 3, acceptance: 0.7 }, 0.02, 6);
    const ngram = tpot('ngram');
    expect(tpot('eagle')).toBeGreaterThan(ngram);
    expect(tpot('mtp')).toBeCloseTo(tpot('eagle'), 9);
  });

  const refused = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}) => () =>
    resolveScenario(parseScenarioObject(scenario({ engine: { speculative: spec, ...extra } })));
  it.each([
    [{ method: 'draft', k: 4, acceptance: 0.8 }, {}, /^engine\.speculative\.model: is required with method draft/],
    [{ method: 'ngram', k: 4 }, {}, /^engine\.speculative\.acceptance: is required with method ngram/],
    [{ method: 'eagle', k: 3, acceptance: [0.9, 0.8] }, {}, /^engine\.speculative\.acceptance: lists 2 rates; give one per proposed position \(k = 3\)/],
    [{ method: 'eagle', k: 3, acceptance: 1.5 }, {}, /^engine\.speculative\.acceptance/],
    [{ method: 'medusa', k: 3, acceptance: 0.5 }, {}, /^engine\.speculative\.method: must be one of draft, eagle, mtp, ngram/],
    [{ method: 'draft', model: 'qwen2.5-7b', k: 2, acceptance: 0.5 }, {}, /^engine\.speculative\.model: has a vocabulary of 152064 tokens and the target 128256/],
    [{ method: 'mtp', k: 2 }, { scheduler: 'sarathi' }, /^engine\.speculative\.method: needs a scheduler that verifies proposed tokens \(vllm\); sarathi does not/],
  ])('%j is refused in one line', (spec, extra, expected) => {
    expect(refused(spec, extra)).toThrow(expected);
  });
});
