import type { EventKindSpec } from '../engine/loop.js';

/**
 * Every event kind of a cluster run, in one table whose order is the tie order at one instant
 * (test/cluster/eventOrder.test.ts pins each reason below):
 * - a step that ends frees KV and emits tokens before anything else looks at the replica;
 * - KV that lands (a prefill/decode hand-off) is usable by the arrivals and passes that follow;
 * - a replica that becomes ready or fails changes where arrivals may go, so it comes before them;
 * - arrivals at one instant are all queued before any time-out or scheduling pass, so requests
 *   that arrive together share their first step;
 * - a time-out at the instant a request would be scheduled wins (the client gave up first);
 * - control decisions (autoscaler ticks, canary evaluations, scripted actions) see the instant's
 *   arrivals and completions;
 * - scheduling passes run last, once everything else at the instant is known.
 * Only the relative order of the priorities matters.
 */
export const EVENT_KINDS = [
  { name: 'step_end', priority: 0 },
  { name: 'kv_transfer_done', priority: 1 },
  { name: 'replica_ready', priority: 2 },
  { name: 'replica_failed', priority: 2 },
  { name: 'arrival', priority: 3 },
  { name: 'timeout', priority: 4 },
  { name: 'control', priority: 5 },
  { name: 'schedule', priority: 6 },
] as const satisfies readonly EventKindSpec[];

type KindName = (typeof EVENT_KINDS)[number]['name'];

/** A kind's index in the table, found by name, so a row inserted above cannot shift another kind's handler. */
function kind(name: KindName): number {
  return EVENT_KINDS.findIndex((k) => k.name === name);
}

export const STEP_END = kind('step_end');
export const KV_TRANSFER_DONE = kind('kv_transfer_done');
export const REPLICA_READY = kind('replica_ready');
export const REPLICA_FAILED = kind('replica_failed');
export const ARRIVAL = kind('arrival');
export const TIMEOUT = kind('timeout');
/** Autoscaler ticks, canary evaluations and scripted actions (tests, what-if scripts). */
export const CONTROL = kind('control');
export const SCHEDULE = kind('schedule');
