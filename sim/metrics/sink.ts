import { existsSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fieldError } from '../errors.js';
import { makeFolders, markWriter, removeQuietly, removeStaleTemporaries, unmarkWriter, WRITER_MARK, withPath } from '../fsErrors.js';
import { ArrowFileWriter, dictCode, type ColumnBuffer } from './arrowFile.js';
import { StepStamps } from './gapPool.js';
import { GroupAccumulator, type SloTargets } from './group.js';
import { PriorityClasses } from './priority.js';
import { ITERATION_COLUMNS, REQUEST_COLUMNS, REQUEST_STATUSES, TOKEN_COLUMNS, requestRow, type IterationRecord, type RequestOutcome } from './records.js';
import { buildSummary, summaryJson, type FinishContext, type KvFromIterations, type Summary } from './summary.js';

export interface MetricsSinkOptions {
  /** Output folder; undefined computes the summary without writing anything. */
  dir: string | undefined;
  writeTokens: boolean;
  replicas: number;
  /** Requests arriving before this time are excluded from latency statistics and SLO figures (see Summary.warmup_s). */
  warmup_s: number;
  slo: SloTargets;
  /** Rows per Arrow record batch. */
  batchRows?: number;
  /** Tokens per KV block; without it the summary's KV fragmentation is null. */
  block_size?: number;
}

/** The only names a folder may hold for `finish` to replace it: never delete someone's files. */
const OUTPUT_FILES = new Set(['requests.arrow', 'iterations.arrow', 'tokens.arrow', 'summary.json']);

const STATUS_COLUMN = REQUEST_COLUMNS.findIndex((c) => c.name === 'status');
const STATUS_CODES = new Map(REQUEST_STATUSES.map((s) => [s, dictCode(REQUEST_COLUMNS[STATUS_COLUMN], s)]));

/**
 * Receives every record of a run, streams them to Arrow files in `<dir>.tmp-<pid>` and on
 * `finish` publishes that folder as `<dir>` (replacing a previous output folder). Call `abort`
 * on error: it removes the temporary folder, so no half-written output remains.
 * Rows are written in the order they are recorded (requests: in the order they leave).
 * Memory: one Arrow batch per file, plus per-request latency scalars and the pooled ITL gaps.
 */
export class MetricsSink {
  private readonly dir: string | undefined;
  private readonly tmpDir: string | undefined;
  private readonly requests: ArrowFileWriter | undefined;
  private readonly iterations: ArrowFileWriter | undefined;
  private readonly tokens: ArrowFileWriter | undefined;
  private readonly groups: GroupAccumulator[];
  private readonly unrouted = new GroupAccumulator();
  /** Each replica's step stamps (see recordStepStamp). */
  private readonly stamps: StepStamps[];
  private readonly priorities: PriorityClasses;
  private readonly blockSize: number;
  private readonly warmup_s: number;
  private readonly slo: SloTargets;
  private state: 'open' | 'finished' | 'aborted' = 'open';
  private createdRoot: string | undefined;
  private firstArrival_s = Infinity;
  private firstMeasuredArrival_s = Infinity;
  private lastFinish_s = -Infinity;
  private iterationCount = 0;
  /** Σ duration of every iteration, and of those with a KV pool / holding a block. */
  private busy_s = 0;
  private kvBusy_s = 0;
  private fragBusy_s = 0;
  /** Duration-weighted sums (value × duration) and maxima. */
  private kvWeighted = 0;
  private kvMax = -Infinity;
  private cachedWeighted = 0;
  private cachedMax = -Infinity;
  private swappedWeighted = 0;
  private swappedMax = -Infinity;
  private fragWeighted = 0;
  private fragMax = -Infinity;
  private swapIn = 0;
  private swapOut = 0;
  private evicted = 0;

  constructor(opts: MetricsSinkOptions) {
    this.warmup_s = opts.warmup_s;
    this.slo = opts.slo;
    if (opts.block_size !== undefined && !(opts.block_size > 0)) throw new Error(`block_size ${opts.block_size} is not a positive number`);
    this.blockSize = opts.block_size ?? 0;
    this.stamps = Array.from({ length: opts.replicas }, () => new StepStamps());
    this.groups = this.stamps.map((s) => new GroupAccumulator(s));
    this.priorities = new PriorityClasses(this.groups.map((g) => g.itl_s));
    if (opts.dir === undefined) return;
    const dir = (this.dir = resolve(opts.dir));
    assertReplaceable(dir);
    withPath(FIELD, 'clean up beside', dir, () => removeStaleTemporaries(dir, OUTPUT_FILES));
    const tmpDir = (this.tmpDir = `${dir}.tmp-${process.pid}`);
    withPath(FIELD, 'create', dir, () => {
      rmSync(tmpDir, { recursive: true, force: true });
      // The first folder made: on abort it goes too, so a failed run leaves no new parents.
      this.createdRoot = makeFolders(tmpDir);
    });
    try {
      withPath(FIELD, 'write', join(tmpDir, WRITER_MARK), () => markWriter(tmpDir));
      this.requests = new ArrowFileWriter(join(tmpDir, 'requests.arrow'), REQUEST_COLUMNS, opts.batchRows);
      this.iterations = new ArrowFileWriter(join(tmpDir, 'iterations.arrow'), ITERATION_COLUMNS, opts.batchRows);
      if (opts.writeTokens) this.tokens = new ArrowFileWriter(join(tmpDir, 'tokens.arrow'), TOKEN_COLUMNS, opts.batchRows);
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  recordRequest(o: RequestOutcome): void {
    this.assertOpen();
    const group = o.replica === -1 ? this.unrouted : this.groups[o.replica];
    if (group === undefined) throw new Error(`request ${o.request_id}: replica ${o.replica} outside 0..${this.groups.length - 1}`);
    if (!(Number.isInteger(o.priority) && Number.isInteger(o.samples) && Number.isInteger(o.sequences) && o.samples >= 1 && o.sequences >= o.samples)) {
      throw new Error(`request ${o.request_id}: priority ${o.priority}, samples ${o.samples}, sequences ${o.sequences} (need integers, 1 ≤ samples ≤ sequences)`);
    }
    const measured = o.arrival_s >= this.warmup_s;
    const pool = group.pooledGaps(o, measured);
    this.priorities.prepare(o.priority);
    const row = requestRow(o, pool);
    group.add(o, row, measured, this.slo);
    this.priorities.add(o, row, measured, this.slo, pool !== undefined && o.replica >= 0);
    if (o.arrival_s < this.firstArrival_s) this.firstArrival_s = o.arrival_s;
    if (measured && o.arrival_s < this.firstMeasuredArrival_s) this.firstMeasuredArrival_s = o.arrival_s;
    if (o.finish_s > this.lastFinish_s) this.lastFinish_s = o.finish_s;

    const w = this.requests;
    if (w !== undefined) {
      const c = w.columns;
      const r = w.row;
      // Order = REQUEST_COLUMNS; null becomes NaN, which the writer turns back into null.
      c[0][r] = row.request_id;
      c[1][r] = row.replica;
      c[2][r] = row.arrival_s;
      c[3][r] = row.input_tokens;
      c[4][r] = row.output_tokens;
      c[5][r] = row.cached_tokens;
      c[6][r] = row.first_scheduled_s ?? NaN;
      c[7][r] = row.first_token_s ?? NaN;
      c[8][r] = row.finish_s;
      c[9][r] = row.ttft_s ?? NaN;
      c[10][r] = row.e2e_s ?? NaN;
      c[11][r] = row.tpot_s ?? NaN;
      c[12][r] = row.itl_mean_s ?? NaN;
      c[13][r] = row.itl_p50_s ?? NaN;
      c[14][r] = row.itl_p99_s ?? NaN;
      c[15][r] = row.itl_max_s ?? NaN;
      c[16][r] = row.preemptions;
      c[STATUS_COLUMN][r] = STATUS_CODES.get(row.status) as number;
      c[18][r] = row.priority;
      c[19][r] = row.samples;
      c[20][r] = row.sequences;
      w.endRow();
    }
    const t = this.tokens;
    if (t !== undefined) {
      const times = o.token_times_s;
      const [ids, index, time] = t.columns;
      for (let i = 0; i < times.length; i++) {
        ids[t.row] = o.request_id;
        index[t.row] = i;
        time[t.row] = times[i];
        t.endRow();
      }
    }
  }

  /**
   * The time replica `replica`'s step `step` (0, 1, … in order) stamped its tokens with. Call it as
   * the step completes, before recording any request it finishes: token gaps between consecutive
   * steps are pooled as counts against these stamps.
   */
  recordStepStamp(replica: number, step: number, stamp_s: number): void {
    this.stamps[replica].push(step, stamp_s);
  }

  /**
   * Positional so the engine's hottest record allocates nothing; order = iterations.arrow columns
   * (see IterationRecord). The last six default to 0 for engines without prefix caching or swap.
   */
  recordIteration(
    replica: number, start_s: number, end_s: number, prefill_seqs: number, decode_seqs: number,
    prefill_tokens: number, decode_tokens: number, kv_blocks_used: number, kv_blocks_total: number,
    waiting: number, running: number, swapped: number, preempted: number,
    kv_blocks_cached = 0, kv_blocks_swapped = 0, kv_slots_unused = 0,
    swap_in_blocks = 0, swap_out_blocks = 0, kv_blocks_evicted = 0,
  ): void {
    if (this.state !== 'open') this.assertOpen();
    const dt = end_s - start_s;
    this.iterationCount++;
    this.busy_s += dt;
    if (kv_blocks_total > 0) {
      const used = kv_blocks_used / kv_blocks_total;
      this.kvWeighted += used * dt;
      this.kvBusy_s += dt;
      if (used > this.kvMax) this.kvMax = used;
    }
    this.cachedWeighted += kv_blocks_cached * dt;
    if (kv_blocks_cached > this.cachedMax) this.cachedMax = kv_blocks_cached;
    this.swappedWeighted += kv_blocks_swapped * dt;
    if (kv_blocks_swapped > this.swappedMax) this.swappedMax = kv_blocks_swapped;
    if (kv_blocks_used > 0 && this.blockSize > 0) {
      const frag = kv_slots_unused / (kv_blocks_used * this.blockSize);
      this.fragWeighted += frag * dt;
      this.fragBusy_s += dt;
      if (frag > this.fragMax) this.fragMax = frag;
    }
    this.swapIn += swap_in_blocks;
    this.swapOut += swap_out_blocks;
    this.evicted += kv_blocks_evicted;
    const w = this.iterations;
    if (w === undefined) return;
    const c: readonly ColumnBuffer[] = w.columns;
    const r = w.row;
    c[0][r] = replica;
    c[1][r] = start_s;
    c[2][r] = end_s;
    c[3][r] = prefill_seqs;
    c[4][r] = decode_seqs;
    c[5][r] = prefill_tokens;
    c[6][r] = decode_tokens;
    c[7][r] = kv_blocks_used;
    c[8][r] = kv_blocks_total;
    c[9][r] = waiting;
    c[10][r] = running;
    c[11][r] = swapped;
    c[12][r] = preempted;
    c[13][r] = kv_blocks_cached;
    c[14][r] = kv_blocks_swapped;
    c[15][r] = kv_slots_unused;
    c[16][r] = swap_in_blocks;
    c[17][r] = swap_out_blocks;
    c[18][r] = kv_blocks_evicted;
    w.endRow();
  }

  recordIterationRecord(it: IterationRecord): void {
    this.recordIteration(it.replica, it.start_s, it.end_s, it.prefill_seqs, it.decode_seqs, it.prefill_tokens, it.decode_tokens,
      it.kv_blocks_used, it.kv_blocks_total, it.waiting, it.running, it.swapped, it.preempted,
      it.kv_blocks_cached, it.kv_blocks_swapped, it.kv_slots_unused, it.swap_in_blocks, it.swap_out_blocks, it.kv_blocks_evicted);
  }

  /** Computes the summary; with a folder, also closes the files, writes summary.json and publishes `<dir>`. */
  finish(ctx: FinishContext): Summary {
    this.assertOpen();
    try {
      const span = { first_arrival_s: this.firstArrival_s, first_measured_arrival_s: this.firstMeasuredArrival_s, last_finish_s: this.lastFinish_s };
      const summary = buildSummary(this.groups, this.unrouted, this.priorities, span, this.slo, this.warmup_s, this.kvFigures(), ctx);
      if (this.tmpDir !== undefined && this.dir !== undefined) {
        this.requests?.close();
        this.iterations?.close();
        this.tokens?.close();
        const file = join(this.tmpDir, 'summary.json');
        withPath(FIELD, 'write', file, () => writeFileSync(file, summaryJson(summary)));
        const [tmp, dir] = [this.tmpDir, this.dir];
        withPath(FIELD, 'write', tmp, () => unmarkWriter(tmp));
        withPath(FIELD, 'replace', dir, () => publish(tmp, dir));
      }
      this.state = 'finished';
      return summary;
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  /** Discards everything written so far. Safe to call more than once; a no-op after `finish`. */
  abort(): void {
    if (this.state === 'finished') return;
    this.state = 'aborted';
    for (const w of [this.requests, this.iterations, this.tokens]) {
      try {
        w?.abort();
      } catch {
        // The descriptor is gone either way; removing the folder below is what matters.
      }
    }
    // Best effort: the error being reported matters more than a folder that would not go.
    if (this.tmpDir !== undefined) removeQuietly(this.tmpDir);
    if (this.createdRoot !== undefined && this.createdRoot !== this.tmpDir) removeQuietly(this.createdRoot);
  }

  private kvFigures(): KvFromIterations | null {
    if (this.iterationCount === 0) return null;
    // Weighted by iteration duration: idle time between iterations does not dilute a mean.
    const mean = (weighted: number, busy_s: number) => (busy_s > 0 ? weighted / busy_s : null);
    const max = (m: number) => (m === -Infinity ? null : m);
    return {
      source: 'iterations',
      mean_utilization: mean(this.kvWeighted, this.kvBusy_s),
      max_utilization: max(this.kvMax),
      cached_blocks_mean: mean(this.cachedWeighted, this.busy_s),
      cached_blocks_max: max(this.cachedMax),
      swapped_blocks_mean: mean(this.swappedWeighted, this.busy_s),
      swapped_blocks_max: max(this.swappedMax),
      fragmentation_mean: mean(this.fragWeighted, this.fragBusy_s),
      fragmentation_max: max(this.fragMax),
      swap_in_blocks: this.swapIn,
      swap_out_blocks: this.swapOut,
      evicted_blocks: this.evicted,
    };
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new Error(`MetricsSink is ${this.state}`);
  }
}

/** What the sink's errors name: --out sets it too. */
const FIELD = 'output.dir';

function assertReplaceable(dir: string): void {
  const stat = withPath(FIELD, 'use', dir, () => (existsSync(dir) ? statSync(dir) : undefined));
  if (stat === undefined) return;
  if (!stat.isDirectory()) throw fieldError(FIELD, 'exists and is not a folder', dir);
  const foreign = withPath(FIELD, 'read', dir, () => readdirSync(dir)).filter((name) => !OUTPUT_FILES.has(name) && name !== WRITER_MARK);
  if (foreign.length > 0) {
    throw fieldError(FIELD, `holds files that are not infersim output (${foreign.slice(0, 3).join(', ')}); refusing to replace it`, dir);
  }
}

/**
 * rename(2) cannot replace a non-empty folder, so the old one is moved aside first and put back
 * if the second rename fails; the window without `<dir>` is two renames long. `rename` is
 * injectable so that recovery can be tested.
 */
export function publish(tmpDir: string, dir: string, rename: (from: string, to: string) => void = renameSync): void {
  assertReplaceable(dir);
  if (!existsSync(dir)) {
    rename(tmpDir, dir);
    return;
  }
  const aside = `${dir}.old-${process.pid}`;
  rmSync(aside, { recursive: true, force: true });
  rename(dir, aside);
  try {
    // Marked as this run's, so that a later run may put it back if this one dies right here.
    markWriter(aside);
    pauseForTest();
    rename(tmpDir, dir);
  } catch (err) {
    rename(aside, dir);
    unmarkWriter(dir);
    throw err;
  }
  rmSync(aside, { recursive: true, force: true });
}

/**
 * Test hook: INFERSIM_TEST_PUBLISH_PAUSE_MS holds a publish between its two renames (the previous
 * output moved aside, the new one not yet in place) and says so on stderr, so that a test can
 * interrupt a run exactly there.
 */
function pauseForTest(): void {
  const ms = Number(process.env.INFERSIM_TEST_PUBLISH_PAUSE_MS ?? 0);
  if (!(ms > 0)) return;
  process.stderr.write('infersim-test: publish paused\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
