import { summarize } from '../metrics/stats.js';
import type { DisaggregationSummary } from '../metrics/summary.js';
import type { PoolRole } from '../scenario/types.js';
import { continuation, type Sequence } from '../scheduler/sequence.js';
import type { ResolvedTransfer } from '../setup/resolve.js';
import type { RunContext } from './context.js';
import { KV_TRANSFER_DONE } from './events.js';
import { KvLinks } from './kvLinks.js';
import { requestTokens } from './outcomes.js';
import type { Replica } from './replica.js';
import type { ReplicaSteps } from './steps.js';
import type { RouteGroup } from './traffic.js';

/** What a transfer needs of each pool: its role, a GPU's KV shard per token, and the model's layer count (layerwise overlap). */
export interface PoolKv {
  role: PoolRole;
  kv_bytes_per_token_per_gpu: number;
  /** The whole model's KV per token, every GPU's shard (what crosses the links in all). */
  kv_bytes_per_token: number;
  layers: number;
}

/** A sequence between its prefill replica and its decode replica. */
interface HandOff {
  /** The prefill side's holder: its blocks stay there until the transfer completes. */
  prev: Sequence;
  from: Replica;
  to: Replica;
  handoff_s: number;
  /** The prefill's last step, which a layerwise transfer overlaps. */
  last_step_s: number;
  start_s: number;
}


/**
 * Disaggregated prefill and decode. A prefill replica's sequence leaves after its prompt pass (its
 * first token emitted there); the decode pool's router picks a replica, whose scheduler admits it
 * when it can give it blocks; then its KV crosses the link, pulled into those blocks as vLLM's
 * NixlConnector does (the decode side allocates, then reads; the prefill side frees its blocks once
 * the read completes: vLLM docs, "NixlConnector usage", and vllm/distributed/kv_transfer). When the
 * KV lands the decode replica schedules its next token like any other.
 */
export class Disaggregation {
  private readonly pending = new Map<Sequence, HandOff>();
  private readonly links: KvLinks<Sequence>;
  private version = 0;
  private readonly stats = { transfers: 0, bytes: 0, tokens_cached_at_decode: 0 };
  private readonly waits_s: number[] = [];
  private readonly transfers_s: number[] = [];

  constructor(
    private readonly ctx: RunContext,
    private readonly transfer: ResolvedTransfer,
    /** Per pool: the decode group a prefill pool hands to (undefined for other pools). */
    private readonly decodeGroups: readonly (RouteGroup | undefined)[],
    /** Per pool. */
    private readonly kv: readonly PoolKv[],
    private readonly steps: ReplicaSteps,
  ) {
    this.links = new KvLinks((transfer.bandwidth_gbps * 1e9) / 8, transfer.latency_us / 1e6);
  }

  /** `seq` finished its prompt pass on prefill replica `from` at `now_s` (its step took `step_s`). */
  readonly handOff = (from: Replica, seq: Sequence, now_s: number, step_s: number): void => {
    const group = this.decodeGroups[from.pool_index];
    const candidates = group?.candidates() ?? [];
    if (group === undefined || candidates.length === 0) throw new Error(`request ${seq.id}: no decode replica for prefill pool ${from.pool}`);
    const request = seq.request;
    from.accrue(now_s);
    from.outstanding--;
    from.outstanding_tokens -= requestTokens(request);
    const to = candidates[group.router.route(request, candidates)];
    to.accrue(now_s);
    to.outstanding++;
    to.outstanding_tokens += requestTokens(request);
    // Waiting until its KV lands, as vLLM counts a request waiting for remote KV: queue-reading routers see it.
    to.waiting++;
    const next = continuation(seq, to.index);
    next.acct.prefill_replica = from.index;
    this.pending.set(next, { prev: seq, from, to, handoff_s: now_s, last_step_s: step_s, start_s: NaN });
    to.scheduler.enqueue(next);
    // Every hand-off of this instant reaches the decode replica before its pass.
    this.steps.requestSchedule(to, now_s, true);
  };

  /** A decode replica's pass gave blocks to these sequences: their transfers start. */
  readonly admitted = (to: Replica, seqs: readonly Sequence[], now_s: number): void => {
    for (const seq of seqs) {
      const h = this.pending.get(seq) as HandOff;
      h.start_s = now_s;
      seq.acct.kv_wait_s = now_s - h.handoff_s;
      this.waits_s.push(seq.acct.kv_wait_s);
      const tokens = seq.acct.kv_transfer_tokens;
      const src = this.kv[h.from.pool_index];
      const dst = this.kv[to.pool_index];
      // Every GPU of both sides moves its shard at once: the larger shard sets the time.
      const shard = tokens * Math.max(src.kv_bytes_per_token_per_gpu, dst.kv_bytes_per_token_per_gpu);
      this.links.add(now_s, h.from.index, to.index, shard - this.overlap(h, shard, now_s, src.layers), seq);
      this.stats.transfers++;
      this.stats.bytes += tokens * src.kv_bytes_per_token;
      this.stats.tokens_cached_at_decode += seq.prompt_tokens - tokens;
    }
    this.wake(now_s);
  };

  /**
   * Layerwise (Splitwise): each layer's KV leaves as soon as the prefill's last step has computed
   * it, so a transfer that starts the instant the prefill ends has already sent what the link
   * could carry during that step, all but the last layer at most. A decode replica that made it
   * wait for blocks had none to receive into then: no overlap.
   */
  private overlap(h: HandOff, shard: number, now_s: number, layers: number): number {
    if (!this.transfer.layerwise || now_s !== h.handoff_s) return 0;
    const bytes_per_s = (this.transfer.bandwidth_gbps * 1e9) / 8;
    return Math.min((shard * (layers - 1)) / layers, h.last_step_s * bytes_per_s);
  }

  /** KV_TRANSFER_DONE: a transfer may have started moving or completed (stale when a later change rescheduled). */
  onTransferEvent(target: number, now_s: number): boolean {
    if (target !== this.version) return false;
    for (const seq of this.links.advance(now_s)) this.land(seq, now_s);
    this.wake(now_s);
    return true;
  }

  private land(seq: Sequence, now_s: number): void {
    const h = this.pending.get(seq) as HandOff;
    this.pending.delete(seq);
    seq.acct.kv_transfer_s = now_s - h.start_s;
    this.transfers_s.push(seq.acct.kv_transfer_s);
    // The prefill side's blocks go back (into its prefix cache): its waiting prompts may fit now.
    h.from.kv.free(h.prev);
    this.steps.requestSchedule(h.from, now_s, true);
    h.to.accrue(now_s);
    h.to.waiting--;
    (h.to.scheduler.kvArrived as (s: Sequence) => void)(seq);
    this.steps.requestSchedule(h.to, now_s, true);
  }

  /** Queues the links' next change, superseding any queued before. */
  private wake(now_s: number): void {
    const next = this.links.next_s();
    if (next === Infinity) return;
    this.ctx.loop.schedule(Math.max(now_s, next), KV_TRANSFER_DONE, ++this.version);
  }

  /** Sequences handed off and not landed (0 at a clean end). */
  get in_flight(): number {
    return this.pending.size;
  }

  /** `replicas`: every replica of the run, which served from 0 to `end_s`. */
  summary(replicas: readonly Replica[], end_s: number): DisaggregationSummary {
    const four = (xs: number[]) => {
      const st = summarize([Float64Array.from(xs)]);
      return { mean: st.mean, p50: st.p50, p99: st.p99, max: st.max };
    };
    const busy = (role: PoolRole) => {
      const rs = replicas.filter((r) => this.kv[r.pool_index].role === role);
      return rs.length === 0 || !(end_s > 0) ? null : rs.reduce((acc, r) => acc + r.busyUntil(end_s), 0) / (end_s * rs.length);
    };
    return {
      transfer: { ...this.transfer }, ...this.stats,
      kv_wait_s: four(this.waits_s), kv_transfer_s: four(this.transfers_s),
      busy_fraction: { prefill: busy('prefill'), decode: busy('decode') },
    };
  }
}
