import { describe, expect, it } from 'vitest';
import type { WorkloadLoraInput, WorkloadSpec } from '../../sim/scenario/types.js';
import { createRequestStream, loadTrace } from '../../sim/workload/index.js';
import { drain, errorOf, tempFile } from './helpers.js';

const synthetic = (lora: WorkloadLoraInput | undefined, extra: Partial<WorkloadSpec> = {}): WorkloadSpec => ({
  arrival: { process: 'poisson', rate_per_s: 10 },
  input_tokens: { dist: 'uniform', min: 10, max: 500 },
  output_tokens: { dist: 'uniform', min: 1, max: 100 },
  num_requests: 4000,
  ...(lora === undefined ? {} : { lora }),
  ...extra,
});
const adapters = (spec: WorkloadSpec, seed = 3) => drain(createRequestStream(spec, seed)).map((r) => r.adapter);

function counts(ids: (number | undefined)[], n: number): number[] {
  const out = new Array<number>(n).fill(0);
  for (const id of ids) if (id !== undefined) out[id]++;
  return out;
}

describe('workload.lora: each generated request names an adapter', () => {
  it('round_robin alternates 0, 1, …, N − 1 deterministically: two adapters alternate', () => {
    expect(adapters(synthetic({ adapters: 2, popularity: 'round_robin' }, { num_requests: 6 }))).toEqual([0, 1, 0, 1, 0, 1]);
    expect(adapters(synthetic({ adapters: 3, popularity: 'round_robin' }, { num_requests: 7 }))).toEqual([0, 1, 2, 0, 1, 2, 0]);
  });

  it('zipf (the default, alpha 1): adapter 0 the most frequent, frequencies falling with the rank, near 1/(k + 1)', () => {
    const c = counts(adapters(synthetic({ adapters: 5 })), 5);
    for (let k = 1; k < 5; k++) expect(c[k - 1]).toBeGreaterThan(c[k]);
    // P(0) = 1 / H_5 = 1 / 2.2833 = 0.438; P(4) = 0.0876.
    expect(c[0] / 4000).toBeCloseTo(0.438, 1);
    expect(c[4] / 4000).toBeCloseTo(0.0876, 1);
  });

  it('a larger zipf_alpha skews harder; uniform spreads evenly', () => {
    const steep = counts(adapters(synthetic({ adapters: 5, zipf_alpha: 2 })), 5);
    // P(0) = 1 / (1 + 1/4 + 1/9 + 1/16 + 1/25) = 0.683.
    expect(steep[0] / 4000).toBeCloseTo(0.683, 1);
    const even = counts(adapters(synthetic({ adapters: 4, popularity: 'uniform' })), 4);
    for (const n of even) expect(n / 4000).toBeCloseTo(0.25, 1);
  });

  it('base_fraction sends that share to the base model; raising it keeps the other requests’ adapters', () => {
    const none = adapters(synthetic({ adapters: 8, base_fraction: 0 }));
    const some = adapters(synthetic({ adapters: 8, base_fraction: 0.3 }));
    const base = some.filter((a) => a === undefined).length / some.length;
    expect(base).toBeCloseTo(0.3, 1);
    expect(none.every((a) => a !== undefined)).toBe(true);
    some.forEach((a, i) => {
      if (a !== undefined) expect(a).toBe(none[i]);
    });
    expect(adapters(synthetic({ adapters: 3, base_fraction: 1 }), 1).every((a) => a === undefined)).toBe(true);
  });

  it('draws from a stream of its own: arrivals and lengths do not change; the same seed gives the same adapters', () => {
    const strip = (spec: WorkloadSpec) => drain(createRequestStream(spec, 5)).map((r) => [r.arrival_s, r.input_tokens, r.output_tokens]);
    expect(strip(synthetic({ adapters: 4 }))).toEqual(strip(synthetic(undefined)));
    expect(adapters(synthetic({ adapters: 4 }), 9)).toEqual(adapters(synthetic({ adapters: 4 }), 9));
    expect(adapters(synthetic({ adapters: 4 }), 9)).not.toEqual(adapters(synthetic({ adapters: 4 }), 10));
    // Without workload.lora a request carries no adapter key at all.
    expect(drain(createRequestStream(synthetic(undefined), 5)).every((r) => !('adapter' in r))).toBe(true);
  });

  it('a session keeps one adapter for all of its turns', () => {
    const spec = synthetic({ adapters: 6, popularity: 'uniform' }, { num_requests: 300, sessions: { turns: { dist: 'fixed', value: 3 }, think_time_s: 0 } });
    const stream = createRequestStream(spec, 2);
    const bySession = new Map<number, Set<number | undefined>>();
    // Release each session's next turn by finishing every request as it is yielded.
    for (let r = stream.next(), t = 0; r !== undefined || !stream.exhausted(); r = stream.next()) {
      if (r === undefined) break;
      const seen = bySession.get(r.session!) ?? new Set();
      seen.add(r.adapter);
      bySession.set(r.session!, seen);
      stream.onFinished(r.id, (t = Math.max(t, r.arrival_s)));
    }
    expect(bySession.size).toBeGreaterThan(10);
    for (const seen of bySession.values()) expect(seen.size).toBe(1);
  });

  it('is refused with a trace that names adapters in a column, and its keys are checked without the schema too', () => {
    const path = tempFile('a.csv', 'in,out,lora\n10,1,x\n');
    const trace = { path, format: 'csv' as const, columns: { input_tokens: 'in', output_tokens: 'out', adapter: 'lora' } };
    expect(errorOf(() => createRequestStream({ trace, lora: { adapters: 2 } }, 1)).message).toMatch(/^workload\.lora: draws adapters for requests whose trace names none; this trace names them in column "lora"/);
    expect(errorOf(() => createRequestStream(synthetic({ adapters: 2, popularity: 'uniform', zipf_alpha: 2 }), 1)).message).toBe(
      'workload.lora.zipf_alpha: is for popularity zipf; popularity is uniform, got 2',
    );
    expect(errorOf(() => createRequestStream(synthetic({ adapters: 1.5 }), 1)).message).toBe('workload.lora.adapters: must be an integer ≥ 1 and ≤ 1,000,000, got 1.5');
  });
});

describe('trace adapter column', () => {
  it('csv: names become ids in order of first appearance; an empty cell is the base model', () => {
    const path = tempFile('l.csv', 'in,out,lora\n10,1,sql\n20,1,\n30,1, chat \n40,1,sql\n50,1,chat\n');
    const spec: WorkloadSpec = { trace: { path, format: 'csv', columns: { input_tokens: 'in', output_tokens: 'out', adapter: 'lora' } } };
    const requests = drain(createRequestStream(spec, 1));
    expect(requests.map((r) => r.adapter)).toEqual([0, undefined, 1, 0, 1]);
    expect('adapter' in requests[1]).toBe(false);
    expect(createRequestStream(spec, 1).info.adapters).toBe(2);
    expect(loadTrace(spec.trace!).adapter_names).toEqual(['sql', 'chat']);
  });

  it('jsonl: an absent key or null is the base model; a non-string is a row error naming the column', () => {
    const rows = [{ in: 10, out: 1, a: 'x' }, { in: 20, out: 1 }, { in: 30, out: 1, a: null }, { in: 40, out: 1, a: 'y' }];
    const path = tempFile('l.jsonl', rows.map((r) => JSON.stringify(r)).join('\n'));
    const spec: WorkloadSpec = { trace: { path, format: 'jsonl', columns: { input_tokens: 'in', output_tokens: 'out', adapter: 'a' } } };
    expect(drain(createRequestStream(spec, 1)).map((r) => r.adapter)).toEqual([0, undefined, undefined, 1]);
    const bad = tempFile('b.jsonl', JSON.stringify({ in: 10, out: 1, a: 3 }));
    expect(errorOf(() => loadTrace({ ...spec.trace!, path: bad })).message).toBe('b.jsonl line 1: a must be a LoRA adapter name (a string; empty for the base model), got 3');
  });

  it('keeps each row’s adapter through the arrival sort and num_requests', () => {
    const path = tempFile('s.csv', 't,in,out,lora\n2,10,1,b\n0,20,1,a\n1,30,1,\n');
    const spec: WorkloadSpec = { trace: { path, format: 'csv', columns: { arrival: 't', input_tokens: 'in', output_tokens: 'out', adapter: 'lora' } }, num_requests: 2 };
    // Ids follow the file's order (b first), rows the arrival order.
    expect(drain(createRequestStream(spec, 1)).map((r) => [r.input_tokens, r.adapter])).toEqual([
      [20, 1],
      [30, undefined],
    ]);
  });

  it('a missing column is named; the named formats refuse one', () => {
    const path = tempFile('m.csv', 'in,out\n10,1\n');
    expect(errorOf(() => loadTrace({ path, format: 'csv', columns: { input_tokens: 'in', output_tokens: 'out', adapter: 'lora' } })).message).toMatch(
      /^workload\.trace\.columns\.adapter: column "lora" not found in m\.csv/,
    );
    expect(errorOf(() => loadTrace({ path, format: 'vidur', columns: { input_tokens: 'in', output_tokens: 'out', adapter: 'lora' } })).message).toMatch(
      /^workload\.trace\.columns\.adapter: only format csv, jsonl or arrow can name an adapter column/,
    );
  });
});
