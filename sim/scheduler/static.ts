import type { SchedulerFactory } from './scheduler.js';
import { RequestLevelScheduler } from './requestLevel.js';
import { reservedTraits, stepBudget, V0_DEFAULTS } from './traits.js';

/**
 * Static request-level batching (FasterTransformer-style): an idle replica takes up to
 * `max_batch_size` waiting requests FCFS whose KV reservation fits (`orca_reservation` rule),
 * prefills them together and decodes the batch until its last request finishes; no request
 * joins a running batch. See `RequestLevelScheduler` for the exact rules.
 */
export class StaticScheduler extends RequestLevelScheduler {
  protected readyToDispatch(): boolean {
    return true;
  }
}

export const STATIC: SchedulerFactory = {
  name: 'static',
  create: (kv, limits) => new StaticScheduler(kv, limits),
  samples: 'separate',
  traits: reservedTraits(['max_batch_size']),
  defaults: (ctx) => stepBudget(V0_DEFAULTS, ctx),
  emulates: 'static request-level batching (FasterTransformer-style): a batch runs until its last request finishes',
};
