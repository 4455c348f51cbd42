import { describe, expect, it } from 'vitest';
import { InfersimError } from '../../sim/errors.js';
import type { TraceSpec, WorkloadSpec } from '../../sim/scenario/types.js';
import { createRequestStream, loadTrace } from '../../sim/workload/index.js';
import { drain, errorOf, tempFile } from './helpers.js';

const labelled = (path: string, format: 'csv' | 'jsonl'): TraceSpec => ({
  path,
  format,
  columns: { input_tokens: 'in', output_tokens: 'out', arrival: 't', model: 'model', user: 'user' },
});

const labels = (spec: WorkloadSpec) => drain(createRequestStream(spec, 1)).map((r) => [r.input_tokens, r.model, r.user]);

describe('trace model and user columns', () => {
  it('csv: each request carries its row’s model; users are numbered in order of first appearance in the file', () => {
    const path = tempFile('m.csv', 't,in,out,model,user\n0,10,1,llama-8b,alice\n1,20,1, qwen-7b ,bob\n2,30,1,llama-8b,alice\n3,40,1,qwen-7b,7\n');
    expect(labels({ trace: labelled(path, 'csv') })).toEqual([
      [10, 'llama-8b', 0],
      [20, 'qwen-7b', 1], // spaces around a cell are not part of the name
      [30, 'llama-8b', 0],
      [40, 'qwen-7b', 2],
    ]);
  });

  it('jsonl: a user id may be a string or a number, and 7 and "7" are one user', () => {
    const rows = [
      { t: 0, in: 10, out: 1, model: 'a', user: 'u-9' },
      { t: 1, in: 20, out: 1, model: 'b', user: 7 },
      { t: 2, in: 30, out: 1, model: 'a', user: '7' },
      { t: 3, in: 40, out: 1, model: 'a', user: 'u-9' },
    ];
    const path = tempFile('m.jsonl', rows.map((r) => JSON.stringify(r)).join('\n'));
    expect(labels({ trace: labelled(path, 'jsonl') })).toEqual([
      [10, 'a', 0],
      [20, 'b', 1],
      [30, 'a', 1],
      [40, 'a', 0],
    ]);
  });

  it('labels follow their rows through the arrival sort and num_requests', () => {
    const path = tempFile('u.csv', 't,in,out,model,user\n5,10,1,a,x\n1,20,1,b,y\n3,30,1,c,z\n');
    // Ids are given in file order (x 0, y 1, z 2), before the sort.
    expect(labels({ trace: labelled(path, 'csv') })).toEqual([
      [20, 'b', 1],
      [30, 'c', 2],
      [10, 'a', 0],
    ]);
    expect(labels({ trace: labelled(path, 'csv'), num_requests: 2 })).toEqual([
      [20, 'b', 1],
      [30, 'c', 2],
    ]);
  });

  it('the table keeps model names once and a column of indices', () => {
    const path = tempFile('n.csv', 't,in,out,model,user\n0,1,1,a,x\n0,1,1,b,x\n0,1,1,a,y\n');
    const table = loadTrace(labelled(path, 'csv'));
    expect(table.model_names).toEqual(['a', 'b']);
    expect(Array.from(table.model!)).toEqual([0, 1, 0]);
    expect(Array.from(table.user!)).toEqual([0, 0, 1]);
  });

  it('only the columns named are read: a model column alone adds no user, and neither adds nothing', () => {
    const path = tempFile('o.csv', 'in,out,model,user\n10,1,a,x\n');
    const modelOnly = drain(createRequestStream({ trace: { path, format: 'csv', columns: { input_tokens: 'in', output_tokens: 'out', model: 'model' } } }, 1));
    expect(Object.keys(modelOnly[0])).toEqual(['id', 'arrival_s', 'input_tokens', 'output_tokens', 'model']);
    const plain = drain(createRequestStream({ trace: { path, format: 'csv', columns: { input_tokens: 'in', output_tokens: 'out' } } }, 1));
    expect(Object.keys(plain[0])).toEqual(['id', 'arrival_s', 'input_tokens', 'output_tokens']);
    expect(Object.keys(loadTrace({ path, format: 'csv', columns: { input_tokens: 'in', output_tokens: 'out' } }))).not.toContain('model');
  });
});

describe('trace model and user columns: errors', () => {
  const message = (spec: TraceSpec): string => {
    const error = errorOf(() => loadTrace(spec));
    expect(error).toBeInstanceOf(InfersimError);
    return error.message;
  };

  it('an empty model cell names the file, line and column', () => {
    const path = tempFile('e.csv', 't,in,out,model,user\n0,1,1,a,x\n1,1,1,,x\n');
    expect(message(labelled(path, 'csv'))).toBe('e.csv line 3: model must be a non-empty model name, got ""');
    const blank = tempFile('b.csv', 't,in,out,model,user\n0,1,1,  ,x\n');
    expect(message(labelled(blank, 'csv'))).toBe('b.csv line 2: model must be a non-empty model name, got "  "');
  });

  it('a csv row too short to reach the model column', () => {
    const path = tempFile('s.csv', 't,in,out,user,model\n0,1,1,x,a\n1,1,1,x\n');
    expect(message(labelled(path, 'csv'))).toBe('s.csv line 3: model must be a non-empty model name');
  });

  it('jsonl: a missing model key in a later row, and values of the wrong kind', () => {
    const gap = tempFile('g.jsonl', '{"t":0,"in":1,"out":1,"model":"a","user":1}\n\n{"t":1,"in":1,"out":1,"user":1}\n');
    expect(message(labelled(gap, 'jsonl'))).toBe('g.jsonl line 3: missing "model"');
    const nullModel = tempFile('n.jsonl', '{"t":0,"in":1,"out":1,"model":null,"user":1}\n');
    expect(message(labelled(nullModel, 'jsonl'))).toBe('n.jsonl line 1: model must be a non-empty model name, got null');
    const numberModel = tempFile('k.jsonl', '{"t":0,"in":1,"out":1,"model":3,"user":1}\n');
    expect(message(labelled(numberModel, 'jsonl'))).toBe('k.jsonl line 1: model must be a non-empty model name, got 3');
    const boolUser = tempFile('u.jsonl', '{"t":0,"in":1,"out":1,"model":"a","user":true}\n');
    expect(message(labelled(boolUser, 'jsonl'))).toBe('u.jsonl line 1: user must be a user id (a non-empty string or a number), got true');
  });

  it('an empty user cell', () => {
    const path = tempFile('v.csv', 't,in,out,model,user\n0,1,1,a,\n');
    expect(message(labelled(path, 'csv'))).toBe('v.csv line 2: user must be a user id (a non-empty string or a number), got ""');
  });

  it('a model or user column the file lacks names the mapping field', () => {
    const csv = tempFile('c.csv', 't,in,out,user\n0,1,1,x\n');
    expect(message(labelled(csv, 'csv'))).toBe('workload.trace.columns.model: column "model" not found in c.csv; columns present: "t", "in", "out", "user"');
    const jsonl = tempFile('j.jsonl', '{"t":0,"in":1,"out":1,"model":"a"}\n');
    expect(message(labelled(jsonl, 'jsonl'))).toBe('workload.trace.columns.user: column "user" not found in j.jsonl; columns present: "t", "in", "out", "model"');
  });

  it('a named format cannot carry model or user columns, whether or not the workload is validated first', () => {
    const path = tempFile('mc.jsonl', '{"timestamp":0,"input_length":5,"output_length":1,"hash_ids":[]}\n');
    const columns = { input_tokens: 'input_length', output_tokens: 'output_length', user: 'session' };
    const expected = 'workload.trace.columns.user: only format csv, jsonl or arrow can name a user column; format "mooncake" has fixed columns and no user, got "session"';
    expect(message({ path, format: 'mooncake', columns })).toBe(expected);
    expect(errorOf(() => createRequestStream({ trace: { path, format: 'mooncake', columns } }, 1)).message).toBe(expected);
    expect(message({ path, format: 'azure-2023', columns: { ...columns, model: 'm' } })).toMatch(/^workload\.trace\.columns\.model: only format csv, jsonl or arrow can name a model column; format "azure-2023"/);
  });
});
