import { bracket, LogSeries, logWeight } from './interpolate.js';
import type { AttentionDecodeRow, AttentionPrefillRow, GemmRole, GemmRow, Profile } from './schema.js';

type GemmDtype = GemmRow['dtype'];

/** A GEMM's time over m at one weight shape, and whether it comes from measurements of (or between) measured shapes. */
export interface GemmLookup {
  series: LogSeries;
  measured: boolean;
}

/**
 * Scattered-shape interpolation: how many nearest measured shapes to blend, and the softening of
 * the inverse squared log-distance weights. Chosen on Vidur's training models (3 neighbours; held-
 * out median errors moved by < 0.3 points between 2 and 4).
 */
const SCATTER_NEIGHBOURS = 3;
const SCATTER_SOFTENING = 1e-3;

/** Kernels that engines run (FlashAttention, FlashInfer, PyTorch's flash SDPA); preferred over our own probe kernels. */
const ENGINE_LIKE_KERNELS = ['torch-sdpa-flash', 'flash-attn', 'flashinfer'];

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** One series from (x, y) points, taking the median of repeated x. */
function seriesOf(points: [number, number][]): LogSeries {
  const byX = new Map<number, number[]>();
  for (const [x, y] of points) {
    const list = byX.get(x);
    if (list) list.push(y);
    else byX.set(x, [y]);
  }
  return new LogSeries([...byX].map(([x, ys]) => [x, median(ys)] as [number, number]));
}

function isEngineLike(kernel: string | undefined): boolean {
  return kernel !== undefined && ENGINE_LIKE_KERNELS.includes(kernel);
}

/** A time looked up in a table, and whether the shape lay inside the measured data (else it was extrapolated). */
export interface TimedLookup {
  time_s: number;
  measured: boolean;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * A 2-D table: for each sorted outer value, a series over the inner axis; bilinear in log space.
 * Outside the data (beyond the outer values, or beyond a row's own inner range) the lookup
 * clamps to the nearest measured point and scales by the roofline's ratio between the asked and
 * the clamped shape, so times stay continuous and monotone where the table ends.
 */
class LogGrid {
  private readonly outer: number[];
  /** Per integer outer value (a decode's sequence count): what it alone decides, worked out once. */
  private readonly brackets: (OuterBracket | undefined)[] = [];
  /** Whether the lookup under way stayed inside the measured data. */
  private measured = true;

  constructor(private readonly series: Map<number, LogSeries>) {
    this.outer = [...series.keys()].sort((a, b) => a - b);
  }

  lookup(outerValue: number, innerValue: number, roofline: (outer: number, inner: number) => number): TimedLookup {
    const b = Number.isInteger(outerValue) && outerValue >= 0 && outerValue < OUTER_MEMO ? (this.brackets[outerValue] ??= this.bracketOf(outerValue)) : this.bracketOf(outerValue);
    const oc = b.clamped;
    this.measured = oc === outerValue;
    const lo = this.rowTime(b.lo, b.loOuter, innerValue, roofline);
    const hi = b.single ? lo : this.rowTime(b.hi, b.hiOuter, innerValue, roofline);
    const w = b.w;
    const atClamped = Math.exp((1 - w) * Math.log(lo) + w * Math.log(hi));
    const time_s = oc === outerValue ? atClamped : (atClamped * roofline(outerValue, innerValue)) / roofline(oc, innerValue);
    return { time_s, measured: this.measured };
  }

  /** The rows bracketing `outerValue` (clamped to the grid) and the upper row's weight. */
  private bracketOf(outerValue: number): OuterBracket {
    const o = this.outer;
    const oc = clamp(outerValue, o[0], o[o.length - 1]);
    const br = bracket(o, oc)!;
    const row = (outer: number): LogSeries => this.series.get(outer)!;
    return { clamped: oc, lo: row(br[0]), loOuter: br[0], hi: row(br[1]), hiOuter: br[1], single: br[1] === br[0], w: logWeight(br, oc) };
  }

  /** One row's time at `innerValue`: beyond its measured range, the clamped point's scaled by the roofline's ratio. */
  private rowTime(row: LogSeries, rowOuter: number, innerValue: number, roofline: (outer: number, inner: number) => number): number {
    const ic = clamp(innerValue, row.minX, row.maxX);
    if (ic !== innerValue) this.measured = false;
    const t = row.at(ic);
    return ic === innerValue ? t : (t * roofline(rowOuter, innerValue)) / roofline(rowOuter, ic);
  }
}

/** Integer outer values below this are kept (`LogGrid.brackets`). */
const OUTER_MEMO = 1 << 16;

/** What a lookup's outer value alone decides. */
interface OuterBracket {
  /** The outer value clamped to the grid's range. */
  clamped: number;
  lo: LogSeries;
  loOuter: number;
  hi: LogSeries;
  hiOuter: number;
  /** The clamped value is a row of the grid: `hi` is `lo`. */
  single: boolean;
  /** The weight of `hi` in log space. */
  w: number;
}

/** One grid from rows, keyed by an outer and an inner coordinate each row defines. */
function gridOf<R extends { time_s: number }>(rows: readonly R[], outer: (r: R) => number, inner: (r: R) => number): LogGrid | undefined {
  if (rows.length === 0) return undefined;
  const byOuter = new Map<number, [number, number][]>();
  for (const r of rows) {
    const list = byOuter.get(outer(r)) ?? [];
    list.push([inner(r), r.time_s]);
    byOuter.set(outer(r), list);
  }
  return new LogGrid(new Map([...byOuter].map(([k, pts]) => [k, seriesOf(pts)])));
}

/**
 * Engine-like kernels first, shape by shape: where their grid covers the shape it answers; where
 * only our own kernels' grid does, that one; else the engine-like grid extrapolated.
 */
function preferEngineLike(engine: LogGrid | undefined, own: LogGrid | undefined, outer: number, inner: number, roofline: (o: number, i: number) => number): TimedLookup | undefined {
  const first = engine?.lookup(outer, inner, roofline);
  if (first?.measured) return first;
  const second = own?.lookup(outer, inner, roofline);
  if (second?.measured) return second;
  return first ?? second;
}

/** Attention rows of one head configuration, scaled from the nearest measured one when it differs. */
interface HeadMatch<R> {
  rows: R[];
  /** Multiply the table's time by this to get the asked configuration's (work scales with heads). */
  scale: number;
}

function matchHeads<R extends { heads: number; kv_heads: number }>(rows: readonly R[], heads: number, kvHeads: number, memoryBound: boolean): HeadMatch<R> | undefined {
  const exact = rows.filter((r) => r.heads === heads && r.kv_heads === kvHeads);
  if (exact.length > 0) return { rows: exact, scale: 1 };
  // Same GQA ratio, nearest head count: time scales with the heads (compute) or KV heads (reads).
  const ratio = heads / kvHeads;
  const sameRatio = rows.filter((r) => r.heads / r.kv_heads === ratio);
  if (sameRatio.length === 0) return undefined;
  let best = sameRatio[0].heads;
  for (const r of sameRatio) if (Math.abs(Math.log(r.heads / heads)) < Math.abs(Math.log(best / heads))) best = r.heads;
  const chosen = sameRatio.filter((r) => r.heads === best);
  const scale = memoryBound ? kvHeads / chosen[0].kv_heads : heads / best;
  return { rows: chosen, scale };
}

/**
 * The measured tables of one profile, indexed for the shapes of one model on one parallel layout.
 * Everything is prepared at construction, so a lookup per engine step is a binary search.
 * Lookups return NaN where the profile has no data; the latency model then uses its roofline.
 */
export class ProfileTables {
  private readonly gemmByDtype = new Map<GemmDtype, GemmRow[]>();

  constructor(private readonly profile: Profile) {
    for (const row of profile.tables?.gemm ?? []) {
      const list = this.gemmByDtype.get(row.dtype);
      if (list) list.push(row);
      else this.gemmByDtype.set(row.dtype, [row]);
    }
  }

  get measured(): boolean {
    return this.profile.source === 'measured';
  }

  /**
   * GEMM time over m for a weight shape (n, k), with whether it counts as measured:
   * 1. the measured series of that exact shape (rows of the GEMM's role preferred);
   * 2. log-bilinear between the four neighbouring (n, k) series of a full grid (our probe's);
   * 3. scattered shapes (another tool's per-model tables): the roofline at (n, k) times a
   *    distance-weighted geometric mean of the measured-to-roofline ratios of the nearest measured
   *    shapes, at each m. The ratios carry what a roofline misses (wave quantization, the library's
   *    kernel choice at each m), which is shared by nearby shapes. Counted as measured only inside
   *    the measured shapes' range.
   */
  gemmSeries(dtype: GemmDtype, n: number, k: number, role?: GemmRole, roofline?: (m: number, n: number, k: number) => number): GemmLookup | undefined {
    const all = this.gemmByDtype.get(dtype);
    if (!all) return undefined;
    const ofRole = role === undefined ? [] : all.filter((r) => r.role === role);
    const rows = ofRole.length > 0 ? ofRole : all;
    // Borrowed from other roles' rows (e.g. an LM head from a table of layer projections): modelled.
    const roleCovered = role === undefined || ofRole.length > 0 || all.every((r) => r.role === undefined);
    const exact = rows.filter((r) => r.n === n && r.k === k);
    if (exact.length > 0) return { series: seriesOf(exact.map((r) => [r.m, r.time_s])), measured: roleCovered };
    const grid = this.gridSeries(rows, n, k);
    if (grid) return { series: grid, measured: roleCovered };
    return roofline ? this.scatteredSeries(rows, n, k, roofline, roleCovered) : undefined;
  }

  private gridSeries(rows: readonly GemmRow[], n: number, k: number): LogSeries | undefined {
    const ns = [...new Set(rows.map((r) => r.n))].sort((a, b) => a - b);
    const ks = [...new Set(rows.map((r) => r.k))].sort((a, b) => a - b);
    const bn = bracket(ns, n);
    const bk = bracket(ks, k);
    if (!bn || !bk) return undefined;
    const corner = (cn: number, ck: number): LogSeries | undefined => {
      const c = rows.filter((r) => r.n === cn && r.k === ck);
      return c.length > 0 ? seriesOf(c.map((r) => [r.m, r.time_s])) : undefined;
    };
    const corners = [corner(bn[0], bk[0]), corner(bn[1], bk[0]), corner(bn[0], bk[1]), corner(bn[1], bk[1])];
    if (corners.some((c) => c === undefined)) return undefined;
    const cs = corners as LogSeries[];
    const lo = Math.max(...cs.map((c) => c.minX));
    const hi = Math.min(...cs.map((c) => c.maxX));
    const ms = [...new Set(cs.flatMap((c) => Array.from(c.logX, (l) => Math.round(Math.exp(l)))))].filter((m) => m >= lo && m <= hi);
    const wn = logWeight(bn, n);
    const wk = logWeight(bk, k);
    const points = ms.map((m): [number, number] => {
      const [a, b, c, d] = cs.map((s) => Math.log(s.at(m)));
      const logT = (1 - wk) * ((1 - wn) * a + wn * b) + wk * ((1 - wn) * c + wn * d);
      return [m, Math.exp(logT)];
    });
    return points.length > 0 && points.every(([, t]) => t > 0) ? new LogSeries(points) : undefined;
  }

  private scatteredSeries(rows: readonly GemmRow[], n: number, k: number, roofline: (m: number, n: number, k: number) => number, roleCovered: boolean): GemmLookup | undefined {
    const shapes = new Map<string, { n: number; k: number; points: [number, number][] }>();
    for (const r of rows) {
      const key = `${r.n}x${r.k}`;
      const shape = shapes.get(key) ?? { n: r.n, k: r.k, points: [] };
      shape.points.push([r.m, r.time_s]);
      shapes.set(key, shape);
    }
    const distance = (s: { n: number; k: number }): number => Math.log(n / s.n) ** 2 + Math.log(k / s.k) ** 2;
    const nearest = [...shapes.values()].sort((a, b) => distance(a) - distance(b) || a.n - b.n || a.k - b.k).slice(0, SCATTER_NEIGHBOURS);
    const neighbours = nearest.map((s) => ({ ...s, series: seriesOf(s.points), weight: 1 / (distance(s) + SCATTER_SOFTENING) }));
    const ms = [...new Set(neighbours.flatMap((s) => s.points.map(([m]) => m)))].sort((a, b) => a - b);
    const points: [number, number][] = [];
    for (const m of ms) {
      let logRatio = 0;
      let weights = 0;
      for (const s of neighbours) {
        const t = s.series.at(m);
        if (!(t > 0)) continue;
        logRatio += s.weight * Math.log(t / roofline(m, s.n, s.k));
        weights += s.weight;
      }
      if (weights > 0) points.push([m, roofline(m, n, k) * Math.exp(logRatio / weights)]);
    }
    if (points.length === 0) return undefined;
    const allN = [...shapes.values()].map((s) => s.n);
    const allK = [...shapes.values()].map((s) => s.k);
    const inside = n >= Math.min(...allN) && n <= Math.max(...allN) && k >= Math.min(...allK) && k <= Math.max(...allK);
    return { series: new LogSeries(points), measured: inside && roleCovered };
  }

  /**
   * Prefill attention for one layer. The table's grid is over (query tokens q, context ÷ q): a
   * rectangle, where (q, context) would be a triangle (context ≥ q). The batch is looked up at its
   * mean chunk and scaled by its query-key pairs over that chunk's. `roofline(q, context)` is the
   * modelled time of one such chunk, for extrapolating beyond the table.
   */
  prefillAttention(
    dtype: GemmDtype,
    heads: number,
    kvHeads: number,
    headDim: number,
    roofline: (q: number, context: number) => number,
  ): ((q: number, context: number, pairs: number) => TimedLookup) | undefined {
    const rows = (this.profile.tables?.attention_prefill ?? []).filter((r) => r.dtype === dtype && r.head_dim === headDim && r.seqs === 1);
    const match = matchHeads<AttentionPrefillRow>(rows, heads, kvHeads, false);
    if (!match) return undefined;
    const grid = (rs: AttentionPrefillRow[]) => gridOf(rs, (r) => r.query_tokens, (r) => r.context_tokens / r.query_tokens);
    const engine = grid(match.rows.filter((r) => isEngineLike(r.kernel)));
    const own = grid(match.rows.filter((r) => !isEngineLike(r.kernel)));
    const byRatio = (q: number, ratio: number): number => roofline(q, q * ratio);
    const scale = match.scale;
    return (q, context, pairs) => {
      const one = preferEngineLike(engine, own, q, context / q, byRatio)!;
      const onePairs = q * (context - q + (q + 1) / 2);
      return { time_s: one.time_s * scale * (pairs / onePairs), measured: one.measured };
    };
  }

  /**
   * Paged decode attention for one layer over (sequences, mean context), at the nearest measured
   * block size. `roofline(seqs, context)` extrapolates beyond the table.
   */
  decodeAttention(
    dtype: GemmDtype,
    heads: number,
    kvHeads: number,
    headDim: number,
    blockSize: number,
    roofline: (seqs: number, context: number) => number,
  ): ((seqs: number, context: number) => TimedLookup) | undefined {
    const all = (this.profile.tables?.attention_decode ?? []).filter((r) => r.dtype === dtype && r.head_dim === headDim);
    if (all.length === 0) return undefined;
    const sizes = [...new Set(all.map((r) => r.block_size))];
    const nearest = sizes.reduce((a, b) => (Math.abs(Math.log(b / blockSize)) < Math.abs(Math.log(a / blockSize)) ? b : a));
    const match = matchHeads<AttentionDecodeRow>(all.filter((r) => r.block_size === nearest), heads, kvHeads, true);
    if (!match) return undefined;
    const grid = (rs: AttentionDecodeRow[]) => gridOf(rs, (r) => r.seqs, (r) => r.context_tokens);
    const engine = grid(match.rows.filter((r) => isEngineLike(r.kernel)));
    const own = grid(match.rows.filter((r) => !isEngineLike(r.kernel)));
    const scale = match.scale;
    return (seqs, context) => {
      const one = preferEngineLike(engine, own, seqs, context, roofline)!;
      return { time_s: one.time_s * scale, measured: one.measured };
    };
  }

  /** A memory-bound kernel's time by bytes moved (RMSNorm rows preferred: the most common such kernel). */
  elementwiseSeries(): LogSeries | undefined {
    const rows = this.profile.tables?.elementwise ?? [];
    if (rows.length === 0) return undefined;
    const norm = rows.filter((r) => r.op === 'rmsnorm');
    return seriesOf((norm.length > 0 ? norm : rows).map((r) => [r.bytes, r.time_s]));
  }

  allReduceSeries(groupSize: number, link: 'nvlink' | 'pcie'): LogSeries | undefined {
    const rows = (this.profile.tables?.all_reduce ?? []).filter((r) => r.group_size === groupSize && r.link === link);
    return rows.length > 0 ? seriesOf(rows.map((r) => [r.bytes, r.time_s])) : undefined;
  }
}
