import { forEachBatch } from './arrowRead.js';
import { MinMaxDecimator, TimeBins } from './decimate.js';
import { rounded, type LineChart } from './model.js';

/** Lines per chart at most: with more replicas the first ones are drawn and the note says so. */
export const MAX_REPLICA_LINES = 16;
const BINS = 500;

interface PerReplica {
  waiting: MinMaxDecimator;
  running: MinMaxDecimator;
  kv: MinMaxDecimator;
}

export interface IterationFigures {
  steps: number;
  replicas: number[];
  charts: LineChart[];
  preemptionChart: LineChart;
  preempted: number;
}

/** Streams iterations.arrow once: per-replica level series (decimated) and cluster-wide rates (binned). */
export function readIterations(path: string, makespan: number, maxPoints: number): IterationFigures {
  const per = new Map<number, PerReplica>();
  const prefill = new TimeBins(0, makespan, BINS);
  const decode = new TimeBins(0, makespan, BINS);
  const preempt = new TimeBins(0, makespan, BINS);
  let steps = 0;
  let preempted = 0;
  const series = (r: number): PerReplica | undefined => {
    if (!per.has(r) && per.size >= MAX_REPLICA_LINES) return undefined;
    if (!per.has(r)) per.set(r, { waiting: new MinMaxDecimator(0, makespan, maxPoints), running: new MinMaxDecimator(0, makespan, maxPoints), kv: new MinMaxDecimator(0, makespan, maxPoints) });
    return per.get(r);
  };
  const seen = new Set<number>();
  forEachBatch('report', path, (b) => {
    const [replica, start, end, pt, dt, used, total, waiting, running, pre] = ['replica', 'start_s', 'end_s', 'prefill_tokens', 'decode_tokens', 'kv_blocks_used', 'kv_blocks_total', 'waiting', 'running', 'preempted'].map((c) => b.num(c)) as Float64Array[];
    for (let i = 0; i < b.length; i++) {
      steps++;
      const t = start![i]!;
      prefill.add(end![i]!, pt![i]!);
      decode.add(end![i]!, dt![i]!);
      preempt.add(t, pre![i]!);
      preempted += pre![i]!;
      seen.add(replica![i]!);
      const s = series(replica![i]!);
      if (s === undefined) continue;
      s.waiting.push(t, waiting![i]!);
      s.running.push(t, running![i]!);
      s.kv.push(t, total![i]! > 0 ? (100 * used![i]!) / total![i]! : NaN);
    }
  });
  const replicas = [...seen].sort((a, b) => a - b);
  return { steps, replicas, charts: levelCharts(per, replicas.length, prefill, decode), preemptionChart: preemptionChart(preempt), preempted };
}

function levelCharts(per: Map<number, PerReplica>, replicas: number, prefill: TimeBins, decode: TimeBins): LineChart[] {
  const ids = [...per.keys()].sort((a, b) => a - b);
  const cut = replicas > ids.length ? `; the first ${ids.length} of ${replicas} replicas drawn` : '';
  const lines = (key: keyof PerReplica) => ids.map((r) => rounded(`replica ${r}`, per.get(r)![key].result()));
  const minmax = `per step, decimated: each time bucket keeps its lowest and highest value${cut}`;
  return [
    {
      type: 'line',
      id: 'throughput',
      title: 'Throughput over time (all replicas)',
      x: 'time (s)',
      y: 'tokens/s',
      series: [rounded('prefill tokens/s', prefill.rates()), rounded('decode tokens/s', decode.rates())],
      note: `tokens computed per step, summed in ${BINS} time bins by step end`,
    },
    { type: 'line', id: 'waiting', title: 'Queue length (waiting sequences)', x: 'time (s)', y: 'sequences', series: lines('waiting'), note: minmax },
    { type: 'line', id: 'running', title: 'Running batch', x: 'time (s)', y: 'sequences', series: lines('running'), note: minmax },
    { type: 'line', id: 'kv', title: 'KV-cache use', x: 'time (s)', y: '% of GPU blocks', series: lines('kv'), note: minmax },
  ];
}

function preemptionChart(preempt: TimeBins): LineChart {
  return {
    type: 'line',
    id: 'preemptions',
    title: 'Preemptions over time',
    x: 'time (s)',
    y: 'sequences preempted /s',
    series: [rounded('preempted /s', preempt.rates())],
    note: `summed in ${BINS} time bins`,
  };
}
