import type { EventLog } from './events.js';
import type { ClusterRow, IterationRecord, RequestOutcome } from './records.js';
import type { StepStamps } from './stepStamps.js';
import type { FinishContext, Summary } from './summary.js';

/**
 * Where a run sends its records: a MetricsSink in the run's thread, or a SinkThread that hands
 * them to one in a thread of its own. The run only writes to it (nothing it records feeds back
 * into a decision), which is what lets the work move to another thread.
 */
export interface RunSink {
  /** Decisions of the traffic rules, autoscalers and faults: kept in the run's thread, written at the end. */
  readonly events: EventLog;
  /** Replicas so far, retired ones included. */
  readonly replicas: number;
  addReplica(start_s: number, gpus: number, pool?: number): number;
  retireReplica(index: number, end_s: number): void;
  recordRequest(o: RequestOutcome): void;
  recordStepStamp(replica: number, step: number, stamp_s: number): StepStamps;
  stepStampPins(replica: number): number;
  recordIteration(it: IterationRecord): void;
  newClusterRow(): ClusterRow;
  recordClusterRow(row: ClusterRow): void;
  finish(ctx: FinishContext): Summary;
  abort(): void;
}
