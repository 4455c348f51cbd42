/**
 * Largest values a scenario may give, where a larger one would exhaust memory or time, or lose
 * precision, long before it could mean anything. Each limit says why; every error that enforces one
 * states it. Realistic values stay far inside them.
 */

/**
 * Largest token count of one request (prompt or output), 2³¹ − 1: requests.arrow and
 * iterations.arrow store token counts as int32, and traces are read into Int32Arrays.
 * Trace readers and the scenario schema state it in their errors.
 */
export const MAX_TOKEN_COUNT = 2 ** 31 - 1;

/**
 * Simulated time, s (about 31.7 years). Times are float64 seconds: at 1e9 s one unit in the last
 * place is 0.12 µs, still far below a step (milliseconds); much later, steps would round away.
 */
export const MAX_TIME_S = 1e9;

/**
 * Replicas of one run. Every replica holds its KV block table in memory and each is visited when it
 * starts; measured here (llama-3.1-8b on h100-sxm, 27,961 blocks a replica): 4,000 idle replicas
 * took 3.1 GB and 16 s before the first request, 10,000 took 7.7 GB and 44 s.
 */
export const MAX_REPLICAS = 4096;

/**
 * Bytes of simulator state per KV block: refs, fill and two free-queue links (4 × int32) in
 * BlockManager, a cache key, a two-lane check and a private flag (int32, 2 × int32, uint8) in BlockKeys.
 */
export const BYTES_PER_KV_BLOCK = 29;

/**
 * KV blocks of one replica (16.8 M: 0.5 GB of state). A 7B–8B model on a 141 GB H200 has about
 * 60,000 blocks of 16 tokens; only a tiny model with a huge num_gpu_blocks_override comes near.
 */
export const MAX_KV_BLOCKS_PER_REPLICA = 2 ** 24;

/** KV blocks over all replicas (134 M: 3.9 GB of state), e.g. 4,096 replicas of 32,768 blocks. */
export const MAX_KV_BLOCKS_TOTAL = 2 ** 27;

/**
 * Requests of one run. The summary keeps each request's latencies for exact percentiles: measured
 * here, 200,000 requests took 70 MB more than 20,000 (about 400 bytes each), so 4 GB at this bound.
 */
export const MAX_REQUESTS = 10_000_000;

/** Closed-loop clients (and so requests in flight at once): each in-flight request holds its sequences and queue entries. */
export const MAX_CONCURRENCY = 1_000_000;

/** Samples of one request (n, best_of): all of a request's sequences are created when it arrives. OpenAI's API allows n ≤ 128. */
export const MAX_SAMPLES = 1024;

/**
 * Tokens of a KV block. vLLM's --block-size accepts 1, 8, 16, 32, 64 and 128 (`BlockSize` in its
 * cache config, v0.10); attention backends that pick other sizes themselves stay within a few hundred.
 */
export const MAX_BLOCK_SIZE = 1024;

/**
 * CPU swap space per GPU, GiB. The largest hosts have 2–4 TB of memory for 8 GPUs; vLLM itself
 * refuses a swap space over 70 % of the host's memory (CacheConfig.verify_with_parallel_config, v0.6).
 */
export const MAX_SWAP_SPACE_GB = 1024;

/** Price of a GPU-hour, in any currency (even yen stay far below it): larger ones overflow the cost figures into nonsense. */
export const MAX_USD_PER_GPU_HOUR = 1e6;

/** A bound as messages show it: 1e12 rather than 1000000000000 (powers of ten from a million up). */
export function shown(bound: number): string {
  const exponent = Math.round(Math.log10(Math.abs(bound)));
  return Math.abs(bound) >= 1e6 && bound === Math.sign(bound) * 10 ** exponent ? `${bound < 0 ? '-' : ''}1e${exponent}` : String(bound);
}
