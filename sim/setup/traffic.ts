import { fieldError } from '../errors.js';
import type { ScenarioInput, TrafficInput } from '../scenario/types.js';
import type { ResolvedPool } from './types.js';

/**
 * A p99 over fewer than 100 requests is their maximum: a canary's step waits for at least this
 * many of its requests in an interval unless the scenario says otherwise.
 */
export const DEFAULT_CANARY_MIN_REQUESTS = 100;

/**
 * Checks `traffic` and the workload's models against the pools; returns traffic with its
 * defaults filled (undefined without a traffic section).
 */
export function checkTraffic(input: ScenarioInput, pools: readonly ResolvedPool[]): TrafficInput | undefined {
  const t = input.traffic;
  checkWorkloadModels(input, pools);
  if (t === undefined) return undefined;
  const named = (field: string, name: string): ResolvedPool => {
    const pool = pools.find((p) => p.name === name);
    if (pool === undefined) throw fieldError(field, `names no pool (pools are ${pools.map((p) => p.name).join(', ')})`, name);
    return pool;
  };
  if (t.split !== undefined && t.canary !== undefined) {
    throw fieldError('traffic.split', 'and traffic.canary both divide one model’s traffic: use one of them', t.split.map((s) => s.pool));
  }
  const shadow = t.shadow;
  if (shadow !== undefined) {
    named('traffic.shadow.source', shadow.source);
    named('traffic.shadow.target', shadow.target);
    if (shadow.source === shadow.target) throw fieldError('traffic.shadow.target', 'must differ from traffic.shadow.source', shadow.target);
  }
  const divided = t.split?.map((s, i) => ({ field: `traffic.split[${i}].pool`, pool: s.pool })) ??
    (t.canary === undefined ? [] : [{ field: 'traffic.canary.baseline', pool: t.canary.baseline }, { field: 'traffic.canary.canary', pool: t.canary.canary }]);
  checkDivided(divided.map((d) => ({ ...d, resolved: named(d.field, d.pool) })), pools, shadow?.target);
  checkSticky(input, t);
  const canary = t.canary === undefined ? {} : { canary: { ...t.canary, min_requests: t.canary.min_requests ?? DEFAULT_CANARY_MIN_REQUESTS } };
  return { ...t, sticky_by: t.sticky_by ?? 'none', ...canary };
}

/** The pools a split or canary divides: distinct, one model, every pool of that model, none a shadow target. */
function checkDivided(divided: { field: string; pool: string; resolved: ResolvedPool }[], pools: readonly ResolvedPool[], shadowTarget: string | undefined): void {
  if (divided.length === 0) return;
  const model = divided[0].resolved.model;
  const seen = new Set<string>();
  for (const d of divided) {
    if (seen.has(d.pool)) throw fieldError(d.field, 'names a pool already named: each pool takes one share', d.pool);
    seen.add(d.pool);
    if (d.resolved.model !== model) throw fieldError(d.field, `serves ${d.resolved.model} but ${divided[0].pool} serves ${model}: traffic is divided between pools of one model`, d.pool);
    if (d.pool === shadowTarget) throw fieldError(d.field, 'is the shadow target, which takes mirrored copies only', d.pool);
  }
  // A decode pool takes its requests from prefill pools, never a share of the gateway's.
  const left = pools.find((p) => p.model === model && !seen.has(p.name) && p.name !== shadowTarget && p.role !== 'decode');
  if (left !== undefined) {
    throw fieldError(divided[0].field.replace(/\[\d+\]\.pool$|\.baseline$/, ''), `leaves out pool ${left.name}, which serves ${model} too: give it a share, or another model`, [...seen]);
  }
}

/** Sticky by user needs users (a generator's population or a trace's user column); by session, a generator's sessions. */
function checkSticky(input: ScenarioInput, t: TrafficInput): void {
  const w = input.workload;
  if (t.sticky_by === 'session' && w.trace === undefined && w.sessions === undefined) {
    throw fieldError('traffic.sticky_by', 'session needs sessions (workload.sessions): without them every request would be drawn on its own', t.sticky_by);
  }
  if (t.sticky_by !== 'user') return;
  if (w.trace !== undefined ? w.trace.columns?.user === undefined : w.users === undefined) {
    throw fieldError(
      'traffic.sticky_by',
      w.trace !== undefined ? 'user needs the trace’s user column (workload.trace.columns.user)' : 'user needs a population of users (workload.users)',
      t.sticky_by,
    );
  }
}

/** A model a generator draws must be served by some pool (traces reject such requests as they come). */
function checkWorkloadModels(input: ScenarioInput, pools: readonly ResolvedPool[]): void {
  const models = input.workload.models;
  const served = new Set(pools.filter((p) => p.name !== input.traffic?.shadow?.target).map((p) => p.model));
  if (models === undefined) {
    // Requests that name no model ask for the top-level one: some pool must serve it.
    if (input.workload.trace?.columns?.model === undefined && !served.has(input.model)) {
      throw fieldError('model', `no pool serves it, and it is the model every request asks for (pools serve ${[...served].join(', ')}); name a served model, or give workload.models`, input.model);
    }
    return;
  }
  if (input.workload.trace !== undefined) {
    throw fieldError('workload.models', 'is for generated requests; a trace names each request’s model in a column (workload.trace.columns.model)', models.map((m) => m.name));
  }
  models.forEach((m, i) => {
    if (!served.has(m.name)) throw fieldError(`workload.models[${i}].name`, `no pool serves this model (pools serve ${[...served].join(', ')})`, m.name);
  });
}
