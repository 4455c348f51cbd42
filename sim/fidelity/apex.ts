import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fieldError, InfersimError } from '../errors.js';
import { readText } from '../io/readText.js';
import { runSimulation } from '../cluster/simulate.js';
import { parseScenarioObject } from '../setup/load.js';
import type { ScenarioInput } from '../scenario/types.js';
import { resolveScenario } from '../setup/resolve.js';

/**
 * Real vLLM runs in microsoft/apex_plus's layout (../shared/data/measured/apex_vllm060): a
 * `results/` folder of `llama_creation_<rate>_validation_<config>.txt` files, each the server's
 * mean TTFT and TPOT (Prometheus, server side) after replaying `traces/creation_<rate>[_<config>].jsonl`
 * (`{t_s, in, out}` per request). The configuration each name stands for comes from the project's
 * vllm/*.sh scripts (see ../shared/README.md): Llama-3.1-70B bf16 on H100-SXM-80GB, vLLM 0.6.0,
 * gpu_memory_utilization 0.97, prefix caching off; `8TP`/`4TP`/`2DP4TP_k`: tensor parallel 8 or 4
 * at the model's 131,072-token context; `4DP2TP_k`: tensor parallel 2, max_model_len 24,272.
 * A `_k` suffix is one data-parallel replica's share of the trace.
 */
export interface ApexRun {
  /** The results file's name without `.txt`. */
  name: string;
  tensor_parallel: number;
  /** Data-parallel replicas of the configuration (each replayed its own share). */
  data_parallel: number;
  max_model_len: number;
  trace: string;
  ttft_mean_s: number;
  tpot_s: number;
}

const NAME = /^llama_creation_(\d+)_validation_(8TP|4TP|2DP4TP_\d+|4DP2TP_\d+)\.txt$/;

/** The runs of an apex folder, in name order; an error names the file that does not parse. */
export function readApexRuns(dir: string): ApexRun[] {
  const results = join(dir, 'results');
  if (!existsSync(results)) throw fieldError('path', `${dir} has no results/ folder (the apex layout: results/*.txt and traces/*.jsonl)`);
  const runs: ApexRun[] = [];
  for (const file of readdirSync(results).sort()) {
    const m = NAME.exec(file);
    if (m === null) continue;
    const [, rate, config] = m;
    const text = readText(join(results, file), 'path', 1 << 20);
    const figure = (label: string): number => {
      const v = Number(new RegExp(`vLLM ${label}: ([0-9.eE+-]+)`).exec(text)?.[1]);
      if (!(v > 0)) throw fieldError('path', `${file} states no vLLM ${label}`);
      return v;
    };
    const tp = config === '8TP' ? 8 : config.startsWith('4DP2TP') ? 2 : 4;
    const trace = join(dir, 'traces', config.includes('DP') ? `creation_${rate}_${config}.jsonl` : `creation_${rate}.jsonl`);
    if (!existsSync(trace)) throw fieldError('path', `${file}'s trace ${trace} is missing`);
    runs.push({
      name: file.slice(0, -4),
      tensor_parallel: tp,
      data_parallel: config.startsWith('2DP') ? 2 : config.startsWith('4DP') ? 4 : 1,
      max_model_len: tp === 2 ? 24272 : 131072,
      trace,
      ttft_mean_s: figure('TTFT'),
      tpot_s: figure('TPOT'),
    });
  }
  if (runs.length === 0) throw fieldError('path', `${results} holds no llama_creation_<rate>_validation_<config>.txt file`);
  return runs;
}

/** The scenario of one run: its server's settings, the rest left to vLLM 0.6's defaults. */
export function apexScenario(run: ApexRun): ScenarioInput {
  return {
    seed: 1,
    model: 'llama-3.1-70b',
    hardware: { gpu: 'h100-sxm', tensor_parallel: run.tensor_parallel, gpu_memory_utilization: 0.97 },
    engine: { vllm_version: '0.6', max_model_len: run.max_model_len, enable_prefix_caching: false },
    workload: { trace: { path: run.trace, format: 'jsonl', columns: { arrival: 't_s', input_tokens: 'in', output_tokens: 'out' } } },
    metrics: { uncertainty: false },
  };
}

/** One run replayed: the server's figures beside the simulation's, and their relative errors. */
export interface ApexComparison {
  run: ApexRun;
  requests: number;
  ttft_sim_s: number;
  tpot_sim_s: number;
  ttft_error: number;
  tpot_error: number;
}

/**
 * Replays a run and compares like with like: the server's mean TTFT against the simulated mean
 * TTFT, and its TPOT (Σ time per output token ÷ generation tokens: the mean gap between tokens)
 * against the mean of every simulated gap.
 */
export function compareApexRun(run: ApexRun): ApexComparison {
  const input = parseScenarioObject(apexScenario(run));
  const summary = runSimulation(resolveScenario(input)).summary;
  const o = summary.overall;
  const ttft = o.ttft_s.mean;
  const tpot = o.itl_s.mean;
  if (ttft === null || tpot === null) {
    throw new InfersimError(`path: ${run.name}: the replay produced no ${ttft === null ? 'first token' : 'gap between tokens'} to compare (its trace: ${run.trace})`);
  }
  return { run, requests: o.requests.total, ttft_sim_s: ttft, tpot_sim_s: tpot, ttft_error: ttft / run.ttft_mean_s - 1, tpot_error: tpot / run.tpot_s - 1 };
}
