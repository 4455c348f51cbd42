import { describe, expect, it } from 'vitest';
import { combineGrid, expandGrid, keyKind, parseListFlag } from '../../sim/sweep/grid.js';
import { paretoFront } from '../../sim/sweep/report.js';
import { parseShard, shardIndices } from '../../sim/sweep/run.js';
import type { PointRecord } from '../../sim/sweep/record.js';

describe('sweep grid', () => {
  it('parses values as --set does, splitting only top-level commas', () => {
    expect(parseListFlag('--grid', 'engine.max_num_seqs=8,16, 32').values).toEqual([8, 16, 32]);
    expect(parseListFlag('--grid', 'a.b=true,"8",x,0.5,null').values).toEqual([true, '8', 'x', 0.5, null]);
    expect(parseListFlag('--grid', 'a.b=[1,2],{x: 1, y: 2},"p,q"').values).toEqual([[1, 2], { x: 1, y: 2 }, 'p,q']);
    expect(() => parseListFlag('--grid', 'a.b=1,,2')).toThrow(/--grid a\.b: .*none empty/);
    expect(() => parseListFlag('--zip', 'a.b=[1')).toThrow(/^--zip a\.b: value is not valid YAML/);
    expect(() => parseListFlag('--grid', 'output.dir=a,b')).toThrow(/output\.\* cannot be swept/);
  });

  it('orders points: zipped lists first (together), then grid keys, the last fastest; flags override the file', () => {
    const grid = combineGrid(
      { grid: { 'engine.block_size': [16, 32], seed: [1, 2] }, zip: { 'hardware.gpu': ['h100-sxm', 'l4'], 'cost.usd_per_gpu_hour': [2, 1] } },
      [parseListFlag('--grid', 'seed=5'), parseListFlag('--grid', 'engine.max_num_seqs=8,16')],
      [],
    );
    expect(grid.keys).toEqual(['hardware.gpu', 'cost.usd_per_gpu_hour', 'engine.block_size', 'seed', 'engine.max_num_seqs']);
    const points = expandGrid(grid);
    expect(points).toHaveLength(8);
    expect(points.slice(0, 3)).toEqual([
      ['h100-sxm', 2, 16, 5, 8],
      ['h100-sxm', 2, 16, 5, 16],
      ['h100-sxm', 2, 32, 5, 8],
    ]);
    expect(points[4]).toEqual(['l4', 1, 16, 5, 8]);
    expect(() => combineGrid(undefined, [], [parseListFlag('--zip', 'a=1,2'), parseListFlag('--zip', 'b=1')])).toThrow(/equal lengths: a has 2, b has 1/);
    expect(() => combineGrid(undefined, [parseListFlag('--grid', 'a=1')], [parseListFlag('--zip', 'a=1')])).toThrow(/given twice/);
    expect(() => combineGrid(undefined, [], [])).toThrow(/nothing to sweep/);
  });

  it('types columns from all planned values', () => {
    expect(keyKind([8, 16, null])).toBe('int64');
    expect(keyKind([8, 0.5])).toBe('float64');
    expect(keyKind([true, false])).toBe('bool');
    expect(keyKind(['a', 1])).toBe('utf8');
    expect(keyKind([[1, 2]])).toBe('utf8');
  });

  it('shards take index % N == K − 1', () => {
    expect(shardIndices(7, parseShard('2/3'))).toEqual([1, 4]);
    expect(shardIndices(3, null)).toEqual([0, 1, 2]);
    expect(() => parseShard('3')).toThrow(/--shard: expected K\/N/);
  });

  it('the Pareto front keeps the non-dominated points (throughput up, latency down)', () => {
    const rec = (index: number, x: number | null, y: number | null): PointRecord => ({
      plan: 'p',
      index,
      values: [],
      status: x === null ? 'failed' : 'ok',
      error: null,
      metrics: x === null ? null : ({ output_tokens_per_s: x, ttft_p99_s: y } as PointRecord['metrics']),
      max_rate: null,
      wall_s: 0,
    });
    const front = paretoFront([rec(0, 100, 1), rec(1, 200, 2), rec(2, 150, 3), rec(3, 200, 1.5), rec(4, null, null), rec(5, 50, 0.5)], 'ttft_p99_s');
    expect(front.map((r) => r.index)).toEqual([5, 0, 3]);
  });
});
