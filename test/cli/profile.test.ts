import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { profileSchema, type Profile } from '../../sim/latency/profile/schema.js';
import { infersim, ROOT } from './cli.js';

/** A tiny Vidur `data/profiling` folder with hand-picked numbers. */
function vidurDir(): string {
  const root = mkdtempSync(join(tmpdir(), 'infersim-vidur-'));
  const model = join(root, 'compute', 'h100', 'org', 'ModelA');
  mkdirSync(model, { recursive: true });
  const ops = ['emb', 'input_layernorm', 'attn_pre_proj', 'attn_rope', 'attn_post_proj', 'post_attention_layernorm', 'mlp_up_proj', 'mlp_act', 'mlp_down_proj', 'add'];
  const stats = ['min', 'max', 'mean', 'median', 'std'];
  const header = [...ops.flatMap((op) => stats.map((s) => `time_stats.${op}.${s}`)), 'n_head', 'n_kv_head', 'n_embd', 'n_expanded_embd', 'vocab_size', 'use_gated_mlp', 'num_tokens', 'num_tensor_parallel_workers'];
  // Every op takes 0.010 ms (median) at 8 tokens and 0.020 ms at 16.
  const row = (tokens: number, ms: number) => [...ops.flatMap(() => stats.map((s) => (s === 'median' ? ms : 0.001))), 4, 2, 64, 128, 1000, 'True', tokens, 1].join(',');
  writeFileSync(join(model, 'mlp.csv'), [header.join(','), row(8, 0.01), row(16, 0.02)].join('\n') + '\n');
  writeFileSync(
    join(model, 'attention.csv'),
    [
      'n_embd,n_q_head,n_kv_head,block_size,num_tensor_parallel_workers,max_model_len,batch_size,prefill_chunk_size,kv_cache_size,is_prefill,attention_backend,time_stats.attn_prefill.median,time_stats.attn_decode.median',
      '64,4,2,16,2,4096,1,32,96,True,AttentionBackend.FLASH_ATTENTION,0.02,',
      '64,4,2,16,2,4096,4,0,512,False,AttentionBackend.FLASHINFER,,0.03',
    ].join('\n') + '\n',
  );
  const net = join(root, 'network', 'h100_dgx');
  mkdirSync(net, { recursive: true });
  writeFileSync(
    join(net, 'all_reduce.csv'),
    [
      ',time_stats.all_reduce.min,time_stats.all_reduce.max,time_stats.all_reduce.mean,time_stats.all_reduce.median,time_stats.all_reduce.std,rank,num_workers,size,collective,devices_per_node,max_devices_per_node',
      '0,0.01,0.01,0.01,0.01,0,0,2,1024,all_reduce,8,8',
      // Workers on two nodes: not one node's NVLink, left out.
      '1,0.5,0.5,0.5,0.5,0,0,2,1024,all_reduce,1,8',
    ].join('\n') + '\n',
  );
  const cpu = join(root, 'cpu_overhead', 'h100');
  mkdirSync(cpu, { recursive: true });
  const parts = ['schedule', 'sampler_e2e', 'prepare_inputs_e2e', 'process_model_outputs'];
  writeFileSync(
    join(cpu, 'cpu_overheads.csv'),
    [
      [...parts.map((p) => `${p}_median`), 'model_name', 'batch_size', 'tensor_parallel_degree'].join(','),
      // 1.0 ms at batch 1 and 1.8 ms at batch 9: 0.9 ms + 0.1 ms per sequence.
      '0.25,0.25,0.25,0.25,org/ModelA,1,1',
      '0.45,0.45,0.45,0.45,org/ModelA,9,1',
    ].join('\n') + '\n',
  );
  return root;
}

describe('infersim profile import vidur', () => {
  it('converts the CSVs into a measured profile with hand-checkable rows', () => {
    const dir = vidurDir();
    const out = join(dir, 'out', 'p.json');
    const r = infersim(['profile', 'import', 'vidur', dir, '--gpu', 'h100-sxm', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const p = profileSchema.parse(JSON.parse(readFileSync(out, 'utf8'))) as Profile;
    expect(p.source).toBe('measured');
    expect(p.gpu.catalog).toBe('h100-sxm');
    const gemm = p.tables!.gemm!;
    // 2 token counts × 4 GEMMs. Heads 4, KV heads 2, hidden 64 (head dim 16), intermediate 128, gated.
    expect(gemm).toHaveLength(8);
    expect(gemm).toContainEqual({ dtype: 'fp16', m: 8, n: (4 + 2 * 2) * 16, k: 64, role: 'qkv', time_s: 1e-5 });
    expect(gemm).toContainEqual({ dtype: 'fp16', m: 16, n: 64, k: 128, role: 'down', time_s: 2e-5 });
    expect(gemm).toContainEqual({ dtype: 'fp16', m: 8, n: 2 * 128, k: 64, role: 'up', time_s: 1e-5 });
    // RMSNorm of 8 tokens: read and write 8 × 64 fp16 values = 2,048 bytes. Vidur's `add` is left out.
    expect(p.tables!.elementwise).toContainEqual({ op: 'rmsnorm', bytes: 2048, time_s: 1e-5 });
    expect(p.tables!.elementwise!.every((e) => e.op !== 'add')).toBe(true);
    expect(p.tables!.attention_prefill).toEqual([
      { dtype: 'fp16', seqs: 1, query_tokens: 32, context_tokens: 128, heads: 2, kv_heads: 1, head_dim: 16, causal: true, time_s: expect.closeTo(2e-5, 15), kernel: 'flash-attn' },
    ]);
    expect(p.tables!.attention_decode).toEqual([{ dtype: 'fp16', seqs: 4, context_tokens: 512, heads: 2, kv_heads: 1, head_dim: 16, block_size: 16, time_s: expect.closeTo(3e-5, 15), kernel: 'flashinfer' }]);
    expect(p.tables!.all_reduce).toEqual([{ bytes: 1024, group_size: 2, link: 'nvlink', time_s: 1e-5 }]);
    expect(p.scalars!.cpu_step_s).toBeCloseTo(0.9e-3, 12);
    expect(p.scalars!.cpu_per_seq_s).toBeCloseTo(0.1e-3, 12);
    // Written whole: no temp file left beside it.
    expect(existsSync(`${out}.tmp-${process.pid}`)).toBe(false);
  });

  it('the imported profile drives predict, which marks looked-up operators measured', () => {
    const dir = vidurDir();
    const out = join(dir, 'p.json');
    expect(infersim(['profile', 'import', 'vidur', dir, '--gpu', 'h100-sxm', '--out', out]).status).toBe(0);
    const r = infersim(['predict', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--decode', '1024', '--profile', out, '--json']);
    expect(r.status).toBe(0);
    const ops = (JSON.parse(r.stdout) as { ops: { name: string; source: string }[] }).ops;
    // Its CPU line is measured; Llama's shapes lie far outside the tiny GEMM table: modelled.
    expect(ops.find((o) => o.name === 'cpu_overhead')!.source).toBe('measured');
    expect(ops.find((o) => o.name === 'qkv_proj')!.source).toBe('modelled');
  });

  it.each([
    [['profile', 'import', 'vidur', '/nonexistent', '--gpu', 'l4', '--out', 'x.json'], /^infersim: error: --gpu: Vidur's data covers h100-sxm, a100-sxm-80gb, got "l4"\n$/],
    [['profile', 'import', 'vidur', '/nonexistent', '--gpu', 'h100-sxm', '--out', 'x.json'], /^infersim: error: Vidur profiling folder "\/nonexistent" does not exist\n$/],
    [['profile', 'import', 'nvidia', '/tmp', '--gpu', 'h100-sxm', '--out', 'x.json'], /^infersim: error: FORMAT: only "vidur"/],
    [['profile', 'import', 'vidur', '/tmp', '--gpu', 'h100-sxm', '--out', 'x.txt'], /^infersim: error: --out: must name a \.json file, got "x\.txt"/],
    [['profile', 'analytic', '--gpu', 'l4', '--out', 'x.txt'], /^infersim: error: --out: must name a \.json file, got "x\.txt"/],
    [['profile', 'validate', '--vidur', '/tmp', '--gpu', 'h100-sxm', '--record'], /^infersim: error: --record: needs --profile naming the profile file to write the bands into\n$/],
    [['profile', 'fit', 'vidur', '/tmp', '--gpu', 'h100-sxm', '--train', 'A', '--cpu-step-s', '-1'], /^infersim: error: --cpu-step-s: must be a number of seconds ≥ 0 and ≤ 1, got "-1"\n$/],
    [['predict', '--model', 'llama-2-7b', '--gpu', 'a100-sxm-80gb', '--decode', '1', '--profile', 'h100-sxm.fitted'], /^infersim: error: --profile: "h100-sxm\.fitted" is a profile of h100-sxm, but --gpu is a100-sxm-80gb/],
  ])('rejects bad input in one line: %j', (args, message) => {
    const r = infersim(args);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('validate names unknown models', () => {
    const r = infersim(['profile', 'validate', '--vidur', vidurDir(), '--gpu', 'h100-sxm', '--models', 'ModelZ']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^infersim: error: --models: unknown model folder; the data has ModelA, got "ModelZ"/);
  });

  it('fit names unknown training models and insists on a held-out one', () => {
    const dir = vidurDir();
    const unknown = infersim(['profile', 'fit', 'vidur', dir, '--gpu', 'h100-sxm', '--train', 'ModelZ']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/^infersim: error: --train: unknown model folder; the data has ModelA, got "ModelZ"/);
    const all = infersim(['profile', 'fit', 'vidur', dir, '--gpu', 'h100-sxm', '--train', 'ModelA']);
    expect(all.status).toBe(1);
    expect(all.stderr).toMatch(/--train: leave at least one model out/);
  });
});

describe('hardware.profile in a scenario', () => {
  const scenarioWith = (profile: string): string => {
    const dir = mkdtempSync(join(tmpdir(), 'infersim-scn-'));
    writeFileSync(join(dir, 'mine.json'), readFileSync(join(ROOT, 'profiles', 'a100-sxm-80gb.fitted.json')));
    writeFileSync(
      join(dir, 's.yaml'),
      `model: llama-3.1-8b\nhardware: { gpu: a100-sxm-80gb, profile: ${profile} }\nmetrics: { uncertainty: false }\n` +
        `workload: { arrival: { process: burst }, input_tokens: { dist: fixed, value: 32 }, output_tokens: { dist: fixed, value: 4 }, num_requests: 2 }\n` +
        `output: { dir: out }\n`,
    );
    return dir;
  };

  it('resolves a relative path against the scenario file and records it in summary.json', () => {
    const dir = scenarioWith('mine.json');
    const r = infersim(['run', join(dir, 's.yaml')], tmpdir());
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const summary = JSON.parse(readFileSync(join(dir, 'out', 'summary.json'), 'utf8')) as { latency: { profile: string } };
    expect(summary.latency.profile).toBe(join(dir, 'mine.json'));
  });

  it('refuses a profile of another GPU, naming both and the shipped alternatives', () => {
    const dir = scenarioWith('h100-sxm.fitted');
    const r = infersim(['run', join(dir, 's.yaml')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^infersim: error: hardware\.profile: "h100-sxm\.fitted" is a profile of h100-sxm, but hardware\.gpu is a100-sxm-80gb; pick a profile of a100-sxm-80gb \(shipped: a100-sxm-80gb\.analytic, a100-sxm-80gb\.fitted\)\n$/,
    );
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });
});

const vidur = join(ROOT, '..', 'shared', 'data', 'measured', 'vidur');
if (!existsSync(vidur)) console.warn(`skipping profile validate on real data: ${vidur} is absent (../shared/data is not checked out)`);
describe.skipIf(!existsSync(vidur))('infersim profile validate on the real Vidur data', () => {
  it('defaults to the shipped fitted profile and the models it was not fitted on, one row per operator and model', () => {
    const r = infersim(['profile', 'validate', '--vidur', vidur, '--gpu', 'a100-sxm-80gb', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { profile: string; models: string[]; rows: { op: string; model: string; n: number; median_abs: number }[] };
    expect(out.profile).toBe('a100-sxm-80gb.fitted');
    expect(out.models.sort()).toEqual(['Llama-2-70b-hf', 'Meta-Llama-3-70B', 'Meta-Llama-3-8B', 'internlm-20b']);
    for (const op of ['attn_pre_proj', 'attn_post_proj', 'mlp_up_proj', 'mlp_down_proj', 'all_reduce', 'cpu_overhead']) {
      expect(out.rows.some((row) => row.op === op && row.model === 'all' && row.n > 0), op).toBe(true);
    }
    expect(out.rows.some((row) => row.op === 'mlp_down_proj' && row.model === 'Meta-Llama-3-8B')).toBe(true);
  });
});
