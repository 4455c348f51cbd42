import type { BlockManager } from '../kv/blockManager.js';
import type { LatencyModel } from '../latency/model.js';
import type { ReplicaScheduler, StepPlan } from '../scheduler/scheduler.js';
import type { Sequence } from '../scheduler/sequence.js';
import type { ReplicaLoad } from './routers.js';

/** Token counts a replica has processed, for conservation checks. */
export interface ReplicaCounters {
  steps: number;
  prefill_tokens: number;
  decode_tokens: number;
  preemptions: number;
}

/**
 * One engine instance (a TP group): a scheduler, its KV pool and a latency model. The replica
 * runs at most one step at a time; `startStep` forms and times it, `completeStep` applies it.
 */
export class Replica implements ReplicaLoad {
  outstanding = 0;
  busy = false;
  /** Set when a scheduling pass is queued for the current instant (avoids duplicates). */
  schedulePending = false;
  private inFlight: readonly Sequence[] = [];
  readonly counters: ReplicaCounters = { steps: 0, prefill_tokens: 0, decode_tokens: 0, preemptions: 0 };

  constructor(
    readonly index: number,
    readonly scheduler: ReplicaScheduler,
    readonly kv: BlockManager,
    private readonly latency: LatencyModel,
  ) {}

  admit(seq: Sequence): void {
    this.scheduler.enqueue(seq);
  }

  /** Forms the next step at `now_s`; undefined when nothing can run. */
  startStep(now_s: number): StepPlan | undefined {
    const plan = this.scheduler.schedule(now_s);
    this.counters.preemptions += plan.preempted;
    if (plan.scheduled.length === 0) return undefined;
    // The scheduler reuses this array, but not before the step completes: no copy needed.
    this.inFlight = plan.scheduled;
    this.busy = true;
    this.counters.steps++;
    this.counters.prefill_tokens += plan.batch.prefill_tokens;
    this.counters.decode_tokens += plan.batch.decode_tokens;
    return plan;
  }

  stepDuration_s(plan: StepPlan): number {
    return this.latency.iterationTime_s(plan.batch);
  }

  /**
   * Applies the step that just ended: advances each sequence, stamps emitted tokens with
   * `token_time_s` and appends the sequences that finished (blocks already freed) to `finished`.
   */
  completeStep(token_time_s: number, finished: Sequence[]): void {
    this.busy = false;
    for (const seq of this.inFlight) {
      seq.computed_tokens += seq.scheduled_tokens;
      seq.scheduled_tokens = 0;
      if (seq.computed_tokens === seq.known_tokens) {
        seq.token_times_s[seq.generated_tokens++] = token_time_s;
        if (seq.generated_tokens === seq.output_tokens) {
          this.kv.free(seq);
          finished.push(seq);
        }
      }
    }
    this.scheduler.afterStep();
  }
}
