import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { fieldError } from '../errors.js';
import { toValidationError } from '../scenario/issues.js';
import { bool, num, oneOf, text } from '../scenario/leaves.js';
import { looksLikePath } from '../scenario/paths.js';
import { nestedTooDeep, readConfigFile, TOO_DEEP } from '../scenario/read.js';

export const METHODS = ['full', 'lora', 'qlora'] as const;
export const PRECISIONS = ['bf16', 'fp16', 'fp32'] as const;
export const OPTIMIZERS = ['adamw', 'adamw_8bit', 'sgd'] as const;
/** The linear layers of a Llama-style block, named as Hugging Face PEFT's target_modules names them. */
export const LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;

export type Method = (typeof METHODS)[number];
export type Precision = (typeof PRECISIONS)[number];
export type Optimizer = (typeof OPTIMIZERS)[number];
export type LoraTarget = (typeof LORA_TARGETS)[number];
export type ZeroSetting = 0 | 1 | 2 | 3 | 'fsdp';

export interface TrainingInput {
  model: string;
  method: Method;
  lora?: { rank?: number; target_modules?: LoraTarget[] };
  tokens?: number;
  epochs?: number;
  steps?: number;
  global_batch?: number;
  seq_len: number;
  micro_batch?: number;
  precision?: Precision;
  optimizer?: Optimizer;
  zero?: ZeroSetting;
  activation_checkpointing?: boolean;
  flash_attention?: boolean;
  hardware: { gpu: string; count?: number };
  mfu?: number;
  cost?: { usd_per_gpu_hour: number };
}

/** A training file is a few lines; anything this large is not one. */
const MAX_TRAINING_BYTES = 1024 * 1024;

// Past 1e18 tokens (a thousand times the largest published runs) the figures stop meaning anything.
const tokenCount = num({ gt: 0, lte: 1e18, why: 'a thousand times the largest published training runs' });
const count = (max: number, why: string): z.ZodType<number> => num({ int: true, gte: 1, lte: max, why });

const zero = z.custom<ZeroSetting>((v) => v === 0 || v === 1 || v === 2 || v === 3 || v === 'fsdp', {
  message: 'must be 0, 1, 2, 3 (ZeRO stage) or fsdp (full shard, counted as ZeRO-3)',
});

const lora = z
  .object({
    rank: count(65_536, 'no adapter is wider than the layers it adapts').optional(),
    target_modules: z.array(oneOf(LORA_TARGETS)).min(1).optional(),
  })
  .strict();

const schema = z
  .object({
    model: text,
    method: oneOf(METHODS),
    lora: lora.optional(),
    tokens: tokenCount.optional(),
    epochs: num({ gt: 0, lte: 1e6, why: 'more passes than any training run makes' }).optional(),
    steps: count(1e12, 'more optimizer steps than any training run makes').optional(),
    global_batch: count(1e9, 'more sequences per step than any training run uses').optional(),
    seq_len: count(16 * 2 ** 20, 'longer than any model context'),
    micro_batch: count(1e6, 'more sequences per GPU than memory could hold').optional(),
    precision: oneOf(PRECISIONS).optional(),
    optimizer: oneOf(OPTIMIZERS).optional(),
    zero: zero.optional(),
    activation_checkpointing: bool.optional(),
    flash_attention: bool.optional(),
    hardware: z.object({ gpu: text, count: count(1e6, 'more GPUs than any cluster holds').optional() }).strict(),
    mfu: num({ gt: 0, lte: 1 }).optional(),
    cost: z.object({ usd_per_gpu_hour: num({ gte: 0, lte: 1e6, why: 'larger prices overflow the cost figures' }) }).strict().optional(),
  })
  .strict()
  .superRefine(crossChecks);

type Issue = { path: (string | number)[]; message: string };

/** Checks between keys. Runs on partly invalid files too, so each looks only at values of the right type. */
function crossChecks(t: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const issues: Issue[] = [];
  const has = (key: string): boolean => t[key] !== undefined;
  if (has('tokens') && has('steps')) issues.push({ path: ['steps'], message: 'give tokens or steps, not both' });
  if (!has('tokens') && !has('steps')) {
    issues.push({ path: ['tokens'], message: 'give tokens (dataset tokens, times epochs) or steps with global_batch' });
  }
  if (has('steps') && !has('global_batch')) issues.push({ path: ['global_batch'], message: 'sequences per optimizer step, needed with steps' });
  if (has('epochs') && !has('tokens')) issues.push({ path: ['epochs'], message: 'only with tokens (the dataset size)' });
  if (has('lora') && t.method === 'full') issues.push({ path: ['lora'], message: 'only with method lora or qlora' });
  const hw = t.hardware as { count?: unknown } | undefined;
  const gpus = typeof hw?.count === 'number' ? hw.count : 1;
  const micro = typeof t.micro_batch === 'number' ? t.micro_batch : 1;
  const batch = t.global_batch;
  if (typeof batch === 'number' && batch % (micro * gpus) !== 0) {
    const per = micro * gpus;
    issues.push({ path: ['global_batch'], message: `must be a multiple of micro_batch × hardware.count (${per})` });
  }
  for (const issue of issues) ctx.addIssue({ code: z.ZodIssueCode.custom, ...issue });
}

/** Validation only: a plain object → the training input, one line per problem. */
export function parseTrainingObject(data: unknown): TrainingInput {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw fieldError('training', 'must be a mapping', data);
  const result = schema.safeParse(data);
  if (!result.success) throw toValidationError(result.error, data, schema);
  return result.data as TrainingInput;
}

/** Reads a YAML or JSON training file; a model given as a config.json path resolves against the file's folder. */
export function loadTrainingFile(file: string, cwd = process.cwd()): TrainingInput {
  const path = resolve(cwd, file);
  const data = readConfigFile(path, 'training', MAX_TRAINING_BYTES);
  if (nestedTooDeep(data)) throw fieldError('training', TOO_DEEP, file);
  const input = parseTrainingObject(data);
  return looksLikePath(input.model) ? { ...input, model: resolve(dirname(path), input.model) } : input;
}


