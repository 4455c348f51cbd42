import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { F64List } from '../../sim/metrics/f64list.js';
import { GapPool } from '../../sim/metrics/gapPool.js';
import { StepStamps } from '../../sim/metrics/stepStamps.js';
import { inMemory } from '../../sim/metrics/select.js';
import { MetricsSink } from '../../sim/metrics/sink.js';
import { SpillFile } from '../../sim/metrics/spill.js';
import { summarize } from '../../sim/metrics/stats.js';
import { outcome, tempDirs } from './helpers.js';

/** Type-7 percentile of a sorted copy, written out here rather than taken from the code under test. */
function type7(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  return lo === h ? sorted[lo] : sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]);
}

/** A deterministic spread of values with ties, negatives and a long tail. */
function values(n: number): number[] {
  let x = 12345;
  return Array.from({ length: n }, (_, i) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return i % 97 === 0 ? 0.25 : ((x / 2147483648) ** 3 * 40) - 1;
  });
}

/** The values of a list's chunks, spilled ones read back. */
const flat = (l: F64List): number[] => l.chunks().flatMap((c) => Array.from(inMemory(c) as Float64Array));

describe('SpillFile and a spilling F64List', () => {
  const tmp = tempDirs();

  /** A list spilling to a fresh file, holding `n` of `values`. */
  function spilledList(n: number): { spill: SpillFile; list: F64List; want: number[] } {
    const spill = new SpillFile(join(tmp(), 'samples.spill'));
    const list = new F64List(1024, undefined, spill);
    const want = values(n);
    for (const v of want) list.push(v);
    return { spill, list, want };
  }

  it('keeps every value in order across memory, the file and the current chunk', () => {
    const { spill, list, want } = spilledList(200_000);
    const chunks = list.chunks();
    expect(chunks.some((c) => 'spill' in c)).toBe(true);
    expect(flat(list)).toEqual(want);
    // In memory: chunks of 1 Ki … 16 Ki values, plus the 32 Ki one being filled; the rest is on disk.
    const inMemory = chunks.filter((c) => !('spill' in c)).reduce((n, c) => n + c.length, 0);
    expect(inMemory).toBeLessThanOrEqual(31_744 + 32_768);
    expect(statSync(spill.path).size).toBe((want.length - inMemory) * 8);
    spill.close();
    expect(existsSync(spill.path)).toBe(false);
  });

  it('gives the same statistics from spilled samples as from the values themselves', () => {
    const { spill, list, want } = spilledList(150_001);
    const s = summarize(list.samples());
    expect(s.count).toBe(want.length);
    expect(s.max).toBe(want.reduce((m, v) => (v > m ? v : m), -Infinity));
    for (const [p, got] of [[0.5, s.p50], [0.9, s.p90], [0.95, s.p95], [0.99, s.p99]] as const) expect(got).toBe(type7(want, p));
    // The mean sums in the list's order, so it is the same number as a plain loop's.
    let sum = 0;
    for (const v of want) sum += v;
    expect(s.mean).toBe(sum / want.length);
    spill.close();
  });

  it('clones share the spilled segments and copy the rest', () => {
    const { spill, list, want } = spilledList(70_000);
    const copy = list.clone();
    list.push(99);
    copy.push(-99);
    expect(flat(list)).toEqual([...want, 99]);
    expect(flat(copy)).toEqual([...want, -99]);
    spill.close();
  });

  it('names the file when it cannot be written', () => {
    const spill = new SpillFile(join(tmp(), 'no-such-folder', 'samples.spill'));
    expect(() => spill.write(new Float64Array(4), 4)).toThrow(/output\.dir.*no-such-folder.*samples\.spill/s);
  });
});

describe('MetricsSink with more samples than it keeps in memory', () => {
  const tmp = tempDirs();

  it('reports the same summary with an output folder (spilling) as without, and publishes no spill file', () => {
    const n = 140_000;
    const ttft = values(n).map((v) => Math.abs(v) + 0.001);
    const feed = (sink: MetricsSink) => {
      for (let i = 0; i < n; i++) {
        const arrival_s = i * 0.01;
        const t0 = arrival_s + ttft[i];
        sink.recordRequest(outcome({ request_id: i, replica: i % 2, priority: i % 3 === 0 ? 1 : 0, arrival_s, first_scheduled_s: arrival_s + ttft[i] / 2, token_times_s: [t0, t0 + 0.02 + (i % 7) * 0.001], finish_s: t0 + 0.02 + (i % 7) * 0.001 }));
      }
    };
    const opts = { writeTokens: false, replicas: 2, warmup_s: 0, slo: { ttft_ms: 500 } };
    const memory = new MetricsSink({ dir: undefined, ...opts });
    feed(memory);
    const dir = join(tmp(), 'out');
    const spilling = new MetricsSink({ dir, ...opts });
    feed(spilling);
    expect(readdirSync(`${dir}.tmp-${process.pid}`)).toContain('samples.spill');
    const ctx = { gpus: 2, usd_per_gpu_hour: 1 };
    const a = memory.finish(ctx);
    const b = spilling.finish(ctx);
    expect(b.overall).toEqual(a.overall);
    expect(b.per_replica).toEqual(a.per_replica);
    expect(b.per_priority).toEqual(a.per_priority);
    expect(b.per_priority.length).toBe(2);
    expect(b.overall.ttft_s.p99).toBe(type7(ttft, 0.99));
    expect(readdirSync(dir)).not.toContain('samples.spill');
    expect(existsSync(`${dir}.tmp-${process.pid}`)).toBe(false);
  });
});

describe('GapPool counts past the step window', () => {
  const tmp = tempDirs();

  /**
   * One replica's steps and requests, fed to a pool that keeps every step and to one that spills:
   * each request decodes through steps [first, last], recorded once its last step is stamped.
   */
  function feedBoth(steps: number, longEvery: number) {
    // longEvery: every so many steps a request runs 5,000 steps, past the 4,096-step window (0: never).
    const spill = new SpillFile(join(tmp(), 'samples.spill'));
    const [keep, spilling] = [new StepStamps(), new StepStamps(spill, 4096)];
    const pools = [new GapPool(keep), new GapPool(spilling)];
    const pending = new Map<number, number[]>();
    let x = 7;
    const rand = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
    let t = 0;
    const stamp: number[] = [];
    for (let s = 0; s < steps; s++) {
      t += 0.01 + Math.floor(rand() * 50) / 1000;
      stamp.push(t);
      keep.push(s, t);
      spilling.push(s, t);
      const length = longEvery > 0 && s % longEvery === longEvery - 1 ? 5_000 : 1 + Math.floor(rand() * 400);
      const end = s + length - 1;
      if (end < steps) pending.set(end, [...(pending.get(end) ?? []), s]);
      for (const first of pending.get(s) ?? []) {
        const times = stamp.slice(first, s + 1);
        const ids = times.map((_, k) => first + k);
        for (const p of pools) p.add(times, ids, times.length);
      }
      pending.delete(s);
    }
    return { pools, spill, spilling };
  }

  it('gives every statistic of the pool that keeps every step, to the bit', () => {
    const { pools, spill, spilling } = feedBoth(30_000, 0);
    expect(spilling.base).toBeGreaterThan(0);
    expect(summarize(pools[1].samples())).toEqual(summarize(pools[0].samples()));
    spill.close();
  });

  it('keeps a gap at a step that left the window as a value: percentiles to the bit, the mean summed in another order', () => {
    // Requests of 5,000 steps outlive the 2,048 steps kept after a slide.
    const { pools, spill } = feedBoth(30_000, 3_001);
    const [a, b] = [summarize(pools[0].samples()), summarize(pools[1].samples())];
    expect(b.count).toBe(a.count);
    expect({ ...b, mean: 0 }).toEqual({ ...a, mean: 0 });
    expect(b.mean).toBeCloseTo(a.mean as number, 12);
    spill.close();
  });
});

describe('MetricsSink whose replicas step past the window', () => {
  const tmp = tempDirs();

  /**
   * Two replicas stepping in turn; each request decodes through consecutive steps of its replica
   * (every ninth skips one, as after a preemption), recorded when its last token is stamped; a
   * second priority class appears only after several slides.
   */
  function feed(sink: MetricsSink, steps: number): void {
    let x = 11;
    const rand = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
    const stamps: number[][] = [[], []];
    const ending: Map<number, { first: number; skip: boolean; id: number }[]>[] = [new Map(), new Map()];
    let id = 0;
    let t = 0;
    for (let s = 0; s < steps; s++) {
      for (const r of [0, 1]) {
        t += 0.005 + Math.floor(rand() * 40) / 1000;
        stamps[r].push(t);
        sink.recordStepStamp(r, s, t);
        const end = s + Math.floor(rand() * 300);
        ending[r].set(end, [...(ending[r].get(end) ?? []), { first: s, skip: id % 9 === 0, id: id++ }]);
        for (const q of ending[r].get(s) ?? []) {
          const at = Array.from({ length: s - q.first + 1 }, (_, k) => q.first + k).filter((st, k) => !(q.skip && k === 1 && st < s));
          const times = at.map((st) => stamps[r][st]);
          const arrival_s = stamps[r][q.first] - 0.1;
          sink.recordRequest(outcome({ request_id: q.id, replica: r, priority: s > steps / 2 && q.id % 2 === 0 ? 1 : 0, arrival_s, first_scheduled_s: arrival_s + 0.05, token_times_s: times, token_steps: at, output_tokens: times.length, finish_s: times[times.length - 1] }));
        }
        ending[r].delete(s);
      }
    }
  }

  it('summarizes as a sink that keeps every step in memory, to the bit', () => {
    const opts = { writeTokens: false, replicas: 2, warmup_s: 0, slo: { ttft_ms: 500 } };
    const memory = new MetricsSink({ dir: undefined, ...opts });
    const dir = join(tmp(), 'out');
    const spilling = new MetricsSink({ dir, ...opts, stepWindow: 1024 });
    feed(memory, 8_000);
    feed(spilling, 8_000);
    expect(statSync(join(`${dir}.tmp-${process.pid}`, 'samples.spill')).size).toBeGreaterThan(0);
    const ctx = { gpus: 2, usd_per_gpu_hour: 1 };
    const [a, b] = [memory.finish(ctx), spilling.finish(ctx)];
    expect(a.overall.itl_s.count).toBeGreaterThan(500_000);
    expect(b.overall).toEqual(a.overall);
    expect(b.per_replica).toEqual(a.per_replica);
    expect(b.per_priority.map((p) => p.priority)).toEqual([0, 1]);
    expect(b.per_priority).toEqual(a.per_priority);
  });

  it('removes a written spill file with the rest when aborted', () => {
    const dir = join(tmp(), 'out');
    const sink = new MetricsSink({ dir, writeTokens: false, replicas: 2, warmup_s: 0, slo: {}, stepWindow: 1024 });
    feed(sink, 3_000);
    expect(existsSync(join(`${dir}.tmp-${process.pid}`, 'samples.spill'))).toBe(true);
    sink.abort();
    expect(existsSync(`${dir}.tmp-${process.pid}`)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });
});
