import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeFolders, markWriter, removeQuietly, removeStaleTemporaries, unmarkWriter, WRITER_MARK, withPath } from '../fsErrors.js';
import { ArrowFileWriter } from './arrowFile.js';
import { CLUSTER_COLUMNS, ITERATION_COLUMNS, newRow, REQUEST_COLUMNS, TOKEN_COLUMNS, withDictionaries } from './columns.js';
import type { PoolInfo, PoolRecords } from './pools.js';
import { EventLog } from './events.js';
import { GapPool } from './gapPool.js';
import { StepStamps } from './stepStamps.js';
import { GroupAccumulator, type SloTargets } from './group.js';
import { IterationFigures } from './iterationFigures.js';
import { ReplicaLifetimes } from './lifetimes.js';
import { assertReplaceable, FIELD, publish, SPILL_FILE, TEMPORARY_FILES } from './outputDir.js';
import { PriorityClasses } from './priority.js';
import { requestRow, type ClusterRow, type IterationRecord, type RequestOutcome, type RequestRow, type TokenRow } from './records.js';
import { rowWriter, type RowWriter } from './rowWriter.js';
import type { RunSink } from './runSink.js';
import { SpillFile } from './spill.js';
import { buildSummary, summaryJson, type FinishContext, type Summary } from './summary.js';

export interface MetricsSinkOptions {
  /** Output folder; undefined computes the summary without writing anything. */
  dir: string | undefined;
  writeTokens: boolean;
  /** Replicas present from the run's start (more may be added: `addReplica`). */
  replicas: number;
  /** Requests arriving before this time are excluded from latency statistics and SLO figures (see Summary.warmup_s). */
  warmup_s: number;
  slo: SloTargets;
  /** Rows per Arrow record batch. */
  batchRows?: number;
  /** Tokens per KV block; without it the summary's KV fragmentation is null. */
  block_size?: number;
  /** The run's pools, in order (absent: one pool `default`, model ''); every row names its replica's pool. */
  pools?: readonly PoolInfo[];
  /** Each initial replica's pool (index into `pools`) and GPUs; absent: all in pool 0, sharing FinishContext.gpus. */
  replica_pools?: readonly number[];
  replica_gpus?: readonly number[];
  /** The models requests may name, in order (absent: the pools' models). */
  models?: readonly string[];
  /** Models requests may name beyond `models` (a trace's): their rows name them, their figures count with the first model's. */
  extra_models?: readonly string[];
  /** Add `pools` and `models` sections to the summary (a scenario with pools or several models). */
  detailed?: boolean;
  /** Steps each replica's stamps keep once they spill (default STEP_WINDOW; tests pass a small one). */
  stepWindow?: number;
}

const CLUSTER_BATCH_ROWS = 1024;

const DEFAULT_POOLS: readonly PoolInfo[] = [{ name: 'default', model: '', gpu: '', usd_per_gpu_hour: NaN, shadow: false }];

/**
 * Reused for every request and token of every sink in this thread: nothing keeps them past the call
 * that fills them. Module-wide rather than a field per sink: each sink's own rows came with a new
 * hidden class for V8, and the band's re-runs, whose sinks are the second and third, discarded the
 * main run's optimised record calls.
 */
const REQUEST_SCRATCH: RequestRow = newRow(REQUEST_COLUMNS);
const TOKEN_SCRATCH: TokenRow = newRow(TOKEN_COLUMNS);

/**
 * Receives every record of a run, streams them to Arrow files in `<dir>.tmp-<pid>` and on
 * `finish` publishes that folder as `<dir>` (replacing a previous output folder). Call `abort`
 * on error: it removes the temporary folder, so no half-written output remains.
 * Rows are written in the order they are recorded (requests: in the order they leave).
 * Memory: one Arrow batch per file, plus per-request latency scalars and the pooled ITL gaps.
 */
export class MetricsSink implements RunSink {
  private readonly dir: string | undefined;
  private readonly tmpDir: string | undefined;
  private readonly requests: ArrowFileWriter | undefined;
  private readonly iterations: ArrowFileWriter | undefined;
  private readonly tokens: ArrowFileWriter | undefined;
  /** Row writers of the three files (undefined: no folder, or no tokens.arrow), generated from their column tables. */
  private readonly writeRequest: RowWriter<RequestRow> | undefined;
  private readonly writeIteration: RowWriter<IterationRecord> | undefined;
  private readonly writeToken: RowWriter<TokenRow> | undefined;
  private readonly cluster: ArrowFileWriter | undefined;
  private readonly writeCluster: RowWriter<ClusterRow> | undefined;
  private readonly clusterTable: typeof CLUSTER_COLUMNS;
  /** Per replica, indexed by replica; they grow with `addReplica`. */
  private readonly groups: GroupAccumulator[] = [];
  /** Each replica's step stamps (see recordStepStamp). */
  private readonly stamps: StepStamps[] = [];
  /** Each replica's ITL pool; the same array PriorityClasses reads, so added replicas reach it. */
  private readonly itlPools: GapPool[] = [];
  /** Per model: requests rejected before a pool was chosen (a model no pool serves, or no ready replica across pools). */
  private readonly unrouted: GroupAccumulator[];
  /** Per pool: requests rejected in that pool before reaching a replica (none of its replicas ready). */
  private readonly poolUnrouted: GroupAccumulator[];
  private readonly pools: readonly PoolInfo[];
  private readonly models: readonly string[];
  private readonly modelIndex: Map<string, number>;
  private readonly poolIndex: Map<string, number>;
  /** Per replica: its pool, its GPUs (NaN: a share of FinishContext.gpus). */
  private readonly replicaPools: number[];
  private readonly replicaGpus: number[];
  /** Per replica: whether it serves only mirrored copies. */
  private readonly shadowReplica: boolean[] = [];
  private readonly detailed: boolean;
  /** Pools differ in block size: fragmentation is measured per replica's pool (else against one size). */
  private readonly mixedBlocks: boolean;
  /** Decisions of the traffic rules, written to events.arrow and summary.json `events`. */
  readonly events = new EventLog();
  private readonly lifetimes: ReplicaLifetimes;
  private readonly priorities: PriorityClasses;
  private readonly figures: IterationFigures;
  private readonly warmup_s: number;
  private readonly slo: SloTargets;
  /** Latency samples past a few per group go here (a run with an output folder), to keep memory flat in the requests. */
  private readonly spill: SpillFile | undefined;
  private readonly stepWindow: number | undefined;
  private state: 'open' | 'finished' | 'aborted' = 'open';
  private createdRoot: string | undefined;
  private firstArrival_s = Infinity;
  private firstMeasuredArrival_s = Infinity;
  private lastFinish_s = -Infinity;

  constructor(opts: MetricsSinkOptions) {
    this.warmup_s = opts.warmup_s;
    this.slo = opts.slo;
    this.stepWindow = opts.stepWindow;
    // Made changeable at once: every record call reads `state`, and V8 folds a field never yet
    // changed into its optimised code as a constant. finish() changing it then discarded those
    // calls just as the band's re-runs, which share them, began.
    this.state = 'finished';
    this.state = 'open';
    // The file is made in the temporary folder on the first write: a run that fits in memory writes none.
    this.spill = opts.dir === undefined ? undefined : new SpillFile(join(temporaryFolder(resolve(opts.dir)), SPILL_FILE));
    if (opts.block_size !== undefined && !(opts.block_size > 0)) throw new Error(`block_size ${opts.block_size} is not a positive number`);
    this.figures = new IterationFigures(opts.block_size ?? 0);
    this.pools = opts.pools ?? DEFAULT_POOLS;
    // A trace's model no pool serves gets its own entry: its rejections are its own, not another model's.
    this.models = [...new Set([...(opts.models ?? this.pools.map((p) => p.model)), ...(opts.extra_models ?? [])])];
    this.modelIndex = new Map(this.models.map((m, i) => [m, i]));
    this.poolIndex = new Map(this.pools.map((p, i) => [p.name, i]));
    this.unrouted = this.models.map(() => new GroupAccumulator(undefined, this.spill));
    this.poolUnrouted = this.pools.map(() => new GroupAccumulator(undefined, this.spill));
    this.detailed = opts.detailed ?? false;
    this.mixedBlocks = new Set(this.pools.map((p) => p.block_size ?? opts.block_size)).size > 1;
    this.replicaPools = [...(opts.replica_pools ?? new Array<number>(opts.replicas).fill(0))];
    this.replicaGpus = [...(opts.replica_gpus ?? new Array<number>(opts.replicas).fill(NaN))];
    if (this.replicaPools.length !== opts.replicas || this.replicaGpus.length !== opts.replicas) throw new Error('replica_pools and replica_gpus must list every initial replica');
    this.lifetimes = new ReplicaLifetimes(opts.replicas, opts.replica_gpus);
    for (let r = 0; r < opts.replicas; r++) this.growReplicas(this.replicaPools[r]);
    this.priorities = new PriorityClasses(this.itlPools, this.spill);
    this.clusterTable = withDictionaries(CLUSTER_COLUMNS, { pool: this.pools.map((p) => p.name) });
    const columns = withDictionaries(REQUEST_COLUMNS, { pool: ['', ...this.pools.map((p) => p.name)], model: ['', ...new Set([...this.models, ...this.pools.map((p) => p.model)].filter((m) => m !== ''))] });
    if (opts.dir === undefined) return;
    const dir = (this.dir = resolve(opts.dir));
    assertReplaceable(dir);
    withPath(FIELD, 'clean up beside', dir, () => removeStaleTemporaries(dir, TEMPORARY_FILES));
    const tmpDir = (this.tmpDir = temporaryFolder(dir));
    withPath(FIELD, 'create', dir, () => {
      rmSync(tmpDir, { recursive: true, force: true });
      // The first folder made: on abort it goes too, so a failed run leaves no new parents.
      this.createdRoot = makeFolders(tmpDir);
    });
    try {
      withPath(FIELD, 'write', join(tmpDir, WRITER_MARK), () => markWriter(tmpDir));
      this.requests = new ArrowFileWriter(join(tmpDir, 'requests.arrow'), columns, opts.batchRows);
      this.writeRequest = rowWriter(this.requests, columns);
      this.iterations = new ArrowFileWriter(join(tmpDir, 'iterations.arrow'), ITERATION_COLUMNS, opts.batchRows);
      this.writeIteration = rowWriter(this.iterations, ITERATION_COLUMNS);
      // A row per pool per interval: small batches, so a short run does not allocate a 64k-row batch it never fills.
      this.cluster = new ArrowFileWriter(join(tmpDir, 'cluster.arrow'), this.clusterTable, Math.min(opts.batchRows ?? CLUSTER_BATCH_ROWS, CLUSTER_BATCH_ROWS));
      this.writeCluster = rowWriter(this.cluster, this.clusterTable);
      if (opts.writeTokens) {
        this.tokens = new ArrowFileWriter(join(tmpDir, 'tokens.arrow'), TOKEN_COLUMNS, opts.batchRows);
        this.writeToken = rowWriter(this.tokens, TOKEN_COLUMNS);
      }
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  /** Replicas so far, retired ones included: indices run 0..replicas − 1. */
  get replicas(): number {
    return this.groups.length;
  }

  /**
   * A replica that joins the run at `start_s` with `gpus` GPUs (autoscaling, a replacement):
   * returns its index (the next one). Its requests, steps and summary entry are like any other's;
   * its GPU-hours run from `start_s`.
   */
  addReplica(start_s: number, gpus: number, pool = 0): number {
    this.assertOpen();
    if (this.pools[pool] === undefined) throw new Error(`replica added to pool ${pool}: no such pool (0..${this.pools.length - 1})`);
    const index = this.lifetimes.add(start_s, gpus);
    this.replicaPools.push(pool);
    this.replicaGpus.push(gpus);
    this.growReplicas(pool);
    return index;
  }

  /** Replica `index` stopped serving at `end_s`: its GPU-hours end there. Record its last requests and steps before or after, as they happen. */
  retireReplica(index: number, end_s: number): void {
    this.assertOpen();
    this.lifetimes.retire(index, end_s);
  }

  recordRequest(o: RequestOutcome): void {
    this.assertOpen();
    const model = o.model ?? (o.replica >= 0 ? this.pools[this.replicaPools[o.replica]]?.model : this.models[0]) ?? '';
    const group = o.replica === -1 ? this.unroutedGroup(o, model) : this.groups[o.replica];
    if (group === undefined) throw new Error(`request ${o.request_id}: replica ${o.replica} outside 0..${this.groups.length - 1}`);
    if (!(Number.isInteger(o.priority) && Number.isInteger(o.samples) && Number.isInteger(o.sequences) && o.samples >= 1 && o.sequences >= o.samples)) {
      throw new Error(`request ${o.request_id}: priority ${o.priority}, samples ${o.samples}, sequences ${o.sequences} (need integers, 1 ≤ samples ≤ sequences)`);
    }
    const measured = o.arrival_s >= this.warmup_s;
    const pool = group.pooledGaps(o, measured);
    const client = o.shadow !== true;
    if (client) this.priorities.prepare(o.priority);
    const row = requestRow(o, pool, REQUEST_SCRATCH, this.writeRequest !== undefined, o.replica >= 0 ? this.stamps[o.replica] : undefined);
    row.pool = o.replica >= 0 ? this.pools[this.replicaPools[o.replica]].name : (o.pool ?? '');
    row.model = model;
    group.add(o, row, measured, this.slo);
    // A mirrored copy is its pool's load only: no client waits for it, so it shapes no client figure or span.
    if (client) {
      this.priorities.add(o, row, measured, this.slo, pool !== undefined && o.replica >= 0);
      if (o.arrival_s < this.firstArrival_s) this.firstArrival_s = o.arrival_s;
      if (measured && o.arrival_s < this.firstMeasuredArrival_s) this.firstMeasuredArrival_s = o.arrival_s;
      if (o.finish_s > this.lastFinish_s) this.lastFinish_s = o.finish_s;
    }
    this.writeRequest?.(row);
    const writeToken = this.writeToken;
    if (writeToken !== undefined) {
      const times = o.token_times_s;
      const t = TOKEN_SCRATCH;
      t.request_id = o.request_id;
      for (let i = 0; i < times.length; i++) {
        t.index = i;
        t.time_s = times[i];
        writeToken(t);
      }
    }
  }

  /**
   * The time replica `replica`'s step `step` (0, 1, … in order) stamped its tokens with. Call it as
   * the step completes, before recording any request it finishes: token gaps between consecutive
   * steps are pooled as counts against these stamps.
   */
  recordStepStamp(replica: number, step: number, stamp_s: number): StepStamps {
    const stamps = this.stamps[replica];
    stamps.push(step, stamp_s);
    return stamps;
  }

  /** `recordStepStamp` as a copy of these stamps in the run's thread made room (sinkThread.ts). */
  recordStepStampAs(replica: number, step: number, stamp_s: number, room: number): void {
    this.stamps[replica].pushAs(step, stamp_s, room);
  }

  stampsOf(replica: number): StepStamps {
    return this.stamps[replica];
  }

  /** Sequences reading their token times from replica `replica`'s step stamps (Sequence.stampToken). */
  stepStampPins(replica: number): number {
    return this.stamps[replica].pinned;
  }

  /**
   * One engine step, as an iterations.arrow row. The caller fills one record (`newIterationRecord`)
   * and passes it for every step: the engine's hottest record allocates nothing. The sink keeps
   * nothing of it past the call.
   */
  recordIteration(it: IterationRecord): void {
    if (this.state !== 'open') this.assertOpen();
    if (this.mixedBlocks) this.figures.add(it, this.pools[this.replicaPools[it.replica]].block_size);
    else this.figures.add(it);
    this.writeIteration?.(it);
  }

  /** A record to fill and pass to `recordClusterRow` (reused: the sink keeps nothing of it). */
  newClusterRow(): ClusterRow {
    return newRow(this.clusterTable);
  }

  /** One cluster.arrow row: a pool's state at the end of an interval. */
  recordClusterRow(row: ClusterRow): void {
    this.assertOpen();
    this.writeCluster?.(row);
  }

  /** Computes the summary; with a folder, also closes the files, writes summary.json and publishes `<dir>`. */
  finish(ctx: FinishContext): Summary {
    this.assertOpen();
    try {
      const span = { first_arrival_s: this.firstArrival_s, first_measured_arrival_s: this.firstMeasuredArrival_s, last_finish_s: this.lastFinish_s };
      const client = (_: unknown, k: number): boolean => !this.pools[k].shadow;
      const overall = [...this.groups.filter((_, r) => !this.shadowReplica[r]), ...this.poolUnrouted.filter(client), ...this.unrouted];
      const pools = this.detailed ? this.poolRecords() : undefined;
      const summary = buildSummary(
        { replicas: this.groups, overall, pools, events: this.events.summary(), priorities: this.priorities, lifetimes: this.lifetimes, span, slo: this.slo, warmup_s: this.warmup_s, kv: this.figures.figures() },
        ctx,
      );
      this.spill?.close();
      if (this.tmpDir !== undefined && this.dir !== undefined) {
        this.requests?.close();
        this.iterations?.close();
        this.tokens?.close();
        this.cluster?.close();
        this.events.write(this.tmpDir);
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
    for (const w of [this.requests, this.iterations, this.tokens, this.cluster, this.spill]) {
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

  private growReplicas(pool: number): void {
    const stamps = new StepStamps(this.spill, this.stepWindow);
    const group = new GroupAccumulator(stamps, this.spill);
    const shadow = this.pools[pool].shadow;
    this.stamps.push(stamps);
    this.groups.push(group);
    this.shadowReplica.push(shadow);
    // Priority classes pool client gaps only: a shadow replica offers them an empty pool.
    this.itlPools.push(shadow ? new GapPool(new StepStamps()) : group.itl_s);
  }

  /** Where a request rejected before reaching a replica counts: its model's (a mirrored copy's apart). */
  private unroutedGroup(o: RequestOutcome, model: string): GroupAccumulator | undefined {
    const pool = o.pool === undefined ? undefined : this.poolIndex.get(o.pool);
    if (pool !== undefined) return this.poolUnrouted[pool];
    if (o.shadow === true) throw new Error(`request ${o.request_id}: a mirrored copy rejected outside any pool`);
    return this.unrouted[this.modelIndex.get(model) ?? -1];
  }

  private poolRecords(): PoolRecords {
    return {
      pools: this.pools,
      replica_pools: this.replicaPools,
      replica_gpus: this.replicaGpus,
      replicas: this.groups,
      unrouted: this.unrouted,
      pool_unrouted: this.poolUnrouted,
      models: this.models,
      gpu_hours: null,
    };
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new Error(`MetricsSink is ${this.state}`);
  }
}

/** Where a run writes its outputs before publishing them as `dir`. */
function temporaryFolder(dir: string): string {
  return `${dir}.tmp-${process.pid}`;
}
