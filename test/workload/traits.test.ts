import { describe, expect, it } from 'vitest';
import { rngStream } from '../../sim/engine/rng.js';
import { InfersimError } from '../../sim/errors.js';
import type { WorkloadSpec } from '../../sim/scenario/types.js';
import { createRequestStream } from '../../sim/workload/index.js';
import { drain, driveStream, errorOf, tempFile } from './helpers.js';

const fixed = (value: number) => ({ dist: 'fixed' as const, value });
const base: WorkloadSpec = {
  arrival: { process: 'poisson', rate_per_s: 5 },
  input_tokens: { dist: 'uniform', min: 10, max: 500 },
  output_tokens: { dist: 'uniform', min: 1, max: 100 },
  num_requests: 400,
};

describe('shared system prompts (workload.prefix)', () => {
  it('each request: draw u, draw v; u < fraction → group ⌊v · groups⌋, prefix tokens put in front of the prompt', () => {
    const prefix = { groups: 3, tokens: 64, fraction: 0.4 };
    const plain = drain(createRequestStream(base, 11));
    const prefixed = drain(createRequestStream({ ...base, prefix }, 11));
    const uniform = rngStream(11, 'prefix');
    prefixed.forEach((r, i) => {
      const u = uniform();
      const v = uniform();
      const group = u < 0.4 ? Math.floor(v * 3) : undefined;
      expect(r.prefix_group).toBe(group);
      expect(r.prefix_tokens).toBe(group === undefined ? undefined : 64);
      expect(r.input_tokens).toBe(plain[i].input_tokens + (group === undefined ? 0 : 64));
      // The prefix has its own stream: arrivals and output lengths do not move.
      expect([r.arrival_s, r.output_tokens]).toEqual([plain[i].arrival_s, plain[i].output_tokens]);
    });
    const share = prefixed.filter((r) => r.prefix_group !== undefined).length / prefixed.length;
    expect(share).toBeGreaterThan(0.3);
    expect(share).toBeLessThan(0.5);
    expect(new Set(prefixed.map((r) => r.prefix_group))).toEqual(new Set([undefined, 0, 1, 2]));
  });

  it('raising fraction only adds prefixed requests and keeps every group', () => {
    const low = drain(createRequestStream({ ...base, prefix: { groups: 5, tokens: 8, fraction: 0.2 } }, 4));
    const high = drain(createRequestStream({ ...base, prefix: { groups: 5, tokens: 8, fraction: 0.7 } }, 4));
    low.forEach((r, i) => {
      if (r.prefix_group !== undefined) expect(high[i].prefix_group).toBe(r.prefix_group);
    });
    expect(high.filter((r) => r.prefix_group !== undefined).length).toBeGreaterThan(low.filter((r) => r.prefix_group !== undefined).length);
  });

  it('with a trace: the trace’s prompt is the request’s own part, the system prompt goes in front', () => {
    const path = tempFile('p.csv', 'arrived_at,num_prefill_tokens,num_decode_tokens\n0,11,1\n1,22,2\n2,33,3\n');
    const requests = drain(createRequestStream({ trace: { path, format: 'vidur' }, prefix: { groups: 1, tokens: 7, fraction: 1 } }, 1));
    expect(requests.map((r) => [r.input_tokens, r.output_tokens, r.prefix_group, r.prefix_tokens])).toEqual([
      [18, 1, 0, 7],
      [29, 2, 0, 7],
      [40, 3, 0, 7],
    ]);
  });

  it('sessions: all turns share the session’s group; the prefix is counted once, in the first prompt', () => {
    const spec: WorkloadSpec = {
      input_tokens: fixed(100),
      output_tokens: fixed(10),
      concurrency: 1,
      num_requests: 3,
      sessions: { turns: fixed(3), think_time_s: 0 },
      prefix: { groups: 4, tokens: 50, fraction: 1 },
    };
    const requests = driveStream(createRequestStream(spec, 2), () => 1).map((d) => d.request);
    const uniform = rngStream(2, 'prefix');
    uniform();
    const group = Math.floor(uniform() * 4);
    expect(requests.map((r) => [r.input_tokens, r.prefix_group, r.prefix_tokens, r.session])).toEqual([
      [150, group, 50, 0],
      [260, group, 50, 0],
      [370, group, 50, 0],
    ]);
  });

  it('without the key the fields stay undefined', () => {
    const [r] = drain(createRequestStream({ ...base, num_requests: 1 }, 1));
    expect(r).not.toHaveProperty('prefix_group');
    expect(r).not.toHaveProperty('prefix_tokens');
    expect(r).not.toHaveProperty('priority');
    expect(r).not.toHaveProperty('session');
  });
});

describe('priority classes (workload.priority)', () => {
  const classes = [
    { priority: 0, weight: 1 },
    { priority: 5, weight: 3, name: 'batch' },
  ];

  it('draws a class per request by weight, from its own stream, and lists the classes in info', () => {
    const stream = createRequestStream({ ...base, num_requests: 20_000, priority: { classes } }, 8);
    expect(stream.info.priority_classes).toEqual([
      { priority: 0, weight: 1, name: 'p0' },
      { priority: 5, weight: 3, name: 'batch' },
    ]);
    const requests = drain(stream);
    const uniform = rngStream(8, 'priority');
    for (const r of requests.slice(0, 200)) expect(r.priority).toBe(uniform() * 4 < 1 ? 0 : 5);
    // P(batch) = 3/4; standard error √(0.75 · 0.25 / 20000) ≈ 0.003.
    const share = requests.filter((r) => r.priority === 5).length / requests.length;
    expect(Math.abs(share - 0.75)).toBeLessThan(0.015);
    const plain = drain(createRequestStream({ ...base, num_requests: 20_000 }, 8));
    expect(requests.map((r) => r.input_tokens)).toEqual(plain.map((r) => r.input_tokens));
  });

  it('prefix and priority draws do not shift each other', () => {
    const prefix = { groups: 7, tokens: 3, fraction: 0.5 };
    const both = drain(createRequestStream({ ...base, prefix, priority: { classes } }, 5));
    const onlyPrefix = drain(createRequestStream({ ...base, prefix }, 5));
    const onlyPriority = drain(createRequestStream({ ...base, priority: { classes } }, 5));
    expect(both.map((r) => r.prefix_group)).toEqual(onlyPrefix.map((r) => r.prefix_group));
    expect(both.map((r) => r.priority)).toEqual(onlyPriority.map((r) => r.priority));
  });

  it('sessions: every turn of a session has its class', () => {
    const spec: WorkloadSpec = {
      input_tokens: fixed(10),
      output_tokens: fixed(10),
      arrival: { process: 'constant', rate_per_s: 2 },
      num_requests: 300,
      sessions: { turns: { dist: 'uniform', min: 1, max: 5 }, think_time_s: 0.3 },
      priority: { classes },
    };
    const requests = driveStream(createRequestStream(spec, 6), () => 0.7).map((d) => d.request);
    const bySession = new Map<number, number>();
    for (const r of requests) {
      if (!bySession.has(r.session!)) bySession.set(r.session!, r.priority!);
      expect(r.priority).toBe(bySession.get(r.session!));
    }
    expect(new Set(bySession.values())).toEqual(new Set([0, 5]));
  });

  it('duplicate priority values are rejected, naming the second', () => {
    const error = errorOf(() => createRequestStream({ ...base, priority: { classes: [...classes, { priority: 0, weight: 2 }] } }, 1));
    expect(error).toBeInstanceOf(InfersimError);
    expect(error.message).toBe('workload.priority.classes[2].priority: duplicates workload.priority.classes[0].priority, got 0');
  });
});
