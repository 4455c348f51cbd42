import { describe, expect, it } from 'vitest';
import { addDecode, addPrefillChunk, emptyBatch } from '../../sim/latency/batch.js';
import { KvLinks } from '../../sim/cluster/kvLinks.js';
import type { RequestOutcome } from '../../sim/metrics/records.js';
import { parseScenarioObject } from '../../sim/setup/load.js';
import { resolveScenario } from '../../sim/setup/resolve.js';
import { expectInvariants, run, scenario, suiteDir, arrowRows } from '../helpers.js';

/**
 * Llama-3.1-8B's KV per token, bf16: 2 (K and V) × 32 layers × 8 KV heads × 128 dims × 2 bytes
 * (its config.json: num_hidden_layers 32, num_key_value_heads 8, head_dim 128).
 */
const KV_BYTES_PER_TOKEN = 2 * 32 * 8 * 128 * 2;
const LAYERS = 32;

const PD = [
  { name: 'prefill', replicas: 1, role: 'prefill' },
  { name: 'decode', replicas: 1, role: 'decode' },
];
const COLOCATED = [{ name: 'unified', replicas: 2 }];
const quiet = { frontend_input_ms: 0, frontend_output_ms: 0 };

/** Long prompts, short answers: DistServe's and Splitwise's prompt-heavy case. */
const longPrompts = (rate_per_s: number, num_requests = 400) => ({
  arrival: { process: 'poisson', rate_per_s },
  input_tokens: { dist: 'uniform', min: 2000, max: 4000 },
  output_tokens: { dist: 'uniform', min: 32, max: 96 },
  num_requests,
});
const pdRun = (patch: Record<string, unknown>, dir?: string) =>
  run(scenario({ seed: 3, engine: quiet, metrics: { uncertainty: false }, pools: PD, transfer: { link: 'nvlink' }, ...patch }), dir);

describe('one request, hand-computed', () => {
  const prompt = 3000;
  const output = 6;
  const bandwidth_gbps = 100;
  const latency_us = 40;
  const one = (layerwise: boolean) =>
    pdRun({
      engine: { max_num_batched_tokens: 1024, frontend_input_ms: 3, frontend_output_ms: 0.5 },
      transfer: { link: 'roce', bandwidth_gbps, latency_us, layerwise },
      workload: { arrival: { process: 'burst' }, input_tokens: { dist: 'fixed', value: prompt }, output_tokens: { dist: 'fixed', value: output }, num_requests: 1 },
    });
  const plain = one(false);
  const [o] = plain.outcomes;
  const latency = plain.result.latency;
  const step = (add: (b: ReturnType<typeof emptyBatch>) => void) => {
    const b = emptyBatch();
    add(b);
    return latency.iterationTime_s(b);
  };
  // 3000 tokens in chunks of 1024, 1024, 952 on the prefill replica; only the last samples a token.
  const chunks = [step((b) => addPrefillChunk(b, 1024, 0, false)), step((b) => addPrefillChunk(b, 1024, 1024, false)), step((b) => addPrefillChunk(b, 952, 2048, true))];
  const prefill_s = chunks[0] + chunks[1] + chunks[2];
  const transfer_s = latency_us / 1e6 + (prompt * KV_BYTES_PER_TOKEN) / ((bandwidth_gbps * 1e9) / 8);

  it('TTFT = frontend terms + the prefill replica\'s chunk steps; its first token comes from the prefill replica', () => {
    expect(o.status).toBe('finished');
    expect((o.token_times_s as number[])[0] - o.arrival_s).toBeCloseTo(0.003 + prefill_s + 0.0005, 12);
    expect(o.handoff?.prefill_replica).toBe(0);
    expect(o.replica).toBe(1);
  });

  it('the transfer takes bytes ÷ bandwidth + latency, admitted at once; token 2 comes one decode step after it lands', () => {
    const h = o.handoff!;
    expect(h.kv_wait_s).toBe(0);
    expect(h.kv_transfer_tokens).toBe(prompt);
    expect(h.kv_transfer_s).toBeCloseTo(transfer_s, 12);
    const times = o.token_times_s as number[];
    const handoff_s = o.arrival_s + 0.003 + prefill_s;
    expect(times[1]).toBeCloseTo(handoff_s + transfer_s + step((b) => addDecode(b, prompt + 1)) + 0.0005, 12);
    for (let i = 2; i < output; i++) expect(times[i] - times[i - 1]).toBeCloseTo(step((b) => addDecode(b, prompt + i)), 12);
    expect(plain.result.summary.disaggregation).toMatchObject({ transfers: 1, bytes: prompt * KV_BYTES_PER_TOKEN, tokens_cached_at_decode: 0 });
  });

  it('layerwise, the transfer overlaps the prefill\'s last step: what the link carried then is not waited for', () => {
    const [l] = one(true).outcomes;
    const shard = prompt * KV_BYTES_PER_TOKEN;
    const bytes_per_s = (bandwidth_gbps * 1e9) / 8;
    const sent = Math.min((shard * (LAYERS - 1)) / LAYERS, chunks[2] * bytes_per_s);
    expect(l.handoff!.kv_transfer_s).toBeCloseTo(latency_us / 1e6 + (shard - sent) / bytes_per_s, 12);
    expect(l.handoff!.kv_transfer_s).toBeLessThan(transfer_s);
  });

  it('keeps the invariants: prompt + output − 1 tokens computed across the two replicas, every block freed on both', () => {
    expectInvariants(plain);
    expect(plain.result.totals.prefill_tokens).toBe(prompt);
    expect(plain.result.totals.decode_tokens).toBe(output - 1);
  });
});

describe('re-sharding between TP degrees', () => {
  it.each([
    ['prefill TP 2 → decode TP 1: the decode GPU takes the whole KV', 2, 1],
    ['prefill TP 1 → decode TP 2: the prefill GPU sends the whole KV', 1, 2],
  ])('%s, so the larger shard sets the time', (_name, tp_p, tp_d) => {
    const [o] = pdRun({
      pools: [{ ...PD[0], hardware: { tensor_parallel: tp_p } }, { ...PD[1], hardware: { tensor_parallel: tp_d } }],
      transfer: { link: 'infiniband', bandwidth_gbps: 200, latency_us: 0 },
      workload: { arrival: { process: 'burst' }, input_tokens: { dist: 'fixed', value: 1000 }, output_tokens: { dist: 'fixed', value: 3 }, num_requests: 1 },
    }).outcomes;
    expect(o.handoff!.kv_transfer_s).toBeCloseTo((1000 * KV_BYTES_PER_TOKEN) / (200e9 / 8), 12);
  });
});

describe('links shared by concurrent transfers (max-min fair)', () => {
  it('two transfers out of one replica share its link, then each runs alone', () => {
    const links = new KvLinks<string>(100, 0);
    links.add(0, 0, 1, 100, 'a');
    links.add(0, 0, 2, 300, 'b');
    expect(links.next_s()).toBeCloseTo(2, 12);
    expect(links.advance(2)).toEqual(['a']);
    // b moved 100 bytes at 50 B/s; its last 200 go at the full 100 B/s.
    expect(links.next_s()).toBeCloseTo(4, 12);
    expect(links.advance(4)).toEqual(['b']);
  });

  it('a transfer held back elsewhere leaves its share to the others', () => {
    const links = new KvLinks<string>(90, 0);
    // b, c, d share replica 2's link in (30 B/s each); a shares replica 0's link out with b only, so takes the 60 b leaves.
    links.add(0, 0, 1, 90, 'a');
    links.add(0, 0, 2, 90, 'b');
    links.add(0, 4, 2, 90, 'c');
    links.add(0, 5, 2, 90, 'd');
    expect(links.next_s()).toBeCloseTo(1.5, 12);
    expect(links.advance(1.5)).toEqual(['a']);
    expect(links.next_s()).toBeCloseTo(3, 12);
    expect(links.advance(3)).toEqual(['b', 'c', 'd']);
  });

  it('a transfer that completes the instant another is added still lands', () => {
    const links = new KvLinks<string>(100, 0);
    links.add(0, 0, 1, 100, 'a');
    links.add(1, 0, 2, 100, 'b');
    expect(links.next_s()).toBe(1);
    expect(links.advance(1)).toEqual(['a']);
    expect(links.advance(2)).toEqual(['b']);
  });

  it('completion is judged in time, so transfers late in a long run still end', () => {
    const links = new KvLinks<number>(5e10, 0);
    const t0 = 1e8 + 0.123456789;
    for (let k = 0; k < 50; k++) links.add(t0, k, 100 + (k % 7), 1e8 + k * 12345.678, k);
    const landed: number[] = [];
    for (let i = 0; i < 200 && links.in_flight > 0; i++) landed.push(...links.advance(links.next_s()));
    expect(landed.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, k) => k));
  });

  it('a transfer waits its latency before its bytes move', () => {
    const links = new KvLinks<string>(100, 0.25);
    links.add(1, 0, 1, 50, 'a');
    expect(links.next_s()).toBe(1.25);
    expect(links.advance(1.25)).toEqual([]);
    expect(links.next_s()).toBeCloseTo(1.75, 12);
    expect(links.advance(1.75)).toEqual(['a']);
    expect(links.in_flight).toBe(0);
  });
});

describe('under a prompt-heavy load', () => {
  const dir = suiteDir();
  const loaded = pdRun({ workload: longPrompts(6) }, dir);

  it('conserves tokens and frees every block on both sides; bytes sent = Σ prompt tokens × KV bytes per token', () => {
    expectInvariants(loaded);
    const finished = loaded.outcomes.filter((o) => o.status === 'finished');
    expect(finished.length).toBe(400);
    const prompts = finished.reduce((acc, o) => acc + o.input_tokens, 0);
    expect(finished.every((o) => o.handoff?.kv_transfer_tokens === o.input_tokens)).toBe(true);
    expect(loaded.result.summary.disaggregation).toMatchObject({ transfers: 400, bytes: prompts * KV_BYTES_PER_TOKEN });
    const rows = arrowRows(dir, 'requests.arrow');
    expect(rows.every((r) => r.prefill_replica === 0 && r.decode_replica === 1 && r.replica === 1 && r.kv_transfer_s > 0)).toBe(true);
  });

  it('the decode replica never runs a prompt: its steps are decodes only', () => {
    const steps = arrowRows(dir, 'iterations.arrow');
    expect(steps.filter((s) => s.replica === 1).every((s) => s.prefill_tokens === 0)).toBe(true);
    expect(steps.filter((s) => s.replica === 0).every((s) => s.decode_tokens === 0)).toBe(true);
  });

  /** p99 of the gaps between tokens a decode step made (token 2 on: the first gap spans the hand-off). */
  const decodeGapP99 = (outcomes: RequestOutcome[], from: number): number => {
    const gaps = outcomes.flatMap((o) => (o.token_times_s as number[]).slice(from).map((t, i, ts) => (i === 0 ? NaN : t - ts[i - 1])).filter((g) => !Number.isNaN(g)));
    gaps.sort((a, b) => a - b);
    return gaps[Math.ceil(0.99 * gaps.length) - 1];
  };

  it('interference gone: decode ITL p99 within 10 % of the unloaded decode step, where colocated prefill inflates it', () => {
    // Answers of 16–48 tokens keep the decode batch small, so its own growth stays within the 10 %.
    const promptHeavy = (rate_per_s: number, num_requests = 400) => ({ ...longPrompts(rate_per_s, num_requests), output_tokens: { dist: 'uniform', min: 16, max: 48 } });
    const unloaded = decodeGapP99(pdRun({ workload: promptHeavy(0.2, 60) }).outcomes, 1);
    expect(decodeGapP99(pdRun({ workload: promptHeavy(6) }).outcomes, 1)).toBeLessThanOrEqual(1.1 * unloaded);
    const colocated = run(scenario({ seed: 3, engine: quiet, metrics: { uncertainty: false }, pools: COLOCATED, workload: promptHeavy(6) }));
    expect(decodeGapP99(colocated.outcomes, 1)).toBeGreaterThan(3 * unloaded);
  });
});

describe('DistServe\'s result, both ways (goodput per GPU on the same 2 GPUs)', () => {
  const goodputPerGpu = (pools: unknown, workload: unknown, slo: unknown, transfer?: unknown) => {
    const o = run(scenario({ seed: 3, engine: quiet, metrics: { uncertainty: false }, pools, workload, slo, ...(transfer === undefined ? {} : { transfer }) })).result.summary.overall;
    return (o.slo.goodput_req_per_s as number) / 2;
  };

  it('long prompts and a tight TPOT SLO: disaggregation raises goodput per GPU', () => {
    const slo = { ttft_ms: 1000, tpot_ms: 11 };
    expect(goodputPerGpu(PD, longPrompts(8), slo, { link: 'nvlink' })).toBeGreaterThan(1.5 * goodputPerGpu(COLOCATED, longPrompts(8), slo));
  });

  it('short prompts and a loose SLO: colocated is at least as good', () => {
    const short = { arrival: { process: 'poisson', rate_per_s: 40 }, input_tokens: { dist: 'uniform', min: 100, max: 300 }, output_tokens: { dist: 'uniform', min: 100, max: 400 }, num_requests: 600 };
    const slo = { ttft_ms: 2000, tpot_ms: 100 };
    expect(goodputPerGpu(COLOCATED, short, slo)).toBeGreaterThanOrEqual(goodputPerGpu(PD, short, slo, { link: 'nvlink' }));
  });
});

describe('a link slower than prefill', () => {
  it('becomes the bottleneck: transfers queue behind each other, prefill KV stays held, and TTFT grows', () => {
    const fast = pdRun({ workload: longPrompts(6, 300) });
    const slow = pdRun({ transfer: { link: 'tcp', bandwidth_gbps: 5 }, workload: longPrompts(6, 300) });
    expectInvariants(slow);
    const alone = (3000 * KV_BYTES_PER_TOKEN) / (5e9 / 8);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // Offered link load: 6 req/s × ~0.63 s each ≈ 3.8× the link: each transfer shares it with several.
    expect(mean(slow.outcomes.map((o) => o.handoff!.kv_transfer_s))).toBeGreaterThan(2 * alone);
    const ttftP99 = (os: RequestOutcome[]) => os.map((o) => (o.token_times_s as number[])[0] - o.arrival_s).sort((a, b) => a - b)[Math.ceil(0.99 * os.length) - 1];
    expect(ttftP99(slow.outcomes)).toBeGreaterThan(5 * ttftP99(fast.outcomes));
  });
});

describe('the decode side under pressure', () => {
  it('a decode replica whose blocks all go to sequences waiting to run still runs them (no stall)', () => {
    const tight = { max_model_len: 512, num_gpu_blocks_override: 33 };
    const observed = pdRun({
      pools: [{ ...PD[0], engine: { max_model_len: 512 } }, { ...PD[1], engine: tight }],
      workload: { arrival: { process: 'burst' }, input_tokens: { dist: 'fixed', value: 256 }, output_tokens: { dist: 'fixed', value: 8 }, num_requests: 4 },
    });
    expectInvariants(observed);
    expect(observed.outcomes.every((o) => o.status === 'finished')).toBe(true);
  });

  it('queue-reading routers see hand-offs waiting for their KV: least-queue spreads them over the decode replicas', () => {
    // Over a 25 Gb/s link a transfer takes ~0.13 s: several wait at once, and the router sees them.
    const observed = pdRun({
      transfer: { link: 'roce', bandwidth_gbps: 25 },
      pools: [{ ...PD[0], replicas: 2 }, { ...PD[1], replicas: 3, router: 'least-queue' }],
      workload: longPrompts(12, 300),
    });
    const served = [2, 3, 4].map((r) => observed.outcomes.filter((o) => o.replica === r).length);
    expect(served.every((n) => n >= 50)).toBe(true);
  });

  it('a decode pool shorter than its prefill pool admits is refused in one line', () => {
    const refused = () => resolveScenario(parseScenarioObject(scenario({ pools: [PD[0], { ...PD[1], engine: { max_model_len: 2000 } }] })));
    expect(refused).toThrow(/^pools\[1\]\.engine\.max_model_len: decode pool decode must take sequences as long as prefill pool prefill admits \(131072 tokens\)/);
  });

  it('a split between a colocated pool and a prefill pool (A/B of the architecture) runs', () => {
    const observed = run(scenario({
      seed: 3, engine: quiet, metrics: { uncertainty: false }, transfer: { link: 'nvlink' },
      pools: [{ name: 'colocated', replicas: 1 }, ...PD], traffic: { split: [{ pool: 'colocated', weight: 1 }, { pool: 'prefill', weight: 1 }] },
      workload: longPrompts(2, 100),
    }));
    expectInvariants(observed);
    const handed = observed.outcomes.filter((o) => o.handoff !== undefined).length;
    expect(handed).toBeGreaterThan(20);
    expect(handed).toBeLessThan(80);
  });
});

describe('prefix caching across the hand-off', () => {
  it('blocks still in transfer are no hit: hand-offs admitted before the first KV lands send their whole prompt', () => {
    const burst = pdRun({
      transfer: { link: 'tcp', bandwidth_gbps: 5 },
      workload: { arrival: { process: 'burst' }, input_tokens: { dist: 'fixed', value: 3072 }, output_tokens: { dist: 'fixed', value: 4 }, num_requests: 6, prefix: { groups: 1, tokens: 1024, fraction: 1 } },
    });
    expectInvariants(burst);
    // No frontend latency: the first token's time is the hand-off.
    const admitted = burst.outcomes.map((o) => (o.token_times_s as number[])[0] + o.handoff!.kv_wait_s);
    const firstLanding = Math.min(...burst.outcomes.map((o, i) => admitted[i] + o.handoff!.kv_transfer_s));
    const early = burst.outcomes.filter((_, i) => admitted[i] < firstLanding);
    expect(early.length).toBeGreaterThan(1);
    // Each prompt is the shared 1024-token prefix and 3072 tokens of its own.
    expect(early.every((o) => o.input_tokens === 4096 && o.handoff!.kv_transfer_tokens === 4096)).toBe(true);
  });

  it('a decode replica that holds a shared prefix receives only the rest', () => {
    const shared = pdRun({
      workload: { ...longPrompts(4, 200), prefix: { groups: 1, tokens: 1024, fraction: 1 } },
    });
    expectInvariants(shared);
    const sent = shared.outcomes.reduce((acc, o) => acc + o.handoff!.kv_transfer_tokens, 0);
    const prompts = shared.outcomes.reduce((acc, o) => acc + o.input_tokens, 0);
    const d = shared.result.summary.disaggregation!;
    // After the first, every request finds the 1024-token prefix (64 blocks of 16) cached on the decode replica.
    expect(d.tokens_cached_at_decode).toBe(prompts - sent);
    expect(prompts - sent).toBeGreaterThanOrEqual(199 * 1024);
    expect(d.bytes).toBe(sent * KV_BYTES_PER_TOKEN);
    // The prefill side hits its cache too.
    expect(shared.outcomes.filter((o) => o.cached_tokens >= 1024).length).toBeGreaterThanOrEqual(199);
  });
});

describe('bad input gets one clear line', () => {
  const load = (patch: Record<string, unknown>) => () => resolveScenario(parseScenarioObject(scenario(patch)));
  it.each([
    ['a decode pool without a prefill pool', { pools: [{ name: 'u', replicas: 1 }, { name: 'd', replicas: 1, role: 'decode' }] }, /^pools\[1\]\.role: decode needs a pool with role prefill to receive KV from; add one, got "decode"$/],
    ['different models on the two roles', { pools: [{ name: 'p', replicas: 1, role: 'prefill' }, { name: 'd', replicas: 1, role: 'decode', model: 'qwen2.5-7b' }] }, /^pools\[0\]\.role: prefill pool p serves llama-3\.1-8b, but no decode pool does \(d serves qwen2\.5-7b\)/],
    ['an unknown link', { pools: PD, transfer: { link: 'ethernet' } }, /^transfer\.link: must be one of nvlink, infiniband, roce, pcie, tcp/],
    ['a transfer without prefill and decode pools', { transfer: { link: 'nvlink' } }, /^transfer: is the KV link from prefill to decode pools/],
    ['a policy that cannot hand KV over', { engine: { scheduler: 'sarathi' }, pools: PD }, /^pools\[0\]\.engine\.scheduler: cannot hand KV between replicas \(role prefill\); use vllm/],
    ['several samples per request', { pools: PD, workload: { ...longPrompts(1, 10), n: 2 } }, /^workload\.n: must be 1 with prefill and decode pools/],
  ])('%s', (_name, patch, expected) => {
    expect(load(patch)).toThrow(expected);
  });
});
