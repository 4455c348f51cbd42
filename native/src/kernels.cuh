// Kernels of our own: random fills, an empty kernel, the memory-bound layer ops (RMSNorm, SiLU·mul,
// rotary, residual add, KV-cache write) and attention (causal prefill, paged decode), head_dim 128.
#pragma once
#include <cuda_runtime_api.h>
#include <cstdint>

namespace k {

constexpr int HEAD_DIM = 128;

using bf16 = uint16_t;  // storage type on the host side; device code uses __nv_bfloat16

void fillBf16(void* p, size_t n, uint32_t seed, float scale, cudaStream_t s);
void fillBytes(void* p, size_t n, uint32_t seed, uint8_t mask, cudaStream_t s);
void empty(cudaStream_t s);
// Reads `bytes` (a multiple of 16) so L2 holds clean lines of this buffer only: evicts what an op
// timed next would otherwise find cached, without leaving dirty lines to write back during it.
void flushL2(const void* p, size_t bytes, cudaStream_t s);

// x[rows × hidden] (and residual when given: residual += x first, then y = norm(residual)·w).
void addRmsnorm(const void* x, void* residual, const void* w, void* y, int rows, int hidden, cudaStream_t s);
// in[rows × 2·inter] = [gate | up] → out[rows × inter] = silu(gate)·up
void siluMul(const void* in, void* out, int rows, int inter, cudaStream_t s);
// a += b, n elements
void add(void* a, const void* b, size_t n, cudaStream_t s);
// Neox rotary in place on the q and k heads of qkv[rows × ld]; positions[rows]
void rope(void* qkv, int ld, const int* positions, int rows, int heads, int kv_heads, cudaStream_t s);
// Copies k and v rows (row stride ld) into paged caches [blocks][block_size][kv_heads][128] at slot[t].
void cacheWrite(const void* k, const void* v, int ld, void* kcache, void* vcache, const int* slots, int rows, int kv_heads,
                int block_size, cudaStream_t s);
// Copies rows idx[i] of src (row length cols) to dst row i.
void gatherRows(const void* src, void* dst, const int* idx, int rows, int cols, cudaStream_t s);

// Causal prefill for one sequence: q_len queries at absolute positions ctx-q_len..ctx-1 attending to ctx keys.
// Q[q_len][ldq] (head h at column h·128), K/V[ctx][ldkv] (kv head at column kvh·128), O[q_len][ldo].
void prefillAttention(const void* q, int ldq, const void* kk, const void* v, int ldkv, void* o, int ldo, int q_len, int ctx,
                      int heads, int kv_heads, cudaStream_t s);
size_t prefillSmemBytes();
bool prefillSetup();  // raises the dynamic shared-memory limit; false if the GPU has too little

// Paged decode: one query token per sequence; q[seqs][ldq], out[seqs][ldo]; caches as cacheWrite;
// block_tables[seqs][max_blocks], context_lens[seqs]. scratch: decodeScratchBytes.
struct DecodeArgs {
  const void* q; int ldq;
  const void* kcache; const void* vcache;
  const int* block_tables; int max_blocks;
  const int* context_lens;
  void* out; int ldo;
  int seqs, heads, kv_heads, block_size, max_context;
  void* scratch;  // partial results of split contexts
  int split_tokens;  // context tokens per CTA (decodeSplit picks it)
};
int decodeSplit(int seqs, int kv_heads, int max_context, int sm_count);
size_t decodeScratchBytes(int seqs, int heads, int max_context, int split_tokens);
void decodeAttention(const DecodeArgs& a, cudaStream_t s);

}  // namespace k
