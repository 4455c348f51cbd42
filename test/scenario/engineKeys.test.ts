import { describe, expect, it } from 'vitest';
import { parseScenarioObject } from '../../sim/setup/load.js';
import { resolveScenario } from '../../sim/setup/resolve.js';
import type { ScenarioInput } from '../../sim/scenario/types.js';
import { scenario } from '../helpers.js';

const resolve = (patch: Parameters<typeof scenario>[0]) => resolveScenario(scenario(patch) as ScenarioInput);
const engine = (e: Record<string, unknown>) => resolve({ engine: { max_model_len: 4096, ...e } }).scenario.engine;

describe('scheduler-family defaults', () => {
  it('vllm: prefix caching on, recompute, FCFS, chunked', () => {
    expect(engine({})).toMatchObject({ scheduler: 'vllm', enable_prefix_caching: true, preemption: 'recompute', scheduling_policy: 'fcfs', enable_chunked_prefill: true, swap_space_gb: 0 });
  });
  it('vllm-v0: whole prompts, budget max(max_model_len, 2048), 256 seqs, auto preemption with vLLM’s 4 GiB swap space', () => {
    expect(engine({ scheduler: 'vllm-v0' })).toMatchObject({
      enable_chunked_prefill: false, max_num_batched_tokens: 4096, max_num_seqs: 256, preemption: 'auto', swap_space_gb: 4, enable_prefix_caching: false,
    });
    expect(resolve({ model: 'llama-2-7b', engine: { scheduler: 'vllm-v0', max_model_len: 1024 } }).scenario.engine.max_num_batched_tokens).toBe(2048);
  });
  it('sarathi: chunked with V0’s 512-token budget', () => {
    expect(engine({ scheduler: 'sarathi' })).toMatchObject({ enable_chunked_prefill: true, max_num_batched_tokens: 512, max_num_seqs: 256 });
  });
  it('orca, static, dynamic: whole prompts, max reservation; dynamic waits 10 ms by default', () => {
    expect(engine({ scheduler: 'orca' })).toMatchObject({ enable_chunked_prefill: false, orca_reservation: 'max', enable_prefix_caching: false });
    expect(engine({ scheduler: 'static' })).toMatchObject({ max_batch_size: 256, batch_timeout_ms: 0 });
    expect(engine({ scheduler: 'dynamic', max_batch_size: 8 })).toMatchObject({ max_batch_size: 8, batch_timeout_ms: 10 });
  });
  it('priority classes in the workload turn on the priority policy', () => {
    const s = resolve({
      engine: { max_model_len: 4096 },
      workload: { ...scenario().workload, priority: { classes: [{ priority: 0, weight: 1 }, { priority: 2, weight: 1 }] } },
    }).scenario;
    expect(s.engine.scheduling_policy).toBe('priority');
  });
  it('priority classes under a FCFS-only scheduler name the key the user wrote', () => {
    expect(() =>
      resolve({
        engine: { scheduler: 'orca', max_model_len: 4096 },
        workload: { ...scenario().workload, priority: { classes: [{ priority: 0, weight: 1 }] } },
      }),
    ).toThrow(/^workload\.priority: priority scheduling is modelled for vllm, vllm-v0, sarathi; orca serves FCFS: drop the classes/);
  });
  it.each(['orca', 'static', 'dynamic'])('%s refuses to reserve the model\'s whole context by default', (scheduler) => {
    expect(() => resolve({ engine: { scheduler } })).toThrow(
      new RegExp(
        `^engine\\.orca_reservation: the ${scheduler} scheduler reserves each request's KV at admission for prompt \\+ workload\\.max_tokens, ` +
          "and with neither max_tokens nor engine\\.max_model_len set that is llama-3\\.1-8b's whole context \\(131072 tokens\\) per request; " +
          "set workload\\.max_tokens \\(the clients' limit\\) or engine\\.max_model_len, or engine\\.orca_reservation \\(max, pow2 or oracle\\)$",
      ),
    );
    // Any one of them states the basis.
    expect(resolve({ engine: { scheduler, orca_reservation: 'max' } }).scenario.engine.orca_reservation).toBe('max');
    expect(resolve({ engine: { scheduler }, workload: { ...scenario().workload, max_tokens: 256 } }).scenario.engine.orca_reservation).toBe('max');
  });
  it('the reserving schedulers resolve to no preemption and no swap space', () => {
    expect(engine({ scheduler: 'orca' })).toMatchObject({ preemption: 'recompute', swap_space_gb: 0 });
  });
  it('the summary names the engine each policy emulates', () => {
    expect(resolve({ engine: { scheduler: 'sarathi' } }).scenario.emulates).toMatch(/Sarathi-Serve/);
    expect(resolve({ engine: { scheduler: 'orca', max_model_len: 4096 } }).scenario.emulates).toMatch(/Orca/);
  });
});

describe('engine keys rejected with the field, the value and what is allowed', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['swap under vllm', { preemption: 'swap' }, /^engine\.preemption: the vllm \(V1\) scheduler only preempts by recompute.*got "swap"$/],
    ['auto under vllm', { preemption: 'auto' }, /^engine\.preemption: .*only preempts by recompute/],
    ['preemption under orca', { scheduler: 'orca', preemption: 'swap' }, /^engine\.preemption: the orca scheduler reserves each request's KV at admission, so it never runs short and never preempts; leave it out, got "swap"$/],
    ['swap space under static', { scheduler: 'static', swap_space_gb: 2 }, /^engine\.swap_space_gb: the static scheduler never preempts, so it never swaps; leave it out, got 2$/],
    ['prefix caching under static', { scheduler: 'static', enable_prefix_caching: true }, /^engine\.enable_prefix_caching: needs a paged scheduler \(vllm, vllm-v0, sarathi\)/],
    ['batch size under vllm', { max_batch_size: 8 }, /^engine\.max_batch_size: is used by the static and dynamic schedulers only \(engine\.scheduler is vllm\), got 8$/],
    ['batch timeout under static', { scheduler: 'static', batch_timeout_ms: 5 }, /^engine\.batch_timeout_ms: is used by the dynamic scheduler only/],
    ['reservation under vllm', { orca_reservation: 'pow2' }, /^engine\.orca_reservation: is used by the orca, static and dynamic schedulers only/],
    ['swap space with recompute', { scheduler: 'vllm-v0', preemption: 'recompute', swap_space_gb: 2 }, /^engine\.swap_space_gb: has no effect with engine\.preemption recompute, got 2$/],
    ['priority under dynamic', { scheduler: 'dynamic', scheduling_policy: 'priority' }, /^engine\.scheduling_policy: priority scheduling is modelled for vllm, vllm-v0, sarathi; dynamic serves FCFS/],
    ['chunking under vllm-v0', { scheduler: 'vllm-v0', enable_chunked_prefill: true }, /^engine\.enable_chunked_prefill: the vllm-v0 scheduler runs whole prompts.*use sarathi/],
    ['no chunking under sarathi', { scheduler: 'sarathi', enable_chunked_prefill: false }, /^engine\.enable_chunked_prefill: the sarathi scheduler always chunks prompts/],
    ['block size 8 under sarathi', { scheduler: 'sarathi', block_size: 8 }, /^engine\.block_size: must be a multiple of 16 for the sarathi scheduler/],
  ])('%s', (_name, e, message) => {
    expect(() => engine(e)).toThrow(message);
  });

  it('block size 8 is allowed under vllm-v0, as V0 allowed it', () => {
    expect(engine({ scheduler: 'vllm-v0', block_size: 8 }).block_size).toBe(8);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['scheduler', { scheduler: 'vllm1' }, 'engine.scheduler: must be one of vllm, vllm-v0, sarathi, orca, static, dynamic, got "vllm1"'],
    ['reservation', { orca_reservation: 'half' }, 'engine.orca_reservation: must be one of max, pow2, oracle, got "half"'],
    ['queue length', { max_queue_len: 0 }, 'engine.max_queue_len: must be an integer ≥ 1, got 0'],
    ['swap space', { swap_space_gb: -1 }, 'engine.swap_space_gb: must be ≥ 0, got -1'],
    ['policy', { scheduling_policy: 'lifo' }, 'engine.scheduling_policy: must be one of fcfs, priority, got "lifo"'],
    ['prefix caching', { enable_prefix_caching: 'yes' }, 'engine.enable_prefix_caching: must be true or false, got "yes"'],
  ])('schema: %s', (_name, e, message) => {
    expect(() => parseScenarioObject(scenario({ engine: e }) as unknown as Record<string, unknown>)).toThrow(message);
  });
});

describe('workload list keys', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['no classes', { classes: [] }, 'workload.priority.classes: must list at least 1 item, got []'],
    ['not a list', { classes: 3 }, 'workload.priority.classes: must be a list, got 3'],
    ['a class without weight', { classes: [{ priority: 1 }] }, 'workload.priority.classes[0].weight: required (must be a number > 0)'],
    ['an unknown key in a class', { classes: [{ priority: 0, weight: 1, extra: 1 }] }, 'workload.priority.classes[0].extra: unknown key; allowed: priority, weight, name'],
    ['a fractional priority', { classes: [{ priority: 0.5, weight: 1 }] }, 'workload.priority.classes[0].priority: must be an integer ≥ -1e9 and ≤ 1e9, got 0.5'],
  ])('%s', (_name, priority, message) => {
    const input = scenario({ workload: { ...scenario().workload, priority } });
    expect(() => parseScenarioObject(input as unknown as Record<string, unknown>)).toThrow(message);
  });
});
