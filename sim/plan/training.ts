import { getGpu } from '../hardware/catalog.js';
import type { GpuSpec } from '../hardware/gpu.js';
import { getModel } from '../model/catalog.js';
import type { ModelArchitecture } from '../model/architecture.js';
import { parameterCount } from '../model/derived.js';
import { defaultMfu, flopsPerToken, peakFlops } from './flops.js';
import { adapterParams, memoryPerGpu, optimizerBytes, weightBytes, type MemoryParts } from './memory.js';
import { LORA_TARGETS, type LoraTarget, type Method, type Optimizer, type Precision, type TrainingInput } from './trainingSchema.js';

/**
 * Default adapters: every linear layer of the block, rank 64. QLoRA (Dettmers et al. 2023, §4 and
 * Figure 2) finds adapters on all linear layers are what it takes to match full fine-tuning, where
 * the LoRA paper's q and v only (Hu et al. 2021, §7.1) fall short; r = 64 is the rank QLoRA used
 * in its experiments (Appendix B.2).
 */
export const DEFAULT_LORA_RANK = 64;
export const DEFAULT_LORA_TARGETS: readonly LoraTarget[] = LORA_TARGETS;

export interface TrainingPlan {
  arch: ModelArchitecture;
  gpu: GpuSpec;
  gpus: number;
  method: Method;
  precision: Precision;
  optimizer: Optimizer;
  zeroStage: number;
  microBatch: number;
  seqLen: number;
  checkpointing: boolean;
  flashAttention: boolean;
  lora?: { rank: number; targets: readonly LoraTarget[] };
  tokens: number;
  globalBatch?: number;
  mfu: number;
  mfuSource: string;
  usdPerGpuHour: number;
}

/** Input with every default filled in and names looked up in the catalogs. */
export function resolvePlan(input: TrainingInput): TrainingPlan {
  const arch = getModel(input.model, 'model');
  const gpu = getGpu(input.hardware.gpu, 'hardware.gpu');
  const precision = input.precision ?? 'bf16';
  const chosen = input.mfu === undefined ? defaultMfu(gpu, precision) : { mfu: input.mfu, source: 'given in the file' };
  const tokens = input.tokens !== undefined ? input.tokens * (input.epochs ?? 1) : input.steps! * input.global_batch! * input.seq_len;
  return {
    arch, gpu, gpus: input.hardware.count ?? 1, method: input.method, precision,
    optimizer: input.optimizer ?? 'adamw',
    zeroStage: input.zero === 'fsdp' ? 3 : (input.zero ?? 0),
    microBatch: input.micro_batch ?? 1, seqLen: input.seq_len,
    checkpointing: input.activation_checkpointing ?? false,
    flashAttention: input.flash_attention ?? true,
    lora: input.method === 'full' ? undefined : { rank: input.lora?.rank ?? DEFAULT_LORA_RANK, targets: input.lora?.target_modules ?? DEFAULT_LORA_TARGETS },
    tokens, globalBatch: input.global_batch,
    mfu: chosen.mfu, mfuSource: chosen.source,
    usdPerGpuHour: input.cost?.usd_per_gpu_hour ?? gpu.usd_per_gpu_hour,
  };
}

export interface TrainingEstimate {
  model: string;
  gpu: string;
  gpus: number;
  method: Method;
  parameters: number;
  trainable_parameters: number;
  memory_per_gpu_bytes: MemoryParts;
  gpu_memory_bytes: number;
  fits: boolean;
  /** When it does not fit: the part to cut first, and how. */
  advice?: string;
  tokens: number;
  steps?: number;
  gradient_accumulation?: number;
  flops_per_token: number;
  total_flops: number;
  peak_flops_per_gpu: number;
  mfu: number;
  mfu_source: string;
  time_s: number;
  gpu_hours: number;
  usd_per_gpu_hour: number;
  cost_usd: number;
  checkpoint_bytes: { weights: number; with_optimizer: number };
}

export function estimateTraining(plan: TrainingPlan): TrainingEstimate {
  const parameters = parameterCount(plan.arch);
  const adapters = plan.lora ? adapterParams(plan.arch, plan.lora.rank, plan.lora.targets) : 0;
  const trainable = plan.method === 'full' ? parameters : adapters;
  const memory = memoryPerGpu({ ...plan, adapterParams: adapters });
  const flops = flopsPerToken(plan.arch, plan.seqLen, plan.method, adapters, plan.checkpointing).total;
  const total = flops * plan.tokens;
  const peak = peakFlops(plan.gpu, plan.precision);
  const time = total / (plan.gpus * peak * plan.mfu);
  const gpuHours = (time / 3600) * plan.gpus;
  // A full model is saved whole; an adapter run saves only the adapters (the base is the published one).
  const weights = trainable * weightBytes(plan.precision);
  const fits = memory.total <= plan.gpu.runtime_memory_bytes;
  const batch = plan.globalBatch;
  return {
    model: plan.arch.name, gpu: plan.gpu.name, gpus: plan.gpus, method: plan.method,
    parameters, trainable_parameters: trainable,
    memory_per_gpu_bytes: memory, gpu_memory_bytes: plan.gpu.runtime_memory_bytes, fits,
    advice: fits ? undefined : advice(plan, memory),
    tokens: plan.tokens,
    steps: batch === undefined ? undefined : Math.ceil(plan.tokens / (batch * plan.seqLen)),
    gradient_accumulation: batch === undefined ? undefined : batch / (plan.microBatch * plan.gpus),
    flops_per_token: flops, total_flops: total, peak_flops_per_gpu: peak, mfu: plan.mfu, mfu_source: plan.mfuSource,
    time_s: time, gpu_hours: gpuHours, usd_per_gpu_hour: plan.usdPerGpuHour, cost_usd: gpuHours * plan.usdPerGpuHour,
    checkpoint_bytes: { weights, with_optimizer: weights + trainable * optimizerBytes(plan.precision, plan.optimizer) },
  };
}

/** The largest part that a setting can still shrink, and the setting. */
function advice(plan: TrainingPlan, memory: MemoryParts): string {
  const sharded = plan.gpus > 1;
  const cuts: { part: keyof MemoryParts; bytes: number; how: string }[] = [
    { part: 'optimizer_states', bytes: memory.optimizer_states, how: sharded && plan.zeroStage < 1 ? 'zero: 1 or higher' : plan.optimizer === 'adamw' ? 'optimizer: adamw_8bit' : 'more GPUs with zero ≥ 1' },
    { part: 'gradients', bytes: memory.gradients, how: sharded && plan.zeroStage < 2 ? 'zero: 2 or higher' : 'more GPUs with zero ≥ 2' },
    {
      part: 'weights', bytes: memory.weights,
      how: sharded && plan.zeroStage < 3 ? 'zero: 3 (or fsdp)' : plan.method === 'full' ? 'method: lora or qlora, or more GPUs with zero: 3' : plan.method === 'lora' ? 'method: qlora' : 'more GPUs with zero: 3',
    },
    { part: 'activations', bytes: memory.activations, how: plan.checkpointing ? 'a smaller micro_batch or seq_len' : 'activation_checkpointing: true or a smaller micro_batch' },
  ];
  const worst = cuts.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  return `${worst.part.replace('_', ' ')} take the most (${(worst.bytes / 2 ** 30).toFixed(1)} GiB): try ${worst.how}`;
}
