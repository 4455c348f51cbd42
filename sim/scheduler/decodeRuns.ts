import { clearKeepingStorage, objectList } from '../engine/arrays.js';
import type { BlockManager } from '../kv/blockManager.js';
import type { KvState } from '../kv/kvState.js';
import type { BatchShape } from '../latency/batch.js';
import type { Sequence } from './sequence.js';

/** Steps a run may span, and the length of the rings below (a power of two). */
const RING = 1024;
const MASK = RING - 1;

/**
 * Plain decodes advanced without touching each sequence on each step (docs/lazy-decode.md).
 *
 * A running sequence that has just decoded a token, whose next token lands in its lazily kept
 * last KV block and is not its last, is in a *run*: on each step until its last token it takes one
 * token of budget, writes one KV slot and emits one token stamped with the step's time. Such steps
 * are accounted here in aggregate (a count and a sum of context lengths for the batch shape, one
 * subtraction from the pool's unused slots). Where its blocks are private (no other holder can
 * find them), a run touches no sequence until it ends: the steps whose tokens open a block are
 * counted when it starts (`takes`), each such step takes that many blocks from the pool at once,
 * and the run claims its blocks, fills and registers them when it ends (`BlockManager.claimRun`).
 * Otherwise two steps a block need the sequence itself, its *KV events* (`kvEvent`): the token that
 * fills its block (the block enters the prefix cache, where others may find it) and the one that
 * takes a new block. The scheduler runs them in list order among the other sequences'
 * allocations, as a stepped decode would run them. The sequence is brought up to date
 * (`finish`) when its run ends, before its last token or before anything else reads it: its
 * computed and generated counts, its token stamps (from the step times kept in a ring) and its KV
 * fill, exactly as if it had been stepped one step at a time. While in a run its
 * `computed_tokens`, `generated_tokens` and token stamps are those of the run's start, and its
 * lazily kept fill that of its last KV event (`run_kv_from`).
 */
export class DecodeRuns {
  /** Sequences in a run. */
  count = 0;
  /** Σ over them of their context length (the new token included) in the step formed next. */
  context_tokens = 0;
  /** The token time of each completed step, at step mod RING. */
  private readonly times = new Float64Array(RING);
  /** At s mod RING: sequences with a KV event at step s or whose run ends before it (`run_next`; stale entries are skipped). */
  private readonly due: Sequence[][] = Array.from({ length: RING }, () => objectList<Sequence>());
  /** The holder a KV event allocates for: the sequence with its computed tokens as they stand at the event. */
  private readonly owner: { kv: KvState; computed_tokens: number } = { kv: undefined as unknown as KvState, computed_tokens: 0 };
  /** At s mod RING: blocks that runs without KV events (`run_take_from` ≥ 0) take in step s, one per run at a block boundary. */
  private readonly takes = new Int32Array(RING);
  /** Blocks such runs took and have not claimed yet (`BlockManager.claimRun`, when each run ends). */
  private owed = 0;

  constructor(private readonly kv: BlockManager) {}

  /** Step `step` completed, its tokens stamped `token_time_s`. */
  stepEnded(step: number, token_time_s: number): void {
    this.times[step & MASK] = token_time_s;
  }

  /**
   * Puts `seq`, which plain-decoded a token in step `step` (now applied) and keeps running, into a
   * run from step + 1, when its next token lands in its lazily kept block and is not its last.
   */
  tryStart(seq: Sequence, step: number): void {
    const c = seq.computed_tokens;
    if (seq.lazy_until <= c || seq.lazy_fill !== c - seq.lazy_base) return;
    // Decoding: a prompt's last token, left alone by a chunk, is no decode (nor stamped as one).
    if (seq.known_tokens - c !== 1 || seq.in_prefill || seq.handoff_at >= 0 || seq.draft_tokens !== 0) return;
    // Steps up to the one before its last token, within the step-time ring.
    const span = Math.min(seq.output_tokens - seq.generated_tokens - 1, RING - 1);
    if (span <= 0) return;
    seq.run_from = step + 1;
    seq.run_last = step + span;
    seq.run_kv_from = step + 1;
    seq.run_take_from = -1;
    this.count++;
    this.context_tokens += c + 1;
    if (this.withoutEvents(seq)) this.countTakes(seq);
    this.listNext(seq);
  }

  /**
   * Whether the run of `seq` can do without KV events: its lazily kept block and every later one
   * private (no index entry another holder could find, `BlockKeys.privateFrom`), so that filling
   * them and registering them can wait for the run's end unseen. Its blocks are then taken by
   * count per step (`takes`) and claimed when the run ends.
   */
  private withoutEvents(seq: Sequence): boolean {
    const kv = this.kv;
    return !kv.prefix_caching || seq.lazy_base / kv.block_size >= kv.keys.privateFrom(seq.keys);
  }

  /** Counts, at each step of the run of `seq` whose token opens a block, the block it takes then. */
  private countTakes(seq: Sequence): void {
    // Slot c (0-based) is written at step run_from + c − computed; the slot past the lazily kept
    // range fills its block, the next one opens a block, and so every block_size slots.
    const first = seq.run_from + seq.lazy_until + 1 - seq.computed_tokens;
    seq.run_take_from = first;
    for (let s = first; s <= seq.run_last; s += this.kv.block_size) this.takes[s & MASK]++;
  }

  /**
   * Whether step `step` holds the runs as they stand and nothing of theirs to do: none ends or has
   * a KV event in it (nothing listed there, not even a stale entry), their tokens fit `budget`, and
   * the blocks its boundaries take fit `free_blocks`.
   */
  quietAt(step: number, budget: number, free_blocks: number): boolean {
    return this.count > 0 && this.count <= budget && this.due[step & MASK].length === 0 && this.takes[step & MASK] <= free_blocks;
  }

  /** Blocks the runs without KV events take in step `step`. */
  takesAt(step: number): number {
    return this.takes[step & MASK];
  }

  /** The step `step` is being formed with the runs: they take their blocks for it (`takesAt`). */
  takeBlocks(step: number): void {
    const n = this.takes[step & MASK];
    if (n === 0) return;
    this.takes[step & MASK] = 0;
    this.kv.takeOwed(n);
    this.owed += n;
  }

  /** Lists `seq` at its next KV event, or at its run's end if that comes first. */
  private listNext(seq: Sequence): void {
    // A run writes token t (1-based) at step run_from + t − 1 − computed_tokens; its next event
    // is the token past its lazily kept range (the one that fills the block), or, with no lazy
    // range (its block just filled), the next token (the one that takes a new block).
    const event = seq.run_take_from >= 0 ? Infinity : seq.lazy_until > 0 ? seq.run_from + seq.lazy_until - seq.computed_tokens : seq.run_kv_from;
    const next = Math.min(event, seq.run_last + 1);
    seq.run_next = next;
    this.due[next & MASK].push(seq);
  }

  /**
   * The runs due at step `step` (the one being formed): those that end go to `ended` (now brought
   * up to date), those with a KV event to `events` (still in their runs).
   */
  takeDue(step: number, ended: Sequence[], events: Sequence[]): void {
    const list = this.due[step & MASK];
    for (let i = 0; i < list.length; i++) {
      const seq = list[i];
      // Listed for a run that has ended since (and maybe one that started later).
      if (seq.run_from < 0 || seq.run_next !== step) continue;
      if (step === seq.run_last + 1) {
        this.finish(seq, step);
        ended.push(seq);
      } else {
        // Listed here twice (once for a run that ended early, once for the one after): taken once.
        seq.run_next = -1;
        events.push(seq);
      }
    }
    clearKeepingStorage(list);
  }

  /** The KV blocks the pending KV event of `seq` takes: one where its block just filled (the next token opens one), else none. */
  eventBlocks(seq: Sequence): number {
    return seq.lazy_until > 0 ? 0 : 1;
  }

  /**
   * The KV event of `seq` at step `step`: its slot for this step is allocated as a stepped decode's
   * is (`BlockManager.allocateSlots`: filling the block registers it; the next token takes a new
   * block and keeps it lazily), after the slots its run wrote since its last event are caught up.
   * The caller has made sure the pool has the block.
   */
  kvEvent(seq: Sequence, step: number): void {
    const written = step - seq.run_kv_from;
    if (written > 0) seq.lazyAdvance(written);
    const owner = this.owner;
    owner.kv = seq;
    owner.computed_tokens = seq.computed_tokens + (step - seq.run_from);
    if (!this.kv.allocateSlots(owner, owner.computed_tokens + 1)) throw new Error(`request ${seq.id}: KV blocks short in a decode run's event at step ${step}`);
    seq.run_kv_from = step + 1;
    this.listNext(seq);
  }

  /** The step formed next has the runs in its batch, one decode token each; `events` of them had their slot allocated by `kvEvent`. */
  addToBatch(batch: BatchShape, events: number): void {
    const n = this.count;
    batch.decode_seqs += n;
    batch.decode_tokens += n;
    batch.decode_context_tokens += this.context_tokens;
    batch.emitting_seqs += n;
    this.kv.fillLazySlots(n - events);
  }

  /** The step formed with `addToBatch` is under way: in the next, each context is one token longer. */
  advance(): void {
    this.context_tokens += this.count;
  }

  /**
   * Ends the run of `seq` before step `step`: it was in every step from its start up to then,
   * all completed, and wrote its slots lazily up to step `kv_through` (excluded). Brings its
   * counts, token stamps and KV fill up to date.
   */
  finish(seq: Sequence, step: number, kv_through = step): void {
    const from = seq.run_from;
    const n = step - from;
    if (!(n >= 0 && from + n <= seq.run_last + 1)) {
      throw new Error(`request ${seq.id}: its decode run from step ${from} to ${seq.run_last} ended at step ${step}`);
    }
    seq.run_from = -1;
    seq.stampRun(this.times, MASK, from, n);
    const c = seq.computed_tokens;
    seq.computed_tokens += n;
    if (seq.run_take_from >= 0) this.claim(seq, from, c, kv_through);
    else {
      const written = kv_through - seq.run_kv_from;
      if (written > 0) seq.lazyAdvance(written);
    }
    this.count--;
    this.context_tokens -= seq.computed_tokens + 1;
  }

  /**
   * A run without KV events (from step `from`, when `seq` held `computed` slots) wrote its slots up
   * to step `kv_through` (excluded): it claims the blocks its boundaries before then took, and the
   * boundaries from then on take none.
   */
  private claim(seq: Sequence, from: number, computed: number, kv_through: number): void {
    const B = this.kv.block_size;
    let s = seq.run_take_from;
    while (s < kv_through) s += B;
    for (; s <= seq.run_last; s += B) this.takes[s & MASK]--;
    seq.run_take_from = -1;
    this.owed -= this.kv.claimRun(seq, computed, computed + (kv_through - from));
    if (this.owed < 0) throw new Error(`request ${seq.id}: its decode run claimed more KV blocks than the runs took`);
  }

  /**
   * The replica failed while step `step` was formed (`in_flight`) or about to be: `seq` is brought
   * up to that step, and as a sequence of the lost step holds its token scheduled (and its KV slot
   * written), as the failure accounting expects.
   */
  abandon(seq: Sequence, step: number, in_flight: boolean): void {
    // The lost step wrote its slot: lazily, or in a KV event (then run_kv_from is past it already).
    this.finish(seq, step, in_flight ? step + 1 : step);
    if (in_flight) {
      seq.scheduled_tokens = 1;
      // `advance` had counted its context in the step after the lost one.
      this.context_tokens -= 1;
    }
  }

  /** After every run ended (`finish` on each): nothing is left to account. */
  clear(): void {
    if (this.count !== 0 || this.context_tokens !== 0 || this.owed !== 0) {
      throw new Error(`decode runs left ${this.count} sequences, ${this.context_tokens} context tokens and ${this.owed} blocks unclaimed after all ended`);
    }
  }
}
