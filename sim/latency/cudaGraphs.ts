/**
 * Batch sizes vLLM captures CUDA graphs for (vLLM >= 0.11 default: 1, 2, 4, then steps of 8 up to
 * 256, then steps of 16), up to max_cudagraph_capture_size = min(2 × max_num_seqs, 512).
 * A step whose token count is at most the largest size is padded up to the next captured size.
 */
export function cudaGraphCaptureSizes(max_num_seqs: number): number[] {
  const largest = Math.min(2 * max_num_seqs, 512);
  const sizes = [1, 2, 4];
  for (let s = 8; s < 256; s += 8) sizes.push(s);
  for (let s = 256; s <= 512; s += 16) sizes.push(s);
  return sizes.filter((s) => s <= largest);
}

/**
 * vLLM V0's capture sizes: 1, 2, 4, then steps of 8 up to 256, up to the first one that holds
 * max_num_seqs (vllm/worker/model_runner.py, `_BATCH_SIZES_TO_CAPTURE` and
 * `_get_max_graph_batch_size`). V0 replays them for pure-decode batches only.
 */
export function v0CudaGraphCaptureSizes(max_num_seqs: number): number[] {
  const sizes = [1, 2, 4];
  for (let s = 8; s <= 256; s += 8) sizes.push(s);
  const largest = sizes.find((s) => s >= max_num_seqs) ?? 256;
  return sizes.filter((s) => s <= largest);
}

/** Smallest captured size ≥ tokens, or 0 when the step is too large to run from a graph. */
export function paddedGraphSize(sizes: readonly number[], tokens: number): number {
  if (sizes.length === 0 || tokens > sizes[sizes.length - 1]) return 0;
  let lo = 0;
  let hi = sizes.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sizes[mid] >= tokens) hi = mid;
    else lo = mid + 1;
  }
  return sizes[lo];
}

/** The captured sizes, with `paddedGraphSize` read from a table for every count up to the largest: one read a step instead of a search. */
export class GraphSizes {
  private readonly table: Int32Array;

  constructor(private readonly sizes: readonly number[]) {
    this.table = new Int32Array(sizes.length === 0 ? 0 : sizes[sizes.length - 1] + 1);
    for (let t = 0; t < this.table.length; t++) this.table[t] = paddedGraphSize(sizes, t);
  }

  padded(tokens: number): number {
    return tokens >= 0 && tokens < this.table.length && Number.isInteger(tokens) ? this.table[tokens] : paddedGraphSize(this.sizes, tokens);
  }
}

/** The sizes an engine captured (none without CUDA graphs). */
export function captureSizes(cuda_graphs: boolean, graphs: 'v1' | 'v0', max_num_seqs: number): number[] {
  if (!cuda_graphs) return [];
  return graphs === 'v0' ? v0CudaGraphCaptureSizes(max_num_seqs) : cudaGraphCaptureSizes(max_num_seqs);
}
