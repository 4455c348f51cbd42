/**
 * What the page draws, decided in Node: the page's script only lays these out (tables as text,
 * charts through uPlot, heat maps on a canvas). Embedded as JSON in the HTML.
 */

export interface ChartSeries {
  label: string;
  x: number[];
  y: number[];
}

export interface LineChart {
  type: 'line' | 'points';
  id: string;
  title: string;
  x: string;
  y: string;
  xLog?: boolean;
  series: ChartSeries[];
  note?: string;
}

export interface HeatMap {
  type: 'heatmap';
  id: string;
  title: string;
  x: string;
  y: string;
  xs: string[];
  ys: string[];
  /** z[row = y index][column = x index]; null where no point. */
  z: (number | null)[][];
  /** Whether a larger value is better (colours run from worst to best). */
  higherIsBetter: boolean;
  note?: string;
}

export type Chart = LineChart | HeatMap;

export interface Table {
  title?: string;
  head: string[];
  rows: string[][];
  note?: string;
}

export interface Section {
  title: string;
  note?: string;
  tables: Table[];
  charts: Chart[];
  /** Preformatted text (the scenario). */
  pre?: string;
}

export interface ReportData {
  kind: 'run' | 'sweep';
  title: string;
  subtitle: string;
  sections: Section[];
}

/** Six significant digits: enough for any axis, a third of the JSON of full doubles. */
export function sig(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(6)) : v;
}

export function rounded(label: string, xy: { x: number[]; y: number[] }): ChartSeries {
  return { label, x: xy.x.map(sig), y: xy.y.map(sig) };
}

/** A number for a table cell: 4 significant digits, thousands grouped; an em dash for none. */
export function fmt(v: unknown, digits = 4): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  if (Math.abs(v) >= 10 ** digits) return Math.round(v).toLocaleString('en-US');
  return Number(v.toPrecision(digits)).toLocaleString('en-US', { maximumSignificantDigits: digits });
}

export function pct(v: unknown): string {
  return typeof v === 'number' && Number.isFinite(v) ? `${fmt(v * 100, 3)} %` : '—';
}

/** A field of parsed JSON by dotted path, or undefined. */
export function pick(obj: unknown, path: string): unknown {
  let at: unknown = obj;
  for (const part of path.split('.')) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

export function pickNum(obj: unknown, path: string): number | undefined {
  const v = pick(obj, path);
  return typeof v === 'number' ? v : undefined;
}

/**
 * The report without charts that have nothing to draw (a run where no step ran, no request
 * finished, a sweep whose points have no latency): each section says which it left out and why,
 * instead of showing an empty frame.
 */
export function withoutEmptyCharts(data: ReportData): ReportData {
  const sections = data.sections.map((section) => {
    const kept = section.charts.filter(hasData);
    if (kept.length === section.charts.length) return section;
    const dropped = section.charts.filter((c) => !hasData(c)).map((c) => c.title);
    const note = `Nothing to draw for ${dropped.join(', ')}: no data (no engine step ran, no request finished, or no point has the figure).`;
    return { ...section, charts: kept, note: section.note === undefined ? note : `${section.note}. ${note}` };
  });
  return { ...data, sections };
}

function hasData(c: Chart): boolean {
  if (c.type === 'heatmap') return c.z.some((row) => row.some((v) => v !== null && Number.isFinite(v)));
  return c.series.some((s) => s.x.some((x, i) => Number.isFinite(x) && Number.isFinite(s.y[i])));
}
