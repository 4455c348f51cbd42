import { cdfPoints } from './cdf.js';
import { forEachBatch } from './arrowRead.js';
import { MinMaxDecimator, TimeBins, type XY } from './decimate.js';
import { rounded, type LineChart } from './model.js';

/** What the report takes from requests.arrow: every latency (for CDFs) and per-time figures. */
export interface RequestFigures {
  requests: number;
  latencies: { ttft: number[]; tpot: number[]; itl: number[]; e2e: number[] };
  ttftByArrival: XY;
  e2eByArrival: XY;
  completions: XY;
  prefixHitRate: XY;
  cachedTokens: number;
}

const BINS = 500;

/**
 * Streams requests.arrow once. Mirrored copies (`shadow`) are left out, as the summary leaves them
 * out of client metrics; rejected and unfinished requests have null latencies and drop out of the
 * CDFs by themselves.
 */
export function readRequests(path: string, makespan: number, maxPoints: number): RequestFigures {
  const lat = { ttft: [] as number[], tpot: [] as number[], itl: [] as number[], e2e: [] as number[] };
  const ttftArr = new MinMaxDecimator(0, makespan, maxPoints);
  const e2eArr = new MinMaxDecimator(0, makespan, maxPoints);
  const done = new TimeBins(0, makespan, BINS);
  const cached = new TimeBins(0, makespan, BINS);
  const input = new TimeBins(0, makespan, BINS);
  let requests = 0;
  let cachedTokens = 0;
  forEachBatch('report', path, (b) => {
    const [arrival, ttft, tpot, itl, e2e, finish] = ['arrival_s', 'ttft_s', 'tpot_s', 'itl_mean_s', 'e2e_s', 'finish_s'].map((c) => b.num(c)) as Float64Array[];
    const [cachedCol, inputCol] = [b.num('cached_tokens'), b.num('input_tokens')];
    const shadow = b.flag('shadow');
    for (let i = 0; i < b.length; i++) {
      if (shadow !== undefined && shadow[i] === 1) continue;
      requests++;
      const t = arrival![i]!;
      for (const [list, col] of [[lat.ttft, ttft], [lat.tpot, tpot], [lat.itl, itl], [lat.e2e, e2e]] as const) if (Number.isFinite(col![i])) list.push(col![i]!);
      ttftArr.push(t, ttft![i]!);
      e2eArr.push(t, e2e![i]!);
      if (Number.isFinite(e2e![i])) done.add(finish![i]!, 1);
      cached.add(t, cachedCol[i]!);
      input.add(t, inputCol[i]!);
      cachedTokens += cachedCol[i]!;
    }
  });
  return {
    requests,
    latencies: lat,
    ttftByArrival: ttftArr.result(),
    e2eByArrival: e2eArr.result(),
    completions: done.rates(),
    prefixHitRate: cached.ratio(input),
    cachedTokens,
  };
}

const METRICS = [
  ['ttft', 'TTFT', 'time to first token'],
  ['tpot', 'TPOT', 'time per output token'],
  ['itl', 'ITL (mean per request)', 'mean inter-token latency of each request'],
  ['e2e', 'E2E', 'end-to-end latency'],
] as const;

/** One CDF chart per latency metric; log x where the values span more than two decades. */
export function cdfCharts(f: RequestFigures): LineChart[] {
  return METRICS.map(([key, name, what]) => {
    const pts = cdfPoints(f.latencies[key]);
    const lo = pts.x[0] ?? 0;
    const hi = pts.x[pts.x.length - 1] ?? 0;
    return {
      type: 'line',
      id: `cdf-${key}`,
      title: `${name} CDF`,
      x: `${what} (s)`,
      y: 'fraction of requests',
      xLog: lo > 0 && hi / lo > 100,
      series: [rounded(name, pts)],
      note: `${f.latencies[key].length.toLocaleString('en-US')} requests`,
    };
  });
}

export function arrivalCharts(f: RequestFigures): LineChart[] {
  const note = 'each bucket of arrival time keeps its lowest and highest request, so outliers stay visible';
  return [
    { type: 'points', id: 'ttft-arrival', title: 'TTFT against arrival time', x: 'arrival (s)', y: 'TTFT (s)', series: [rounded('TTFT', f.ttftByArrival)], note },
    { type: 'points', id: 'e2e-arrival', title: 'E2E against arrival time', x: 'arrival (s)', y: 'E2E (s)', series: [rounded('E2E', f.e2eByArrival)], note },
  ];
}
