import { rngStream } from '../engine/rng.js';
import type { WorkloadSpec } from '../scenario/types.js';
import type { Request } from './request.js';
import { zipfRankSampler } from './zipf.js';
import { adapterSampler } from './adapters.js';

/**
 * What a client brings to all of its requests: a shared system prompt, a priority class, the model it
 * talks to and who it is. A session's turns share one client, so a conversation never switches model or user.
 */
export interface Traits {
  prefix_group: number | undefined;
  prefix_tokens: number | undefined;
  priority: number | undefined;
  model: string | undefined;
  user: number | undefined;
  adapter: number | undefined;
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
 * Draws one client's traits, or undefined when the workload sets none of `prefix`, `priority`, `models`,
 * `users` and `lora`. Each key draws from its own stream ('prefix', 'priority', 'models', 'users', 'lora') a fixed
 * number of times per call, so one key's settings never shift another's draws. The prefix takes two
 * draws, one to decide (u < fraction) and one for the group, so raising `fraction` only adds prefixed
 * requests and keeps every group.
 */
export function traitSampler(spec: WorkloadSpec, seed: number): (() => Traits) | undefined {
  const { prefix, models, users, lora } = spec;
  const classes = priorityClasses(spec);
  if (prefix === undefined && classes === undefined && models === undefined && users === undefined && lora === undefined) return undefined;
  const drawGroup = prefix === undefined ? undefined : groupPick(prefix, rngStream(seed, 'prefix'));
  const drawPriority = classes === undefined ? undefined : weightedPick(classes, rngStream(seed, 'priority'), (c) => c.priority);
  const drawModel = models === undefined ? undefined : weightedPick(models, rngStream(seed, 'models'), (m) => m.name);
  const drawUser = users === undefined ? undefined : zipfRankSampler(users, rngStream(seed, 'users'));
  const drawAdapter = lora === undefined ? undefined : adapterSampler(lora, rngStream(seed, 'lora'));
  return () => {
    const prefix_group = drawGroup?.();
    return {
      prefix_group,
      prefix_tokens: prefix_group === undefined ? undefined : prefix!.tokens,
      priority: drawPriority?.(),
      model: drawModel?.(),
      user: drawUser?.(),
      adapter: drawAdapter?.(),
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

/**
 * Marks `request` with its client's traits; the caller puts the prefix tokens in front of the prompt.
 * A trait the workload does not set adds no property, so plain requests keep their shape.
 */
export function markTraits(request: Request, traits: Traits): void {
  if (traits.prefix_group !== undefined) {
    request.prefix_group = traits.prefix_group;
    request.prefix_tokens = traits.prefix_tokens;
  }
  if (traits.priority !== undefined) request.priority = traits.priority;
  if (traits.model !== undefined) request.model = traits.model;
  if (traits.user !== undefined) request.user = traits.user;
  if (traits.adapter !== undefined) request.adapter = traits.adapter;
}

function weightedPick<T extends { weight: number }, V>(choices: readonly T[], uniform: () => number, value: (choice: T) => V): () => V {
  const cumulative: number[] = [];
  let total = 0;
  for (const c of choices) cumulative.push((total += c.weight));
  const values = choices.map(value);
  return () => {
    const x = uniform() * total;
    let i = 0;
    // The last choice takes x that rounding pushes to (or past) the last cumulative sum.
    while (i < cumulative.length - 1 && x >= cumulative[i]) i++;
    return values[i];
  };
}
