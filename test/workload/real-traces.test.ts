import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRequestStream, loadTrace } from '../../sim/workload/index.js';
import { TRACES, drain, mean } from './helpers.js';

const AZURE_CONV = path.join(TRACES, 'AzureLLMInferenceTrace_conv.csv');
const haveData = existsSync(AZURE_CONV);
if (!haveData) console.warn(`skipping real-trace tests: ${TRACES} is absent (the shared data lives beside the checkout)`);

describe.skipIf(!haveData)('real traces (../shared/data/traces)', () => {
  it('Azure conversation trace: 19,366 requests, mean in ≈ 1155, out ≈ 211, about an hour', () => {
    const requests = drain(createRequestStream({ trace: { path: AZURE_CONV, format: 'azure-2023' } }, 1));
    expect(requests).toHaveLength(19_366);
    expect(requests.map((r) => r.id)).toEqual(requests.map((_, i) => i));
    expect(mean(requests.map((r) => r.input_tokens))).toBeCloseTo(1154.7, 1);
    expect(mean(requests.map((r) => r.output_tokens))).toBeCloseTo(211.13, 1);
    expect(requests[0].arrival_s).toBe(0);
    // 18:15:46.6805900 → 18:15:50.9951690
    expect(requests[1].arrival_s).toBeCloseTo(4.314579, 9);
    const last_s = requests[requests.length - 1].arrival_s;
    expect(last_s).toBeGreaterThan(3400);
    expect(last_s).toBeLessThan(3700);
  });

  it('Vidur’s splitwise_conv.csv holds the same requests at the same times to within 1 ns', () => {
    const azure = loadTrace({ path: AZURE_CONV, format: 'azure-2023' });
    const vidur = loadTrace({ path: path.join(TRACES, 'splitwise_conv.csv'), format: 'vidur' });
    expect(vidur.length).toBe(azure.length);
    let worst_s = 0;
    for (let i = 0; i < azure.length; i++) worst_s = Math.max(worst_s, Math.abs(azure.arrival_s![i] - vidur.arrival_s![i]));
    expect(worst_s).toBeLessThan(1e-9);
    expect(vidur.input_tokens).toEqual(azure.input_tokens);
    expect(vidur.output_tokens).toEqual(azure.output_tokens);
  });

  it('Mooncake conversation trace keeps hash_ids', () => {
    const requests = drain(createRequestStream({ trace: { path: path.join(TRACES, 'conversation_trace.jsonl'), format: 'mooncake' } }, 1));
    expect(requests).toHaveLength(12_031);
    expect(requests[0]).toMatchObject({ arrival_s: 0, input_tokens: 6758, output_tokens: 500 });
    expect(requests[0].hash_ids).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(requests[1].hash_ids![0]).toBe(0);
    expect(requests[requests.length - 1].arrival_s).toBeCloseTo(3536.999, 9);
  });

  it('a stats file without arrived_at replays at a Poisson rate', () => {
    const file = path.join(TRACES, 'sharegpt_8k_filtered_stats_llama2_tokenizer.csv');
    const requests = drain(createRequestStream({ trace: { path: file, format: 'vidur' }, arrival: { process: 'poisson', rate_per_s: 5 }, num_requests: 1000 }, 3));
    expect(requests).toHaveLength(1000);
    expect(requests[0].arrival_s).toBe(0);
    // 999 exponential gaps of mean 0.2 s: total ≈ 199.8 s, std ≈ 6.3 s.
    expect(Math.abs(requests[999].arrival_s - 199.8)).toBeLessThan(32);
  });
});
