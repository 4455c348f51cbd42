import { clearKeepingStorage } from '../engine/arrays.js';
import type { BlockManager } from '../kv/blockManager.js';
import type { BatchShape } from '../latency/batch.js';
import type { Sequence } from './sequence.js';

/** Steps a run may span, and the length of the rings below (a power of two). */
const RING = 1024;
const MASK = RING - 1;

/**
 * Plain decodes advanced without touching each sequence on each step (docs/lazy-decode.md).
 *
 * A running sequence that has just decoded a token, whose next tokens land in its last KV block
 * (held alone, its fill kept lazily by its `KvState`) and are not its last, is in a *run*: for
 * each step until one of those stops holding, it would take one token of budget, write one KV
 * slot and emit one token stamped with the step's time, and nothing else. Such steps are
 * accounted here in aggregate (a count and a sum of context lengths for the batch shape, one
 * subtraction from the pool's unused slots), and the sequence is brought up to date (`finish`)
 * when its run ends or before anything else reads it: its computed and generated counts, its
 * token stamps (from the step times kept in a ring) and its KV fill, exactly as if it had been
 * stepped one step at a time. While in a run its `computed_tokens`, `generated_tokens` and token
 * stamps are those of the run's start.
 */
export class DecodeRuns {
  /** Sequences in a run. */
  count = 0;
  /** Σ over them of their context length (the new token included) in the step formed next. */
  context_tokens = 0;
  /** The token time of each completed step, at step mod RING. */
  private readonly times = new Float64Array(RING);
  /** At s mod RING: sequences whose run ends before step s (a sequence may be listed again after an earlier `finish`). */
  private readonly due: Sequence[][] = Array.from({ length: RING }, () => []);

  constructor(private readonly kv: BlockManager) {}

  /** Step `step` completed, its tokens stamped `token_time_s`. */
  stepEnded(step: number, token_time_s: number): void {
    this.times[step & MASK] = token_time_s;
  }

  /**
   * Puts `seq`, which plain-decoded a token in step `step` (now applied) and keeps running, into a
   * run from step + 1, when at least its next token qualifies; false when none does.
   */
  tryStart(seq: Sequence, step: number): boolean {
    const c = seq.computed_tokens;
    if (seq.lazy_until === 0 || seq.lazy_fill !== c - seq.lazy_base) return false;
    if (seq.known_tokens - c !== 1 || seq.handoff_at >= 0 || seq.draft_tokens !== 0) return false;
    // Steps whose token stays within the lazily kept block, and whose emitted token is not the last.
    const span = Math.min(seq.lazy_until - c, seq.output_tokens - seq.generated_tokens - 1, RING - 1);
    if (span <= 0) return false;
    seq.run_from = step + 1;
    seq.run_last = step + span;
    this.due[(step + span + 1) & MASK].push(seq);
    this.count++;
    this.context_tokens += c + 1;
    return true;
  }

  /** The step formed next has the runs in its batch: one decode token for each. */
  addToBatch(batch: BatchShape): void {
    const n = this.count;
    batch.decode_seqs += n;
    batch.decode_tokens += n;
    batch.decode_context_tokens += this.context_tokens;
    batch.emitting_seqs += n;
    this.kv.fillLazySlots(n);
  }

  /** The step formed with `addToBatch` is under way: in the next, each context is one token longer. */
  advance(): void {
    this.context_tokens += this.count;
  }

  /** Ends the runs due before step `step` (the one being formed), appending their sequences to `out`. */
  takeDue(step: number, out: Sequence[]): void {
    const list = this.due[step & MASK];
    for (let i = 0; i < list.length; i++) {
      const seq = list[i];
      // Listed earlier for a run that ended sooner (and maybe one that ends later since).
      if (seq.run_from < 0 || seq.run_last + 1 !== step) continue;
      this.finish(seq, step);
      out.push(seq);
    }
    clearKeepingStorage(list);
  }

  /**
   * Ends the run of `seq` before step `step`: it was in every step from its start up to then,
   * all completed. Brings its counts, token stamps and KV fill up to date.
   */
  finish(seq: Sequence, step: number): void {
    const from = seq.run_from;
    const n = step - from;
    if (!(n >= 0 && from + n <= seq.run_last + 1)) {
      throw new Error(`request ${seq.id}: its decode run from step ${from} to ${seq.run_last} ended at step ${step}`);
    }
    seq.run_from = -1;
    seq.stampRun(this.times, MASK, from, n);
    seq.computed_tokens += n;
    seq.lazyAdvance(n);
    this.count--;
    this.context_tokens -= seq.computed_tokens + 1;
  }

  /**
   * The replica failed while step `step` was formed (`in_flight`) or about to be: `seq` is brought
   * up to that step, and as a sequence of the lost step holds its token scheduled (and its KV slot
   * written), as the failure accounting expects.
   */
  abandon(seq: Sequence, step: number, in_flight: boolean): void {
    this.finish(seq, step);
    if (in_flight) {
      seq.scheduled_tokens = 1;
      seq.lazyAdvance(1);
      // `advance` had counted its context in the step after the lost one.
      this.context_tokens -= 1;
    }
  }

  /** After every run ended (`finish` on each): nothing is left to account. */
  clear(): void {
    if (this.count !== 0 || this.context_tokens !== 0) {
      throw new Error(`decode runs left ${this.count} sequences and ${this.context_tokens} context tokens after all ended`);
    }
  }
}
