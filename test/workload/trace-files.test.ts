import { describe, expect, it } from 'vitest';
import { InfersimError } from '../../sim/errors.js';
import type { TraceSpec } from '../../sim/scenario/types.js';
import { createRequestStream, loadTrace } from '../../sim/workload/index.js';
import { drain, errorOf, tempFile } from './helpers.js';

const AZURE_HEADER = 'TIMESTAMP,ContextTokens,GeneratedTokens';

function azureRows(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `2023-11-16 18:15:${String(10 + i).padStart(2, '0')}.0000000,${100 + i},${10 + i}`);
}

describe('trace files: errors', () => {
  it('names the file, its line number (header = line 1), the column and the bad value', () => {
    const rows = azureRows(15); // lines 2–16; the bad row is line 17
    rows.push('2023-11-16 18:15:59.0000000,100,abc');
    const path = tempFile('AzureLLMInferenceTrace_conv.csv', [AZURE_HEADER, ...rows].join('\r\n'));
    const error = errorOf(() => loadTrace({ path, format: 'azure-2023' }));
    expect(error).toBeInstanceOf(InfersimError);
    expect(error.message).toBe('AzureLLMInferenceTrace_conv.csv line 17: GeneratedTokens must be an integer from 0 to 2147483647 (token counts are stored as int32), got "abc"');
  });

  it('counts blank lines in line numbers', () => {
    const path = tempFile('t.csv', 'arrived_at,num_prefill_tokens,num_decode_tokens\n0,1,1\n\n1,-5,1\n');
    expect(errorOf(() => loadTrace({ path, format: 'vidur' })).message).toBe('t.csv line 4: num_prefill_tokens must be an integer from 1 to 2147483647 (token counts are stored as int32), got "-5"');
  });

  it('rejects a bad timestamp and a zero-token prompt', () => {
    const bad = tempFile('a.csv', `${AZURE_HEADER}\n2023-11-16 18:15:10.1,1,1\n2023-13-16 18:15:10.1,1,1\n`);
    expect(errorOf(() => loadTrace({ path: bad, format: 'azure-2023' })).message).toBe(
      'a.csv line 3: TIMESTAMP must be a date-time like "2023-11-16 18:15:46.6805900", got "2023-13-16 18:15:10.1"',
    );
    const zero = tempFile('z.csv', 'arrived_at,num_prefill_tokens,num_decode_tokens\n0,0,5\n');
    expect(errorOf(() => loadTrace({ path: zero, format: 'vidur' })).message).toBe(
      'z.csv line 2: num_prefill_tokens must be ≥ 1 (a request needs a prompt), got "0"',
    );
  });

  it('a missing column names it and lists the columns present', () => {
    const path = tempFile('m.csv', 'TIMESTAMP,Context,GeneratedTokens\n2023-11-16 18:15:10,1,1\n');
    const message = errorOf(() => loadTrace({ path, format: 'azure-2023' })).message;
    expect(message).toContain('column "ContextTokens" not found in m.csv');
    expect(message).toContain('columns present: "TIMESTAMP", "Context", "GeneratedTokens"');
  });

  it('a missing file', () => {
    const error = errorOf(() => loadTrace({ path: '/nonexistent/trace.csv', format: 'vidur' }));
    expect(error).toBeInstanceOf(InfersimError);
    expect(error.message).toBe('workload.trace.path: file not found: /nonexistent/trace.csv');
  });

  it('malformed JSONL and a row missing a key give line numbers', () => {
    const broken = tempFile('b.jsonl', '{"timestamp": 0, "input_length": 5, "output_length": 1, "hash_ids": []}\n{"timestamp": 1,\n');
    expect(errorOf(() => loadTrace({ path: broken, format: 'mooncake' })).message).toMatch(/^b\.jsonl line 2: invalid JSON/);
    const gap = tempFile('g.jsonl', '{"timestamp": 0, "input_length": 5, "output_length": 1, "hash_ids": []}\n\n{"timestamp": 1, "output_length": 1, "hash_ids": []}\n');
    expect(errorOf(() => loadTrace({ path: gap, format: 'mooncake' })).message).toBe('g.jsonl line 3: missing "input_length"');
    const ids = tempFile('h.jsonl', '{"timestamp": 0, "input_length": 5, "output_length": 1, "hash_ids": [1, "x"]}\n');
    expect(errorOf(() => loadTrace({ path: ids, format: 'mooncake' })).message).toBe('h.jsonl line 1: hash_ids must be an array of integers, got [1,"x"]');
  });

  it('generic formats need columns, and missing mapped columns name the mapping field', () => {
    const path = tempFile('g.csv', 'a,b\n1,2\n');
    expect(errorOf(() => loadTrace({ path, format: 'csv' })).message).toMatch(/^workload\.trace\.columns: required for format "csv"/);
    expect(errorOf(() => loadTrace({ path, format: 'csv', columns: { input_tokens: 'a', output_tokens: 'c' } })).message).toBe(
      'workload.trace.columns.output_tokens: column "c" not found in g.csv; columns present: "a", "b"',
    );
  });

  it('an unterminated quote is reported at the line where the record starts', () => {
    const path = tempFile('q.csv', 'in,out\n1,2\n"3,4\n5,6\n');
    expect(errorOf(() => loadTrace({ path, format: 'csv', columns: { input_tokens: 'in', output_tokens: 'out' } })).message).toBe(
      'q.csv line 3: unterminated quoted field',
    );
  });
});

describe('trace files: contents', () => {
  it('azure timestamps keep 7-digit fractions and are rebased to the earliest row, which sorting puts first', () => {
    const path = tempFile(
      'a.csv',
      [AZURE_HEADER, '2023-11-16 23:59:59.9999999,10,1', '2023-11-16 23:59:59.0000001,20,2', '2023-11-17 00:00:01.5000000,30,3'].join('\n'),
    );
    const t = loadTrace({ path, format: 'azure-2023' });
    expect(Array.from(t.input_tokens)).toEqual([20, 10, 30]);
    expect(t.arrival_s![0]).toBe(0);
    expect(t.arrival_s![1]).toBeCloseTo(0.9999998, 12);
    expect(t.arrival_s![2]).toBeCloseTo(2.4999999, 12);
  });

  it('sorts an unsorted trace stably and keeps the file’s time origin (non-Azure)', () => {
    const path = tempFile('v.csv', 'arrived_at,num_prefill_tokens,num_decode_tokens\n7,1,1\n5,2,1\n7,3,1\n5,4,1\n');
    const t = loadTrace({ path, format: 'vidur' });
    expect(Array.from(t.arrival_s!)).toEqual([5, 5, 7, 7]);
    expect(Array.from(t.input_tokens)).toEqual([2, 4, 1, 3]);
  });

  it('zero output tokens become 1 and are counted', () => {
    const path = tempFile('z.csv', 'arrived_at,num_prefill_tokens,num_decode_tokens\n0,5,0\n1,5,3\n2,5,0\n');
    const stream = createRequestStream({ trace: { path, format: 'vidur' } }, 1);
    expect(drain(stream).map((r) => r.output_tokens)).toEqual([1, 3, 1]);
    expect(stream.info.zero_output_rows).toBe(2);
  });

  it('speedup divides times; num_requests keeps the first N; duration_s keeps arrivals before it', () => {
    const path = tempFile('v.csv', 'arrived_at,num_prefill_tokens,num_decode_tokens\n0,1,1\n2,2,1\n4,3,1\n6,4,1\n');
    const trace: TraceSpec = { path, format: 'vidur', speedup: 2 };
    expect(drain(createRequestStream({ trace }, 1)).map((r) => r.arrival_s)).toEqual([0, 1, 2, 3]);
    expect(drain(createRequestStream({ trace, num_requests: 2 }, 1)).map((r) => r.input_tokens)).toEqual([1, 2]);
    expect(drain(createRequestStream({ trace, duration_s: 2 }, 1)).map((r) => r.input_tokens)).toEqual([1, 2]);
    expect(drain(createRequestStream({ trace, duration_s: 2, num_requests: 1 }, 1)).map((r) => r.input_tokens)).toEqual([1]);
  });

  it('generic CSV: quoted fields, CRLF, a BOM and arrival units', () => {
    const path = tempFile('g.csv', '\uFEFF"in","out",note,t_ms\r\n"12",3,"a, ""quoted""\nnote",1500\r\n4,5,x,2500\r\n');
    const columns = { input_tokens: 'in', output_tokens: 'out', arrival: 't_ms', arrival_unit: 'ms' } as const;
    const requests = drain(createRequestStream({ trace: { path, format: 'csv', columns } }, 1));
    expect(requests).toEqual([
      { id: 0, arrival_s: 1.5, input_tokens: 12, output_tokens: 3 },
      { id: 1, arrival_s: 2.5, input_tokens: 4, output_tokens: 5 },
    ]);
  });

  it('a quoted field spanning lines keeps later line numbers right', () => {
    const path = tempFile('g.csv', 'in,out,note\n1,2,"two\nlines"\n3,x,ok\n');
    expect(errorOf(() => loadTrace({ path, format: 'csv', columns: { input_tokens: 'in', output_tokens: 'out' } })).message).toBe(
      'g.csv line 4: out must be an integer from 0 to 2147483647 (token counts are stored as int32), got "x"',
    );
  });

  it('generic JSONL in microseconds; without an arrival column all arrive at t = 0', () => {
    const path = tempFile('g.jsonl', '{"at": 2000000, "p": 10, "d": 2}\n{"at": 1000000, "p": 20, "d": 4}\n');
    const timed = drain(createRequestStream({ trace: { path, format: 'jsonl', columns: { input_tokens: 'p', output_tokens: 'd', arrival: 'at', arrival_unit: 'us' } } }, 1));
    expect(timed.map((r) => [r.arrival_s, r.input_tokens])).toEqual([[1, 20], [2, 10]]);
    const untimed = drain(createRequestStream({ trace: { path, format: 'jsonl', columns: { input_tokens: 'p', output_tokens: 'd' } } }, 1));
    expect(untimed.map((r) => [r.arrival_s, r.input_tokens])).toEqual([[0, 10], [0, 20]]);
  });

  it('a trace without timestamps takes arrivals from workload.arrival', () => {
    const path = tempFile('s.csv', 'num_prefill_tokens,num_decode_tokens,num_total_tokens\n10,1,11\n20,2,22\n30,3,33\n');
    const requests = drain(createRequestStream({ trace: { path, format: 'vidur' }, arrival: { process: 'constant', rate_per_s: 4 } }, 1));
    expect(requests.map((r) => [r.arrival_s, r.input_tokens, r.output_tokens])).toEqual([[0, 10, 1], [0.25, 20, 2], [0.5, 30, 3]]);
  });

  it('workload.arrival replaces a trace’s own timestamps, and duration_s then bounds the generated times', () => {
    const path = tempFile('v.csv', 'arrived_at,num_prefill_tokens,num_decode_tokens\n0,1,1\n100,2,1\n200,3,1\n');
    const requests = drain(
      createRequestStream({ trace: { path, format: 'vidur' }, arrival: { process: 'constant', rate_per_s: 1 }, duration_s: 1.5 }, 1),
    );
    expect(requests.map((r) => [r.arrival_s, r.input_tokens])).toEqual([[0, 1], [1, 2]]);
  });

  it('mooncake: ms timestamps become seconds and hash_ids ride along', () => {
    const path = tempFile('m.jsonl', '{"timestamp": 0, "input_length": 1024, "output_length": 5, "hash_ids": [0, 1]}\n{"timestamp": 1500, "input_length": 600, "output_length": 0, "hash_ids": [0, 2]}\n');
    const requests = drain(createRequestStream({ trace: { path, format: 'mooncake' } }, 1));
    expect(requests).toEqual([
      { id: 0, arrival_s: 0, input_tokens: 1024, output_tokens: 5, hash_ids: [0, 1] },
      { id: 1, arrival_s: 1.5, input_tokens: 600, output_tokens: 1, hash_ids: [0, 2] },
    ]);
  });
});
