#include "kernels.cuh"

#include <cuda_bf16.h>
#include <mma.h>
#include <cfloat>

namespace k {

using nv = __nv_bfloat16;
constexpr int D = HEAD_DIM;

// ---- fills and trivial kernels -------------------------------------------------------------

__device__ __forceinline__ uint32_t hash(uint32_t x) {
  x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16;
  return x;
}

__global__ void fillBf16Kernel(nv* p, size_t n, uint32_t seed, float scale) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    float u = float(hash(uint32_t(i) ^ hash(seed + uint32_t(i >> 32)))) * (1.0f / 4294967296.0f);
    p[i] = __float2bfloat16((2.0f * u - 1.0f) * scale);
  }
}
__global__ void fillBytesKernel(uint8_t* p, size_t n, uint32_t seed, uint8_t mask) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    p[i] = uint8_t(hash(uint32_t(i) ^ seed)) & mask;
}
__global__ void emptyKernel() {}
__global__ void flushKernel(const uint4* p, size_t n, unsigned* sink) {
  unsigned acc = 0;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    uint4 v = p[i];
    acc ^= v.x ^ v.y ^ v.z ^ v.w;
  }
  if (acc == 0x9E3779B9u) *sink = acc;  // a data-dependent store keeps the loads
}

void fillBf16(void* p, size_t n, uint32_t seed, float scale, cudaStream_t s) {
  fillBf16Kernel<<<1024, 256, 0, s>>>(static_cast<nv*>(p), n, seed, scale);
}
void fillBytes(void* p, size_t n, uint32_t seed, uint8_t mask, cudaStream_t s) {
  fillBytesKernel<<<1024, 256, 0, s>>>(static_cast<uint8_t*>(p), n, seed, mask);
}
void empty(cudaStream_t s) { emptyKernel<<<1, 32, 0, s>>>(); }
void flushL2(const void* p, size_t bytes, cudaStream_t s) {
  // The buffer's last 16 bytes are the sink (never read back).
  size_t n = bytes / 16 - 1;
  flushKernel<<<1024, 256, 0, s>>>(static_cast<const uint4*>(p), n, reinterpret_cast<unsigned*>(static_cast<char*>(const_cast<void*>(p)) + n * 16));
}

// ---- memory-bound layer ops (16-byte vectors of 8 bf16) -------------------------------------

struct alignas(16) V8 { nv h[8]; };

__device__ __forceinline__ float blockSum(float v, float* red) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
  if (lane == 0) red[warp] = v;
  __syncthreads();
  v = lane < warps ? red[lane] : 0.0f;
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  __syncthreads();
  return v;
}

// One block per row; each thread keeps up to 4 vectors (hidden ≤ 32768 at 1024 threads).
__global__ void addRmsnormKernel(const V8* x, V8* res, const V8* w, V8* y, int vecs) {
  __shared__ float red[32];
  size_t row = blockIdx.x;
  V8 vals[4];
  float ss = 0;
#pragma unroll
  for (int j = 0; j < 4; j++) {
    int i = threadIdx.x + j * blockDim.x;
    if (i < vecs) {
      V8 a = x[row * vecs + i];
      if (res) {
        V8 r = res[row * vecs + i];
#pragma unroll
        for (int e = 0; e < 8; e++) a.h[e] = __float2bfloat16(__bfloat162float(a.h[e]) + __bfloat162float(r.h[e]));
        res[row * vecs + i] = a;
      }
#pragma unroll
      for (int e = 0; e < 8; e++) { float f = __bfloat162float(a.h[e]); ss += f * f; }
      vals[j] = a;
    }
  }
  float total = blockSum(ss, red);
  float inv = rsqrtf(total / float(vecs * 8) + 1e-6f);
#pragma unroll
  for (int j = 0; j < 4; j++) {
    int i = threadIdx.x + j * blockDim.x;
    if (i < vecs) {
      V8 ww = w[i], o;
#pragma unroll
      for (int e = 0; e < 8; e++) o.h[e] = __float2bfloat16(__bfloat162float(vals[j].h[e]) * inv * __bfloat162float(ww.h[e]));
      y[row * vecs + i] = o;
    }
  }
}

void addRmsnorm(const void* x, void* residual, const void* w, void* y, int rows, int hidden, cudaStream_t s) {
  int vecs = hidden / 8;
  int threads = min(1024, max(32, ((vecs + 3) / 4 + 31) / 32 * 32));
  addRmsnormKernel<<<rows, threads, 0, s>>>(static_cast<const V8*>(x), static_cast<V8*>(residual), static_cast<const V8*>(w),
                                            static_cast<V8*>(y), vecs);
}

__global__ void siluMulKernel(const V8* in, V8* out, int rows, int vecs) {
  size_t n = size_t(rows) * vecs;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    size_t r = i / vecs, c = i % vecs;
    V8 g = in[r * 2 * vecs + c], u = in[r * 2 * vecs + vecs + c], o;
#pragma unroll
    for (int e = 0; e < 8; e++) {
      float gf = __bfloat162float(g.h[e]);
      o.h[e] = __float2bfloat16(gf / (1.0f + __expf(-gf)) * __bfloat162float(u.h[e]));
    }
    out[i] = o;
  }
}

static int gridFor(size_t n, int threads) {
  size_t blocks = (n + threads - 1) / threads;
  return int(blocks < 65535 * 8 ? (blocks > 0 ? blocks : 1) : 65535 * 8);
}

void siluMul(const void* in, void* out, int rows, int inter, cudaStream_t s) {
  size_t n = size_t(rows) * (inter / 8);
  siluMulKernel<<<gridFor(n, 256), 256, 0, s>>>(static_cast<const V8*>(in), static_cast<V8*>(out), rows, inter / 8);
}

__global__ void addKernel(V8* a, const V8* b, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    V8 x = a[i], y = b[i];
#pragma unroll
    for (int e = 0; e < 8; e++) x.h[e] = __float2bfloat16(__bfloat162float(x.h[e]) + __bfloat162float(y.h[e]));
    a[i] = x;
  }
}
void add(void* a, const void* b, size_t n, cudaStream_t s) {
  addKernel<<<gridFor(n / 8, 256), 256, 0, s>>>(static_cast<V8*>(a), static_cast<const V8*>(b), n / 8);
}

// One thread per (row, head, pair-vector): rotates 8 pairs (x[i], x[i+64]).
__global__ void ropeKernel(nv* qkv, int ld, const int* pos, int rows, int heads_qk) {
  size_t n = size_t(rows) * heads_qk * 8;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    int v = int(i % 8);
    size_t rh = i / 8;
    int h = int(rh % heads_qk);
    size_t r = rh / heads_qk;
    nv* base = qkv + r * ld + size_t(h) * D;
    V8 lo = *reinterpret_cast<V8*>(base + v * 8), hi = *reinterpret_cast<V8*>(base + 64 + v * 8), olo, ohi;
    float p = float(pos[r]);
#pragma unroll
    for (int e = 0; e < 8; e++) {
      int j = v * 8 + e;
      float inv_freq = exp2f(-float(j) * (13.287712f / 64.0f));  // 10000^(-j/64)
      float sn, cs;
      __sincosf(p * inv_freq, &sn, &cs);
      float a = __bfloat162float(lo.h[e]), b = __bfloat162float(hi.h[e]);
      olo.h[e] = __float2bfloat16(a * cs - b * sn);
      ohi.h[e] = __float2bfloat16(b * cs + a * sn);
    }
    *reinterpret_cast<V8*>(base + v * 8) = olo;
    *reinterpret_cast<V8*>(base + 64 + v * 8) = ohi;
  }
}
void rope(void* qkv, int ld, const int* positions, int rows, int heads, int kv_heads, cudaStream_t s) {
  size_t n = size_t(rows) * (heads + kv_heads) * 8;
  ropeKernel<<<gridFor(n, 256), 256, 0, s>>>(static_cast<nv*>(qkv), ld, positions, rows, heads + kv_heads);
}

__global__ void cacheWriteKernel(const nv* kk, const nv* v, int ld, nv* kc, nv* vc, const int* slots, int rows, int kv_heads) {
  size_t n = size_t(rows) * kv_heads * (D / 8);
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    int c = int(i % (kv_heads * (D / 8)));
    size_t r = i / (kv_heads * (D / 8));
    size_t dst = size_t(slots[r]) * kv_heads * D + size_t(c) * 8;
    *reinterpret_cast<V8*>(kc + dst) = *reinterpret_cast<const V8*>(kk + r * ld + c * 8);
    *reinterpret_cast<V8*>(vc + dst) = *reinterpret_cast<const V8*>(v + r * ld + c * 8);
  }
}
void cacheWrite(const void* kk, const void* v, int ld, void* kcache, void* vcache, const int* slots, int rows, int kv_heads,
                int, cudaStream_t s) {
  size_t n = size_t(rows) * kv_heads * (D / 8);
  cacheWriteKernel<<<gridFor(n, 256), 256, 0, s>>>(static_cast<const nv*>(kk), static_cast<const nv*>(v), ld,
                                                    static_cast<nv*>(kcache), static_cast<nv*>(vcache), slots, rows, kv_heads);
}

__global__ void gatherRowsKernel(const V8* src, V8* dst, const int* idx, int rows, int vecs) {
  size_t n = size_t(rows) * vecs;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    dst[i] = src[size_t(idx[i / vecs]) * vecs + i % vecs];
}
void gatherRows(const void* src, void* dst, const int* idx, int rows, int cols, cudaStream_t s) {
  size_t n = size_t(rows) * (cols / 8);
  gatherRowsKernel<<<gridFor(n, 256), 256, 0, s>>>(static_cast<const V8*>(src), static_cast<V8*>(dst), idx, rows, cols / 8);
}

// ---- causal prefill attention: tensor cores through WMMA, online softmax --------------------
//
// A CTA of 4 warps takes 64 query rows of one head (16 per warp) and walks 64-key tiles up to the
// causal limit. Per tile: S = Q·Kᵀ (WMMA, fp32) into shared memory, the warp's rows get the online
// softmax (running max and sum), O (fp32, in shared memory) is rescaled and O += P·V (WMMA).

constexpr int BM = 64, BN = 64;
constexpr int LDH = D + 8;    // bf16 tiles, padded rows
constexpr int LDS = BN + 4;   // fp32 scores
constexpr int LDP = BN + 8;   // bf16 probabilities
constexpr int LDO = D + 4;    // fp32 output accumulator

struct PrefillSmem {
  nv q[BM * LDH];
  nv k[BN * LDH];
  nv v[BN * LDH];
  float s[BM * LDS];
  nv p[BM * LDP];
  float o[BM * LDO];
  float m[BM], l[BM];
};

size_t prefillSmemBytes() { return sizeof(PrefillSmem); }

__device__ __forceinline__ void loadTile(nv* dst, const nv* src, int ld, int rows_valid, int tid) {
  // 64 rows × 16 vectors of 16 bytes; 128 threads → 8 each.
#pragma unroll
  for (int j = 0; j < 8; j++) {
    int idx = tid + j * 128;
    int r = idx / 16, c = idx % 16;
    V8 val;
    if (r < rows_valid) val = *reinterpret_cast<const V8*>(src + size_t(r) * ld + c * 8);
    else {
#pragma unroll
      for (int e = 0; e < 8; e++) val.h[e] = __float2bfloat16(0.0f);
    }
    *reinterpret_cast<V8*>(dst + r * LDH + c * 8) = val;
  }
}

__global__ void __launch_bounds__(128) prefillKernel(const nv* q, int ldq, const nv* kk, const nv* v, int ldkv, nv* o, int ldo,
                                                     int q_len, int ctx, int group) {
  using namespace nvcuda;
  extern __shared__ __align__(128) unsigned char smem_raw[];
  PrefillSmem& sm = *reinterpret_cast<PrefillSmem*>(smem_raw);
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int h = blockIdx.y, kvh = h / group;
  const int q0 = blockIdx.x * BM;
  const int offset = ctx - q_len;  // absolute position of query row 0
  const float scale_log2 = 1.4426950408889634f / sqrtf(float(D));

  loadTile(sm.q, q + size_t(q0) * ldq + size_t(h) * D, ldq, min(BM, q_len - q0), tid);
  for (int i = tid; i < BM * LDO; i += 128) sm.o[i] = 0.0f;
  if (tid < BM) { sm.m[tid] = -FLT_MAX; sm.l[tid] = 0.0f; }

  const int last_key = min(ctx - 1, offset + q0 + BM - 1);
  const int tiles = last_key / BN + 1;
  for (int t = 0; t < tiles; t++) {
    const int k0 = t * BN;
    __syncthreads();  // previous tile's K/V no longer in use
    loadTile(sm.k, kk + size_t(k0) * ldkv + size_t(kvh) * D, ldkv, min(BN, ctx - k0), tid);
    loadTile(sm.v, v + size_t(k0) * ldkv + size_t(kvh) * D, ldkv, min(BN, ctx - k0), tid);
    __syncthreads();

    // S[warp rows] = Q · Kᵀ
    {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[BN / 16];
#pragma unroll
      for (int j = 0; j < BN / 16; j++) wmma::fill_fragment(acc[j], 0.0f);
#pragma unroll
      for (int kd = 0; kd < D / 16; kd++) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, nv, wmma::row_major> a;
        wmma::load_matrix_sync(a, sm.q + warp * 16 * LDH + kd * 16, LDH);
#pragma unroll
        for (int j = 0; j < BN / 16; j++) {
          wmma::fragment<wmma::matrix_b, 16, 16, 16, nv, wmma::col_major> b;
          wmma::load_matrix_sync(b, sm.k + j * 16 * LDH + kd * 16, LDH);
          wmma::mma_sync(acc[j], a, b, acc[j]);
        }
      }
#pragma unroll
      for (int j = 0; j < BN / 16; j++)
        wmma::store_matrix_sync(sm.s + warp * 16 * LDS + j * 16, acc[j], LDS, wmma::mem_row_major);
    }
    __syncwarp();

    // Online softmax: two lanes per row, 32 columns each.
    {
      const int r = warp * 16 + lane / 2, half = lane % 2;
      const int qpos = offset + q0 + r;
      float* srow = sm.s + r * LDS + half * 32;
      float mx = -FLT_MAX;
#pragma unroll 8
      for (int c = 0; c < 32; c++) {
        int kpos = k0 + half * 32 + c;
        float x = (kpos <= qpos && kpos < ctx) ? srow[c] * scale_log2 : -FLT_MAX;
        srow[c] = x;
        mx = fmaxf(mx, x);
      }
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
      const float m_old = sm.m[r];
      const float m_new = fmaxf(m_old, mx);
      const float alpha = m_new == -FLT_MAX ? 1.0f : exp2f(m_old - m_new);
      float sum = 0;
      nv* prow = sm.p + r * LDP + half * 32;
#pragma unroll 8
      for (int c = 0; c < 32; c++) {
        float p = srow[c] == -FLT_MAX ? 0.0f : exp2f(srow[c] - m_new);
        sum += p;
        prow[c] = __float2bfloat16(p);
      }
      sum += __shfl_xor_sync(0xffffffffu, sum, 1);
      float* orow = sm.o + r * LDO + half * 64;
#pragma unroll 8
      for (int c = 0; c < 64; c++) orow[c] *= alpha;
      __syncwarp();
      if (half == 0) { sm.m[r] = m_new; sm.l[r] = sm.l[r] * alpha + sum; }
    }
    __syncwarp();

    // O[warp rows] += P · V
    {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[D / 16];
#pragma unroll
      for (int j = 0; j < D / 16; j++)
        wmma::load_matrix_sync(acc[j], sm.o + warp * 16 * LDO + j * 16, LDO, wmma::mem_row_major);
#pragma unroll
      for (int kk2 = 0; kk2 < BN / 16; kk2++) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, nv, wmma::row_major> a;
        wmma::load_matrix_sync(a, sm.p + warp * 16 * LDP + kk2 * 16, LDP);
#pragma unroll
        for (int j = 0; j < D / 16; j++) {
          wmma::fragment<wmma::matrix_b, 16, 16, 16, nv, wmma::row_major> b;
          wmma::load_matrix_sync(b, sm.v + kk2 * 16 * LDH + j * 16, LDH);
          wmma::mma_sync(acc[j], a, b, acc[j]);
        }
      }
#pragma unroll
      for (int j = 0; j < D / 16; j++)
        wmma::store_matrix_sync(sm.o + warp * 16 * LDO + j * 16, acc[j], LDO, wmma::mem_row_major);
    }
  }
  __syncthreads();
  // Normalise and write: 64 rows × 16 vectors.
  for (int idx = tid; idx < BM * 16; idx += 128) {
    int r = idx / 16, c = idx % 16;
    if (q0 + r >= q_len) continue;
    float inv = sm.l[r] > 0 ? 1.0f / sm.l[r] : 0.0f;
    V8 out;
#pragma unroll
    for (int e = 0; e < 8; e++) out.h[e] = __float2bfloat16(sm.o[r * LDO + c * 8 + e] * inv);
    *reinterpret_cast<V8*>(o + size_t(q0 + r) * ldo + size_t(h) * D + c * 8) = out;
  }
}

bool prefillSetup() {
  int dev = 0, max_optin = 0;
  cudaGetDevice(&dev);
  cudaDeviceGetAttribute(&max_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev);
  if (size_t(max_optin) < sizeof(PrefillSmem)) return false;
  return cudaFuncSetAttribute(prefillKernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(sizeof(PrefillSmem))) == cudaSuccess;
}

void prefillAttention(const void* q, int ldq, const void* kk, const void* v, int ldkv, void* o, int ldo, int q_len, int ctx,
                      int heads, int kv_heads, cudaStream_t s) {
  dim3 grid((q_len + BM - 1) / BM, heads);
  prefillKernel<<<grid, 128, sizeof(PrefillSmem), s>>>(static_cast<const nv*>(q), ldq, static_cast<const nv*>(kk),
                                                       static_cast<const nv*>(v), ldkv, static_cast<nv*>(o), ldo, q_len, ctx,
                                                       heads / kv_heads);
}

// ---- paged decode attention (split-K over the context, FlashDecoding style) ------------------
//
// A CTA of 128 threads takes one (sequence, kv head, context split) and all G query heads that
// share the kv head, so each K/V row is read from HBM once. Scores: a half-warp per token (16 lanes
// × 16 bytes = one 256-byte K row), reduced with shuffles. P·V: 16 lanes cover a V row, 8 token
// groups accumulate and are summed through shared memory. Splits are merged by a second kernel.

constexpr int MAX_SPLIT = 512;

template <int G>
__global__ void __launch_bounds__(128) decodeKernel(DecodeArgs a) {
  __shared__ float qs[G][D];
  __shared__ float sc[G][MAX_SPLIT];
  __shared__ float red[4][G][D];
  __shared__ float stat[G][2];
  const int tid = threadIdx.x, lane16 = tid % 16, hw = tid / 16;
  const int seq = blockIdx.y, kvh = blockIdx.x, split = blockIdx.z;
  const int ctx = a.context_lens[seq];
  const int t0 = split * a.split_tokens;
  const int splits = (a.max_context + a.split_tokens - 1) / a.split_tokens;
  const int h0 = kvh * G;
  float* part = static_cast<float*>(a.scratch);
  const size_t part_row = size_t(seq) * a.heads + h0;  // partial rows [seqs·heads][splits][D + 2]
  if (t0 >= ctx) return;
  const int t1 = min(ctx, t0 + a.split_tokens);
  const nv* kc = static_cast<const nv*>(a.kcache);
  const nv* vc = static_cast<const nv*>(a.vcache);
  const int* bt = a.block_tables + size_t(seq) * a.max_blocks;
  const float scale = rsqrtf(float(D));

  const nv* q = static_cast<const nv*>(a.q) + size_t(seq) * a.ldq + size_t(h0) * D;
  for (int i = tid; i < G * D; i += 128) qs[i / D][i % D] = __bfloat162float(q[i]) * scale;
  __syncthreads();
  float qr[G][8];
#pragma unroll
  for (int g = 0; g < G; g++)
#pragma unroll
    for (int e = 0; e < 8; e++) qr[g][e] = qs[g][lane16 * 8 + e];

  auto rowPtr = [&](const nv* cache, int t) {
    int blk = bt[t / a.block_size];
    return cache + ((size_t(blk) * a.block_size + t % a.block_size) * a.kv_heads + kvh) * D;
  };

  // Scores: 8 half-warps, 4 tokens in flight each. The loop bound is uniform across a warp (both
  // half-warps run every trip) because the shuffles below need all 32 lanes.
  const int half = hw & 1;
  for (int tb = t0 + (hw & ~1); tb < t1; tb += 8 * 4) {
    V8 kv[4];
#pragma unroll
    for (int u = 0; u < 4; u++) {
      int t = tb + half + u * 8;
      if (t < t1) kv[u] = *reinterpret_cast<const V8*>(rowPtr(kc, t) + lane16 * 8);
    }
#pragma unroll
    for (int u = 0; u < 4; u++) {
      int t = tb + half + u * 8;
      float kf[8];
#pragma unroll
      for (int e = 0; e < 8; e++) kf[e] = __bfloat162float(kv[u].h[e]);
#pragma unroll
      for (int g = 0; g < G; g++) {
        float dot = 0;
#pragma unroll
        for (int e = 0; e < 8; e++) dot += qr[g][e] * kf[e];
#pragma unroll
        for (int o = 8; o > 0; o >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, o);
        if (lane16 == 0 && t < t1) sc[g][t - t0] = dot;
      }
    }
  }
  __syncthreads();

  // Softmax statistics per head: warp w takes heads w, w+4, …
  const int warp = tid / 32, lane = tid % 32, n = t1 - t0;
  for (int g = warp; g < G; g += 4) {
    float mx = -FLT_MAX;
    for (int i = lane; i < n; i += 32) mx = fmaxf(mx, sc[g][i]);
    for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
    float sum = 0;
    for (int i = lane; i < n; i += 32) { float p = __expf(sc[g][i] - mx); sc[g][i] = p; sum += p; }
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    if (lane == 0) { stat[g][0] = mx; stat[g][1] = sum; }
  }
  __syncthreads();

  // P·V: 8 token groups × 16 lanes of 8 dims.
  float acc[G][8];
#pragma unroll
  for (int g = 0; g < G; g++)
#pragma unroll
    for (int e = 0; e < 8; e++) acc[g][e] = 0;
  for (int tb = t0 + hw; tb < t1; tb += 8 * 4) {
    V8 vv[4];
#pragma unroll
    for (int u = 0; u < 4; u++) {
      int t = tb + u * 8;
      if (t < t1) vv[u] = *reinterpret_cast<const V8*>(rowPtr(vc, t) + lane16 * 8);
    }
#pragma unroll
    for (int u = 0; u < 4; u++) {
      int t = tb + u * 8;
      if (t >= t1) break;
#pragma unroll
      for (int g = 0; g < G; g++) {
        float p = sc[g][t - t0];
#pragma unroll
        for (int e = 0; e < 8; e++) acc[g][e] += p * __bfloat162float(vv[u].h[e]);
      }
    }
  }
  // Sum the two half-warps of each warp, then the 4 warps.
#pragma unroll
  for (int g = 0; g < G; g++)
#pragma unroll
    for (int e = 0; e < 8; e++) acc[g][e] += __shfl_xor_sync(0xffffffffu, acc[g][e], 16);
  if (lane < 16) {
#pragma unroll
    for (int g = 0; g < G; g++)
#pragma unroll
      for (int e = 0; e < 8; e++) red[warp][g][lane * 8 + e] = acc[g][e];
  }
  __syncthreads();
  for (int i = tid; i < G * D; i += 128) {
    int g = i / D, d = i % D;
    float o = red[0][g][d] + red[1][g][d] + red[2][g][d] + red[3][g][d];
    if (splits == 1) {
      nv* out = static_cast<nv*>(a.out) + size_t(seq) * a.ldo + size_t(h0 + g) * D;
      out[d] = __float2bfloat16(o / stat[g][1]);
    } else {
      float* row = part + ((part_row + g) * splits + split) * (D + 2);
      row[d] = o;
      if (d == 0) { row[D] = stat[g][0]; row[D + 1] = stat[g][1]; }
    }
  }
}

__global__ void decodeCombine(DecodeArgs a) {
  const int seq = blockIdx.y, h = blockIdx.x, d = threadIdx.x;
  const int splits = (a.max_context + a.split_tokens - 1) / a.split_tokens;
  const int used = (a.context_lens[seq] + a.split_tokens - 1) / a.split_tokens;
  const float* rows = static_cast<const float*>(a.scratch) + (size_t(seq) * a.heads + h) * splits * (D + 2);
  float mx = -FLT_MAX;
  for (int s = 0; s < used; s++) mx = fmaxf(mx, rows[s * (D + 2) + D]);
  float sum = 0, o = 0;
  for (int s = 0; s < used; s++) {
    float w = __expf(rows[s * (D + 2) + D] - mx);
    sum += w * rows[s * (D + 2) + D + 1];
    o += w * rows[s * (D + 2) + d];
  }
  static_cast<nv*>(a.out)[size_t(seq) * a.ldo + size_t(h) * D + d] = __float2bfloat16(o / sum);
}

int decodeSplit(int seqs, int kv_heads, int max_context, int sm_count) {
  // Enough CTAs for two waves where the context allows it; at least 64 tokens a CTA.
  int split = MAX_SPLIT;
  while (split > 64 && long(seqs) * kv_heads * ((max_context + split - 1) / split) < 2L * sm_count) split /= 2;
  return split;
}

size_t decodeScratchBytes(int seqs, int heads, int max_context, int split_tokens) {
  size_t splits = (max_context + split_tokens - 1) / split_tokens;
  return size_t(seqs) * heads * splits * (D + 2) * sizeof(float);
}

void decodeAttention(const DecodeArgs& a, cudaStream_t s) {
  int splits = (a.max_context + a.split_tokens - 1) / a.split_tokens;
  dim3 grid(a.kv_heads, a.seqs, splits);
  switch (a.heads / a.kv_heads) {
    case 1: decodeKernel<1><<<grid, 128, 0, s>>>(a); break;
    case 2: decodeKernel<2><<<grid, 128, 0, s>>>(a); break;
    case 4: decodeKernel<4><<<grid, 128, 0, s>>>(a); break;
    default: decodeKernel<8><<<grid, 128, 0, s>>>(a); break;
  }
  if (splits > 1) decodeCombine<<<dim3(a.heads, a.seqs), D, 0, s>>>(a);
}

}  // namespace k
