import { ROUTERS } from '../../sim/routing/registry.js';
import { DEFAULT_ROUTER_OPTIONS, type ReplicaLoad, type Router, type RouterOptions } from '../../sim/routing/router.js';
import type { Request } from '../../sim/workload/request.js';

/** Candidates with the given figures; the index is the position unless given, every other figure 0 (pool `default`). */
export function candidates(figures: Partial<ReplicaLoad>[]): ReplicaLoad[] {
  return figures.map((f, index) => ({
    index,
    outstanding: 0,
    waiting: 0,
    kv_used_fraction: 0,
    outstanding_tokens: 0,
    pool: 'default',
    cached_prefix_tokens: () => 0,
    has_adapter: () => false,
    free_adapter_slots: 0,
    ...f,
  }));
}

/** A registered router with the default settings but `options`. */
export function make(name: string, options: Partial<RouterOptions> = {}): Router {
  return ROUTERS[name].create(3, { ...DEFAULT_ROUTER_OPTIONS, ...options });
}

/** A request with a prompt of `input_tokens`. */
export const prompt = (input_tokens: number): Request => ({ id: 0, arrival_s: 0, input_tokens, output_tokens: 1 }) as Request;
