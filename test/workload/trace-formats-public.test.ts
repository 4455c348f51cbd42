import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { createRequestStream, loadTrace } from '../../sim/workload/index.js';
import { openAzure2024 } from '../../sim/workload/trace-stream.js';
import { parseScenarioObject } from '../../sim/setup/load.js';
import { TRACES, drain, errorOf, tempFile } from './helpers.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/traces');

describe('format burstgpt', () => {
  // The head of HPMLL/BurstGPT data/BurstGPT_1.csv (release v1.1), quoted: see test/fixtures/traces/README.md.
  const head = path.join(FIXTURES, 'burstgpt_1_head.csv');

  it('reads the published head: seconds from the first day, Request/Response tokens', () => {
    const requests = drain(createRequestStream({ trace: { path: head, format: 'burstgpt' } }, 1));
    expect(requests.map((r) => [r.arrival_s, r.input_tokens, r.output_tokens])).toEqual([
      [5, 472, 18],
      [45, 1087, 230],
      [118, 417, 276],
    ]);
    // Without a models map the Model column is ignored: every request is for the scenario's model.
    expect(requests.every((r) => r.model === undefined)).toBe(true);
  });

  it('maps Model to the scenario’s models and filters on Log Type', () => {
    const models = { ChatGPT: 'llama-3.1-8b', 'GPT-4': 'llama-3.1-70b' };
    const stream = createRequestStream({ trace: { path: head, format: 'burstgpt', burstgpt: { models } } }, 1);
    expect(drain(stream).map((r) => r.model)).toEqual(['llama-3.1-8b', 'llama-3.1-8b', 'llama-3.1-70b']);
    expect(stream.info.models).toEqual(['llama-3.1-8b', 'llama-3.1-70b']);
    const err = errorOf(() => loadTrace({ path: head, format: 'burstgpt', burstgpt: { models: { ChatGPT: 'llama-3.1-8b' } } }));
    expect(err.message).toBe('burstgpt_1_head.csv line 4: Model "GPT-4" is not mapped by workload.trace.burstgpt.models (maps "ChatGPT")');
  });

  // A constructed file (not published rows): failures and API rows next to conversation rows.
  const mixed = (): string =>
    tempFile(
      'burst.csv',
      'Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n' +
        '5,ChatGPT,472,18,490,Conversation log\n' +
        '7,ChatGPT,300,0,300,Conversation log\n' +
        '9,GPT-4,120,40,160,API log\n' +
        '11,GPT-4,800,0,800,API log\n',
    );

  it('drops failed rows (Response tokens 0) by default and counts them; failed: keep replays them with one token', () => {
    const file = mixed();
    const dropped = createRequestStream({ trace: { path: file, format: 'burstgpt' } }, 1);
    expect(drain(dropped).map((r) => r.arrival_s)).toEqual([5, 9]);
    expect(dropped.info).toMatchObject({ dropped_rows: 2, zero_output_rows: 0, max_requests: 2 });
    const kept = createRequestStream({ trace: { path: file, format: 'burstgpt', burstgpt: { failed: 'keep' } } }, 1);
    expect(drain(kept).map((r) => r.output_tokens)).toEqual([18, 1, 40, 1]);
    expect(kept.info).toMatchObject({ dropped_rows: 0, zero_output_rows: 2 });
  });

  it('log_type keeps one kind of row', () => {
    const file = mixed();
    expect(drain(createRequestStream({ trace: { path: file, format: 'burstgpt', burstgpt: { log_type: 'api' } } }, 1)).map((r) => r.arrival_s)).toEqual([9]);
    const keepAll = { path: file, format: 'burstgpt' as const, burstgpt: { log_type: 'conversation' as const, failed: 'keep' as const } };
    expect(drain(createRequestStream({ trace: keepAll }, 1)).map((r) => r.arrival_s)).toEqual([5, 7]);
  });

  it('a bad row names the file, line and column in one line', () => {
    const file = tempFile('BurstGPT_1.csv', 'Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n5,ChatGPT,472,18,490,Conversation log\nsoon,ChatGPT,1,2,3,API log\n');
    expect(errorOf(() => loadTrace({ path: file, format: 'burstgpt' })).message).toBe(
      'BurstGPT_1.csv line 3: Timestamp must be a non-negative number of seconds, got "soon"',
    );
    const tokens = tempFile('BurstGPT_1.csv', 'Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n5,ChatGPT,4x2,18,490,Conversation log\n');
    expect(errorOf(() => loadTrace({ path: tokens, format: 'burstgpt' })).message).toMatch(/^BurstGPT_1\.csv line 2: Request tokens must be an integer/);
    const missing = tempFile('b.csv', 'Timestamp,Model,Request tokens,Response tokens\n5,ChatGPT,1,2\n');
    expect(errorOf(() => loadTrace({ path: missing, format: 'burstgpt', burstgpt: { log_type: 'api' } })).message).toMatch(/column "Log Type" not found in b\.csv/);
  });

  it('the scenario schema takes workload.trace.burstgpt and refuses it with another format', () => {
    const base = { model: 'llama-3.1-8b', hardware: { gpu: 'h100-sxm' } };
    const ok = { ...base, workload: { trace: { path: head, format: 'burstgpt', burstgpt: { failed: 'keep', log_type: 'api', models: { 'GPT-4': 'llama-3.1-8b' } } } } };
    expect(() => parseScenarioObject(ok)).not.toThrow();
    const bad = { ...base, workload: { trace: { path: head, format: 'burstgpt', burstgpt: { failed: 'sometimes' } } } };
    expect(errorOf(() => parseScenarioObject(bad)).message).toMatch(/workload\.trace\.burstgpt\.failed/);
    expect(errorOf(() => createRequestStream({ trace: { path: head, format: 'csv', burstgpt: {} } as never }, 1)).message).toBe(
      'workload.trace.burstgpt: only used with format burstgpt, not "csv"',
    );
  });
});

describe('format splitwise (splitwise-sim traces)', () => {
  // Mutinifni/splitwise-sim traces/test_trace.csv @ 378088013a54df6f2052c27ff5ae6ea7619c3ecc, whole file.
  const file = path.join(FIXTURES, 'splitwise_test_trace.csv');

  it('reads arrival_timestamp (s), prompt_size, token_size', () => {
    const requests = drain(createRequestStream({ trace: { path: file, format: 'splitwise' } }, 1));
    expect(requests.map((r) => [r.arrival_s, r.input_tokens, r.output_tokens])).toEqual([
      [1, 4096, 32],
      [3, 2048, 8],
      [4, 2048, 16],
    ]);
  });

  it('refuses a row standing for several requests, and bad cells, with file:line', () => {
    const batch = tempFile('t.csv', 'request_id,request_type,application_id,arrival_timestamp,batch_size,prompt_size,token_size\n0,2,0,1,4,4096,32\n');
    expect(errorOf(() => loadTrace({ path: batch, format: 'splitwise' })).message).toBe('t.csv line 2: batch_size must be 1 (infersim replays one request per row), got "4"');
    const bad = tempFile('t.csv', 'request_id,request_type,application_id,arrival_timestamp,batch_size,prompt_size,token_size\n0,2,0,1,1,4096,32\n1,2,0,-3,1,2048,8\n');
    expect(errorOf(() => loadTrace({ path: bad, format: 'splitwise' })).message).toBe('t.csv line 3: arrival_timestamp must be a non-negative number of seconds, got "-3"');
  });
});

describe('format azure-2024 (streamed)', () => {
  // The first data row of AzureLLMInferenceTrace_code_1week.csv as a public script quotes it
  // (`2024-05-10 00:00:00.009930+00:00,2162,5`) and the file's last timestamp as a public notebook
  // printed it (`2024-05-16 23:59:59.929501+00:00`, 16,803,695 rows). The middle rows are constructed.
  const header = 'TIMESTAMP,ContextTokens,GeneratedTokens\n';
  const week = header + '2024-05-10 00:00:00.009930+00:00,2162,5\n2024-05-10 00:00:01+00:00,300,0\n2024-05-16 23:59:59.929501+00:00,812,17\n';

  it('reads offsets and mixed fraction widths, rebased to the first row', () => {
    const file = tempFile('AzureLLMInferenceTrace_code_1week.csv', week);
    const stream = createRequestStream({ trace: { path: file, format: 'azure-2024' } }, 1);
    const requests = drain(stream);
    expect(requests.map((r) => [r.input_tokens, r.output_tokens])).toEqual([
      [2162, 5],
      [300, 1],
      [812, 17],
    ]);
    expect(requests[0].arrival_s).toBe(0);
    expect(requests[1].arrival_s).toBeCloseTo(0.99007, 9);
    expect(requests[2].arrival_s).toBeCloseTo(7 * 86400 - 0.009930 - 0.070499, 6);
    expect(stream.info.zero_output_rows).toBe(1);
    expect(stream.exhausted()).toBe(true);
  });

  it('num_requests, duration_s, speedup and a replacing arrival process work on the stream', () => {
    const file = tempFile('w.csv', week);
    expect(drain(createRequestStream({ trace: { path: file, format: 'azure-2024' }, num_requests: 2 }, 1))).toHaveLength(2);
    expect(drain(createRequestStream({ trace: { path: file, format: 'azure-2024' }, duration_s: 3600 }, 1))).toHaveLength(2);
    const fast = drain(createRequestStream({ trace: { path: file, format: 'azure-2024', speedup: 2 } }, 1));
    expect(fast[1].arrival_s).toBeCloseTo(0.99007 / 2, 9);
    const poisson = drain(createRequestStream({ trace: { path: file, format: 'azure-2024' }, arrival: { process: 'constant', rate_per_s: 10 } }, 1));
    expect(poisson.map((r) => [r.arrival_s, r.input_tokens])).toEqual([
      [0, 2162],
      [0.1, 300],
      [0.2, 812],
    ]);
    expect(loadTrace({ path: file, format: 'azure-2024' }, { num_requests: 2 }).input_tokens).toEqual(new Int32Array([2162, 300]));
  });

  it('refuses an out-of-order row with file:line, and closed loops (length unknown until read)', () => {
    const file = tempFile('c.csv', header + '2024-05-10 00:00:05.000000+00:00,10,1\n2024-05-10 00:00:04.500000+00:00,10,1\n');
    const stream = createRequestStream({ trace: { path: file, format: 'azure-2024' } }, 1);
    expect(errorOf(() => drain(stream)).message).toBe(
      'c.csv line 3: TIMESTAMP "2024-05-10 00:00:04.500000+00:00" is earlier than line 2\'s "2024-05-10 00:00:05.000000+00:00": format azure-2024 streams the file and needs its rows in time order (sort the rows after the header, or use format azure-2023, which sorts in memory)',
    );
    expect(errorOf(() => createRequestStream({ trace: { path: file, format: 'azure-2024' }, concurrency: 4 }, 1)).message).toMatch(/^workload\.concurrency: cannot be combined with format azure-2024/);
    const bad = tempFile('d.csv', header + '2024-05-10 00:00:05.000000+00:00,10,1\n2024-05-10 00:00:06.000000+00:00,ten,1\n');
    expect(errorOf(() => drain(createRequestStream({ trace: { path: bad, format: 'azure-2024' } }, 1))).message).toBe(
      'd.csv line 3: ContextTokens must be an integer from 1 to 2147483647 (token counts are stored as int32), got "ten"',
    );
  });

  it('reads incrementally: the first request comes after one chunk, and the rows held never exceed a chunk’s', () => {
    // 200,000 rows (~9 MB) read in 64 KiB chunks.
    const rows = 200_000;
    const lines: string[] = [header.trimEnd()];
    for (let i = 0; i < rows; i++) {
      const s = i % 60;
      const m = Math.floor(i / 60) % 60;
      const h = Math.floor(i / 3600);
      lines.push(`2024-05-${String(10 + Math.floor(h / 24)).padStart(2, '0')} ${String(h % 24).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(i % 1e6).padStart(6, '0')}+00:00,${100 + (i % 900)},${1 + (i % 50)}`);
    }
    const file = tempFile('big_1week.csv', lines.join('\n') + '\n');
    const chunk = 64 * 1024;
    const probes: { bytes_read: number; buffered_lines: number }[] = [];
    const stream = openAzure2024({ path: file, format: 'azure-2024' }, { chunkBytes: chunk, onRead: (p) => probes.push(p) });
    const first = stream.next();
    expect(first).toMatchObject({ line: 2, arrival_s: 0, input_tokens: 100, output_tokens: 1 });
    expect(probes).toHaveLength(1);
    expect(probes[0].bytes_read).toBe(chunk);
    let n = 1;
    let last = first!;
    for (let row = stream.next(); row !== undefined; row = stream.next()) {
      n++;
      last = row;
    }
    expect(n).toBe(rows);
    expect(last.line).toBe(rows + 1);
    // A chunk plus the partial line before it holds at most chunk / (shortest line + newline) + 1 complete lines.
    const shortest = lines.slice(1).reduce((min, l) => Math.min(min, l.length + 1), Infinity);
    const bound = Math.ceil(chunk / shortest) + 1;
    expect(Math.max(...probes.map((p) => p.buffered_lines))).toBeLessThanOrEqual(bound);
    expect(probes.length).toBeGreaterThan(100);
  });
});

describe('format arrow', () => {
  it('reads a table with arrival_s, input_tokens, output_tokens (int32, int64 or whole floats) and sorts it', () => {
    const table = tableFromArrays({
      arrival_s: new Float64Array([0.5, 0.25, 1]),
      input_tokens: new BigInt64Array([100n, 200n, 300n]),
      output_tokens: new Float64Array([10, 20, 30]),
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'infersim-arrow-'));
    const file = path.join(dir, 'mine.arrow');
    writeFileSync(file, tableToIPC(table, 'file'));
    const requests = drain(createRequestStream({ trace: { path: file, format: 'arrow' } }, 1));
    expect(requests.map((r) => [r.arrival_s, r.input_tokens, r.output_tokens])).toEqual([
      [0.25, 200, 20],
      [0.5, 100, 10],
      [1, 300, 30],
    ]);
    const renamed = tableFromArrays({ t_ms: new Float64Array([250]), p: new Int32Array([7]), o: new Int32Array([3]) });
    const other = path.join(dir, 'other.arrow');
    writeFileSync(other, tableToIPC(renamed, 'stream'));
    const spec = { path: other, format: 'arrow' as const, columns: { arrival: 't_ms', arrival_unit: 'ms' as const, input_tokens: 'p', output_tokens: 'o' } };
    expect(drain(createRequestStream({ trace: spec }, 1))[0]).toMatchObject({ arrival_s: 0.25, input_tokens: 7, output_tokens: 3 });
  });

  it('a bad cell names the file, row and column in one line; a missing column lists the present ones', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'infersim-arrow-'));
    const file = path.join(dir, 'requests.arrow');
    writeFileSync(file, tableToIPC(tableFromArrays({ arrival_s: new Float64Array([0, 1]), input_tokens: new Float64Array([10, 2.5]), output_tokens: new Int32Array([1, 1]) }), 'file'));
    expect(errorOf(() => loadTrace({ path: file, format: 'arrow' })).message).toBe(
      'requests.arrow row 2: input_tokens must be an integer from 1 to 2147483647 (token counts are stored as int32), got 2.5',
    );
    const noOutput = path.join(dir, 'x.arrow');
    writeFileSync(noOutput, tableToIPC(tableFromArrays({ arrival_s: new Float64Array([0]), input_tokens: new Int32Array([1]) }), 'file'));
    expect(errorOf(() => loadTrace({ path: noOutput, format: 'arrow' })).message).toBe(
      'workload.trace.path (format arrow): column "output_tokens" not found in x.arrow; columns present: "arrival_s", "input_tokens"',
    );
    const text = tempFile('trace.arrow', 'TIMESTAMP,ContextTokens,GeneratedTokens\n');
    expect(errorOf(() => loadTrace({ path: text, format: 'arrow' })).message).toMatch(/^workload\.trace\.path: not an Arrow IPC file/);
  });

  const AZURE_CONV = path.join(TRACES, 'AzureLLMInferenceTrace_conv.csv');
  it.skipIf(!existsSync(AZURE_CONV))('the Azure conversation trace (../shared) written as Arrow reads back identical', () => {
    const azure = loadTrace({ path: AZURE_CONV, format: 'azure-2023' });
    const dir = mkdtempSync(path.join(tmpdir(), 'infersim-arrow-'));
    const file = path.join(dir, 'conv.arrow');
    writeFileSync(file, tableToIPC(tableFromArrays({ arrival_s: azure.arrival_s!, input_tokens: azure.input_tokens, output_tokens: azure.output_tokens }), 'file'));
    const back = loadTrace({ path: file, format: 'arrow' });
    expect(back.length).toBe(19_366);
    expect(back.arrival_s).toEqual(azure.arrival_s);
    expect(back.input_tokens).toEqual(azure.input_tokens);
    expect(back.output_tokens).toEqual(azure.output_tokens);
  });
});

const AZURE_CODE = path.join(TRACES, 'AzureLLMInferenceTrace_code.csv');
describe.skipIf(!existsSync(AZURE_CODE))('the streamed reader on real Azure rows (../shared; 2024 has the same columns)', () => {
  it('streams the whole 2023 code trace (sorted, no UTC offset) to the same requests as azure-2023 reads in memory', () => {
    const azure = loadTrace({ path: AZURE_CODE, format: 'azure-2023' });
    const streamed = drain(createRequestStream({ trace: { path: AZURE_CODE, format: 'azure-2024' } }, 1));
    expect(streamed).toHaveLength(8_819);
    expect(Int32Array.from(streamed, (r) => r.input_tokens)).toEqual(azure.input_tokens);
    expect(Int32Array.from(streamed, (r) => r.output_tokens)).toEqual(azure.output_tokens);
    let worst_s = 0;
    streamed.forEach((r, i) => (worst_s = Math.max(worst_s, Math.abs(r.arrival_s - azure.arrival_s![i]))));
    expect(worst_s).toBeLessThan(1e-9);
  });
});
