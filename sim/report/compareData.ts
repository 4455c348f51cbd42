import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InfersimError } from '../errors.js';
import { withPath } from '../fsErrors.js';
import { cdfPoints } from './cdf.js';
import { fmt, pick, rounded, type LineChart, type Section } from './model.js';

/** Written by `infersim compare … --dir DIR` beside the simulation's outputs. */
export const COMPARE_FILE = 'compare.json';

const METRICS = [
  ['ttft_s', 'TTFT'],
  ['tpot_s', 'TPOT'],
  ['itl_s', 'ITL'],
  ['e2e_s', 'E2E'],
] as const;

/**
 * The real benchmark against its simulation, when the folder holds compare.json: the error table
 * and, per metric, the real and simulated CDFs overlaid (each tool's own metric definitions, as
 * `infersim compare` computed them on both sides). Undefined when there is no compare.json.
 */
export function compareSection(dir: string): Section | undefined {
  const file = join(dir, COMPARE_FILE);
  if (!existsSync(file)) return undefined;
  const text = withPath('report', 'read', file, () => readFileSync(file, 'utf8'));
  let c: unknown;
  try {
    c = JSON.parse(text);
  } catch (err) {
    throw new InfersimError(`report: ${file} is not valid JSON: ${(err as Error).message}`);
  }
  const rows = pick(c, 'rows');
  const table = {
    head: ['metric', 'stat', 'real', 'simulated', 'sim error', 'real vs sim'],
    rows: (Array.isArray(rows) ? rows : []).map((r: Record<string, unknown>) => [
      String(r.metric),
      String(r.stat),
      ms(r.real_s),
      ms(r.sim_s),
      signed(r.error),
      signed(r.real_vs_sim),
    ]),
    note: 'sim error = simulated ÷ real − 1; real vs sim = real ÷ simulated − 1',
  };
  const charts: LineChart[] = [];
  const missing: string[] = [];
  for (const [key, name] of METRICS) {
    const real = pick(c, `per_request.real.${key}`);
    const sim = pick(c, `per_request.sim.${key}`);
    if (!Array.isArray(real) || !Array.isArray(sim) || real.length === 0 || sim.length === 0) {
      missing.push(`${name} (${Array.isArray(real) && real.length > 0 ? 'no simulated values' : 'no real values'})`);
      continue;
    }
    charts.push({
      type: 'line',
      id: `compare-${key}`,
      title: `${name}: real benchmark and simulation`,
      x: `${name} (s)`,
      // vLLM's ITL pools every gap; the other metrics are one value per request.
      y: key === 'itl_s' ? 'cumulative fraction (of gaps or requests, as the tool counts ITL)' : 'fraction of requests',
      series: [rounded('real', cdfPoints(real as number[])), rounded('simulated', cdfPoints(sim as number[]))],
      note: `${real.length.toLocaleString('en-US')} real and ${sim.length.toLocaleString('en-US')} simulated values`,
    });
  }
  const realFile = pick(c, 'real.file');
  const format = pick(c, 'real.format');
  const lacking = missing.length === 0 ? '' : `. No overlay for ${missing.join(', ')}`;
  return { title: 'Real benchmark against the simulation', note: `${String(format)} results from ${String(realFile)} (infersim compare)${lacking}`, tables: [table], charts };
}

/** Seconds as milliseconds; a figure the run lacks (null in compare.json) as a dash, never 0. */
function ms(v: unknown): string {
  return typeof v === 'number' && Number.isFinite(v) ? `${fmt(v * 1000)} ms` : '—';
}

function signed(v: unknown): string {
  return typeof v === 'number' && Number.isFinite(v) ? `${v >= 0 ? '+' : '−'}${fmt(Math.abs(v) * 100, 3)} %` : '—';
}
