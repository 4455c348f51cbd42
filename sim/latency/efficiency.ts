/**
 * The named knobs of the roofline latency model. Each is a fraction of a datasheet peak (or a
 * fixed cost) that real kernels reach. The defaults are engineering estimates, checked against
 * one public end-to-end measurement (vLLM's nightly latency test on A100, see
 * test/latency/calibration.test.ts); the latency-profiles work replaces them with fitted values.
 */
export interface LatencyEfficiency {
  /** Large dense GEMMs as a fraction of the tensor-core peak (cuBLAS reaches ~65-75 % on H100/A100). */
  gemm_compute: number;
  /** Weight/activation streaming of memory-bound GEMMs as a fraction of HBM bandwidth. */
  gemm_memory: number;
  /**
   * Fixed time of one GEMM kernel on top of its roofline (launch-to-finish latency, wave tails).
   * Fitted against Vidur's public per-operator measurements of the QKV, O, MLP up and down GEMMs
   * (../shared/data/measured/vidur/compute, 8 models, A100 and H100, TP 1-8, 1-4096 tokens): with
   * gemm_compute 0.7 and gemm_memory 0.8, a 6 µs floor takes the median absolute error from 12.7 %
   * to 8.6 % on H100 and from 7.0 % to 6.0 % on A100 (p90: 42 % → 26 %, 27 % → 18 %);
   * test/latency/vidurGemm.test.ts keeps this checked.
   */
  gemm_kernel_floor_s: number;
  /** Causal prefill attention (FlashAttention-class) as a fraction of the bf16 tensor peak. */
  attention_prefill_compute: number;
  /** Paged decode attention as a fraction of HBM bandwidth, by KV block size (tokens per block). */
  decode_attention_memory_by_block_size: Readonly<Record<number, number>>;
  /** Norms, activation, rotary embedding and KV-cache writes as a fraction of HBM bandwidth. */
  elementwise_memory: number;
  /**
   * Fixed time of one elementwise kernel (a small kernel cannot finish faster, however few bytes it
   * moves). 0 in the defaults, whose cpu_step_s absorbed these floors; fitted profiles state it and
   * recalibrate cpu_step_s accordingly.
   */
  elementwise_kernel_floor_s: number;
  /** Fixed floor of one attention kernel launch on the GPU, seconds per layer. */
  attention_kernel_floor_s: number;
  /** Achieved fraction of one-direction link bandwidth in all-reduce. */
  all_reduce_link: number;
  /** Fixed latency of one all-reduce over NVLink / over PCIe, seconds. */
  all_reduce_latency_nvlink_s: number;
  all_reduce_latency_pcie_s: number;
  /**
   * Fixed cost per engine step: CPU work (scheduling, input preparation, sampling bookkeeping,
   * output processing) plus the duration floors of the many small kernels that a roofline does
   * not see. For scale: Vidur's A100 CPU measurements of vLLM (V0 era, ../shared/data/measured/
   * vidur/cpu_overhead) sum to about 0.8 ms + 42 µs per sequence for the CPU part alone; the
   * default 1.75 ms is what reproduces vLLM's A100 nightly latency test (calibration.test.ts).
   */
  cpu_step_s: number;
  cpu_per_seq_s: number;
  /** Host-side dispatch cost of one kernel when running eagerly (no CUDA graph): PyTorch + launch. */
  eager_dispatch_per_kernel_s: number;
  /** Kernels per transformer layer in an eager forward pass (norms, GEMMs, rotary, cache write, attention, activation, all-reduces). */
  kernels_per_layer: number;
  /** Cost of replaying a captured CUDA graph for one step. */
  graph_replay_s: number;
}

export const DEFAULT_EFFICIENCY: LatencyEfficiency = {
  gemm_compute: 0.7,
  gemm_memory: 0.8,
  gemm_kernel_floor_s: 6e-6,
  attention_prefill_compute: 0.5,
  // Larger blocks mean fewer, longer contiguous reads per sequence in the paged kernel.
  decode_attention_memory_by_block_size: { 8: 0.45, 16: 0.55, 32: 0.62, 64: 0.66, 128: 0.68 },
  elementwise_memory: 0.7,
  elementwise_kernel_floor_s: 0,
  attention_kernel_floor_s: 4e-6,
  all_reduce_link: 0.7,
  all_reduce_latency_nvlink_s: 8e-6,
  all_reduce_latency_pcie_s: 25e-6,
  cpu_step_s: 1.75e-3,
  cpu_per_seq_s: 15e-6,
  eager_dispatch_per_kernel_s: 15e-6,
  kernels_per_layer: 14,
  graph_replay_s: 50e-6,
};

/** Decode-attention efficiency for a block size: exact entry, else the nearest smaller one (or the smallest). */
export function decodeAttentionEfficiency(eff: LatencyEfficiency, block_size: number): number {
  const table = eff.decode_attention_memory_by_block_size;
  const sizes = Object.keys(table).map(Number).sort((a, b) => a - b);
  let chosen = sizes[0];
  for (const size of sizes) if (size <= block_size) chosen = size;
  return table[chosen];
}
