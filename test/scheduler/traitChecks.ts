import { expect } from 'vitest';
import { InfersimError } from '../../sim/errors.js';
import { SCHEDULERS } from '../../sim/scheduler/registry.js';
import type { PolicyKey } from '../../sim/scheduler/scheduler.js';
import { resolveScenario, type ResolvedScenario } from '../../sim/setup/resolve.js';
import { scenario } from '../helpers.js';

/** The resolved scenario for `engine` on a small valid base (H100, max_model_len 4096), or the input error's message. */
function resolved(name: string, engine: Record<string, unknown>): ResolvedScenario | string {
  try {
    return resolveScenario(scenario({ engine: { scheduler: name, max_model_len: 4096, ...engine } })).scenario;
  } catch (err) {
    if (err instanceof InfersimError) return err.message;
    throw err;
  }
}

/** What the shared workloads and the random configurations need to know of a policy, read from its traits. */
export interface Caps {
  /** Pages the KV cache, so it may preempt (and may share cached prefixes). */
  paged: boolean;
  priority: boolean;
  swap: boolean;
  /** Request-level batching: seats are `max_batch_size`, and a batch's prompts run with no token budget. */
  request_level: boolean;
}

export function capsOf(name: string): Caps {
  const t = SCHEDULERS[name].traits;
  return {
    priority: t.priority,
    swap: t.preemption.modes.includes('swap'),
    paged: t.kv === 'paged',
    request_level: t.keys.includes('max_batch_size'),
  };
}

const accepted = (name: string, engine: Record<string, unknown>): boolean => typeof resolved(name, engine) !== 'string';

/**
 * The setup layer enforces exactly what the policy's traits declare: each engine key or value is
 * accepted where the traits allow it and refused where they do not, and the defaults it fills
 * are the traits' and the factory's. Keys listed side by side, so a failure names every disagreement.
 */
export function traitsAgreeWithSetup(name: string): void {
  const policy = SCHEDULERS[name];
  const t = policy.traits;
  const base = resolved(name, {});
  if (typeof base === 'string') throw new Error(`the base scenario is refused for ${name}: ${base}`);
  const e = base.engine;
  const defaults = policy.defaults({ gpu_class: 'large', usage: 'server', chunked: e.enable_chunked_prefill, max_model_len: 4096, vllm_version: e.vllm_version });
  expect({
    scheduler: e.scheduler,
    emulates: base.emulates,
    preemption: e.preemption,
    enable_prefix_caching: e.enable_prefix_caching,
    enable_chunked_prefill: e.enable_chunked_prefill,
    max_num_batched_tokens: e.max_num_batched_tokens,
    max_num_seqs: e.max_num_seqs,
  }).toEqual({
    scheduler: name,
    emulates: policy.emulates,
    preemption: t.preemption.default,
    enable_prefix_caching: t.prefix_caching,
    enable_chunked_prefill: t.chunking.rule !== 'never',
    max_num_batched_tokens: defaults.max_num_batched_tokens,
    max_num_seqs: defaults.max_num_seqs,
  });

  const half = t.block_size.multiple / 2;
  const keyValues: Record<PolicyKey, unknown> = { orca_reservation: 'pow2', max_batch_size: 8, batch_timeout_ms: 5 };
  const cases: [label: string, engine: Record<string, unknown>, allowed: boolean][] = [
    ...(['recompute', 'swap', 'auto'] as const).map((m): [string, Record<string, unknown>, boolean] => [`preemption ${m}`, { preemption: m }, t.preemption.modes.includes(m)]),
    ['swap space', { preemption: 'swap', swap_space_gb: 1 }, t.preemption.modes.includes('swap')],
    ['prefix caching', { enable_prefix_caching: true }, t.kv === 'paged'],
    ['priority', { scheduling_policy: 'priority' }, t.priority],
    ['chunked prefill on', { enable_chunked_prefill: true }, t.chunking.rule !== 'never'],
    ['chunked prefill off', { enable_chunked_prefill: false }, t.chunking.rule !== 'always'],
    [`block size ${t.block_size.multiple}`, { block_size: t.block_size.multiple }, true],
    ...(Number.isInteger(half) ? [[`block size ${half}`, { block_size: half }, false] as [string, Record<string, unknown>, boolean]] : []),
    // A reserving policy must be told how much to reserve (or how long a request may be).
    ['no reservation basis', { max_model_len: undefined }, t.kv === 'paged'],
    ...(Object.entries(keyValues) as [PolicyKey, unknown][]).map(([key, value]): [string, Record<string, unknown>, boolean] => [key, { [key]: value }, t.keys.includes(key)]),
  ];
  const label = (allowed: boolean) => (allowed ? 'accepted' : 'refused');
  const byTraits = Object.fromEntries(cases.map(([what, , allowed]) => [what, label(allowed)]));
  const bySetup = Object.fromEntries(cases.map(([what, engine]) => [what, label(accepted(name, engine))]));
  expect(bySetup).toEqual(byTraits);
}
