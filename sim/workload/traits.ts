import { rngStream } from '../engine/rng.js';
import type { WorkloadSpec } from '../scenario/types.js';
import type { Request } from './request.js';

/** What a client brings to all of its requests: a shared system prompt and a priority class. */
export interface Traits {
  prefix_group: number | undefined;
  prefix_tokens: number | undefined;
  priority: number | undefined;
}

export interface PriorityClass {
  priority: number;
  weight: number;
  name: string;
}

/** The classes of `workload.priority`, names filled in (`p<priority>`), in the order given. */
export function priorityClasses(spec: WorkloadSpec): PriorityClass[] | undefined {
  return spec.priority?.classes.map((c) => ({ priority: c.priority, weight: c.weight, name: c.name ?? `p${c.priority}` }));
}

/**
 * Draws one client's traits, or undefined when the workload sets neither `prefix` nor `priority`.
 * Each key draws from its own stream ('prefix', 'priority') a fixed number of times per call, so one
 * key's settings never shift the other's draws. The prefix takes two draws, one to decide (u < fraction)
 * and one for the group, so raising `fraction` only adds prefixed requests and keeps every group.
 */
export function traitSampler(spec: WorkloadSpec, seed: number): (() => Traits) | undefined {
  const { prefix } = spec;
  const classes = priorityClasses(spec);
  if (prefix === undefined && classes === undefined) return undefined;
  const drawGroup = prefix === undefined ? undefined : groupPick(prefix, rngStream(seed, 'prefix'));
  const drawPriority = classes === undefined ? undefined : weightedPick(classes, rngStream(seed, 'priority'));
  return () => {
    const prefix_group = drawGroup?.();
    return {
      prefix_group,
      prefix_tokens: prefix_group === undefined ? undefined : prefix!.tokens,
      priority: drawPriority?.(),
    };
  };
}

function groupPick(prefix: { groups: number; fraction: number }, uniform: () => number): () => number | undefined {
  const { groups, fraction } = prefix;
  return () => {
    const u = uniform();
    const v = uniform();
    // Rounding can carry v · groups up to groups when v is just below 1 and groups is huge.
    return u < fraction ? Math.min(groups - 1, Math.floor(v * groups)) : undefined;
  };
}

/** Marks `request` with its client's traits; the caller puts the prefix tokens in front of the prompt. */
export function markTraits(request: Request, traits: Traits): void {
  if (traits.prefix_group !== undefined) {
    request.prefix_group = traits.prefix_group;
    request.prefix_tokens = traits.prefix_tokens;
  }
  if (traits.priority !== undefined) request.priority = traits.priority;
}

function weightedPick(classes: PriorityClass[], uniform: () => number): () => number {
  const cumulative: number[] = [];
  let total = 0;
  for (const c of classes) cumulative.push((total += c.weight));
  return () => {
    const x = uniform() * total;
    let i = 0;
    // The last class takes x that rounding pushes to (or past) the last cumulative sum.
    while (i < cumulative.length - 1 && x >= cumulative[i]) i++;
    return classes[i].priority;
  };
}
