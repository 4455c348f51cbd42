import { GPU_CATALOG } from '../../sim/hardware/catalog.js';
import type { BatchShape } from '../../sim/latency/batch.js';
import { DEFAULT_EFFICIENCY } from '../../sim/latency/efficiency.js';
import { RooflineLatencyModel, type RooflineConfig } from '../../sim/latency/roofline.js';
import { MODEL_CATALOG } from '../../sim/model/catalog.js';

export interface RooflineOptions extends Partial<Omit<RooflineConfig, 'arch' | 'gpu'>> {
  model?: string;
  gpu?: string;
}

/** A roofline model for tests: Llama-3.1-8B, H100 SXM, TP1, bf16, block 16, graphs on, unless overridden. */
export function roofline({ model = 'llama-3.1-8b', gpu = 'h100-sxm', ...rest }: RooflineOptions = {}): RooflineLatencyModel {
  return new RooflineLatencyModel({
    arch: MODEL_CATALOG[model],
    gpu: GPU_CATALOG[gpu],
    tensor_parallel: 1,
    weights: 'bf16',
    kv_cache: 'bf16',
    block_size: 16,
    cuda_graphs: true,
    max_num_seqs: 256,
    efficiency: DEFAULT_EFFICIENCY,
    ...rest,
  });
}

/** Time of one named operator in the model's breakdown of `batch`. */
export function opTime(m: RooflineLatencyModel, name: string, batch: BatchShape): number {
  return m.breakdown(batch).find((op) => op.name === name)!.time_s;
}
