// `infersim-probe selftest`: checks the kernels and the cuBLASLt call against CPU references on
// small shapes, so timings are of code that computes the right thing.
#include <cuda_bf16.h>
#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "core.hpp"
#include "cublaslt.hpp"
#include "kernels.cuh"
#include "timing.cuh"

namespace probe {

namespace {

std::vector<float> download(const void* d, size_t n) {
  std::vector<__nv_bfloat16> h(n);
  CK(cudaMemcpy(h.data(), d, n * 2, cudaMemcpyDeviceToHost));
  std::vector<float> f(n);
  for (size_t i = 0; i < n; i++) f[i] = __bfloat162float(h[i]);
  return f;
}

void* randomDevice(size_t n, uint32_t seed, float scale) {
  void* p;
  CK(cudaMalloc(&p, n * 2));
  k::fillBf16(p, n, seed, scale, nullptr);
  CK(cudaDeviceSynchronize());
  return p;
}

double maxRelErr(const std::vector<float>& got, const std::vector<double>& want) {
  double scale = 1e-6, err = 0;
  for (double w : want) scale = std::max(scale, std::fabs(w));
  for (size_t i = 0; i < got.size(); i++) err = std::max(err, std::fabs(got[i] - want[i]));
  return err / scale;
}

// Reference attention of one query row against keys [0, upto] of K/V rows (row stride ld).
void refAttention(const std::vector<float>& q, const std::vector<float>& kk, const std::vector<float>& v, int ld, int kv_col,
                  int upto, std::vector<double>& out) {
  const int D = k::HEAD_DIM;
  std::vector<double> s(size_t(upto) + 1);
  double mx = -1e300;
  for (int t = 0; t <= upto; t++) {
    double dot = 0;
    for (int d = 0; d < D; d++) dot += double(q[size_t(d)]) * kk[size_t(t) * ld + kv_col + d];
    s[size_t(t)] = dot / std::sqrt(double(D));
    mx = std::max(mx, s[size_t(t)]);
  }
  double sum = 0;
  for (auto& x : s) { x = std::exp(x - mx); sum += x; }
  out.assign(D, 0.0);
  for (int t = 0; t <= upto; t++)
    for (int d = 0; d < D; d++) out[size_t(d)] += s[size_t(t)] / sum * v[size_t(t) * ld + kv_col + d];
}

}  // namespace

int runSelftest(int gpu, const std::string& cublas_path) {
  CK(cudaSetDevice(gpu));
  const int D = k::HEAD_DIM;
  int failures = 0;
  auto report = [&](const char* what, double err, double tol) {
    bool ok = err <= tol;
    failures += ok ? 0 : 1;
    fprintf(stderr, "selftest: %-34s max rel error %.2e (tolerance %.0e) %s\n", what, err, tol, ok ? "ok" : "FAILED");
  };
  if (!k::prefillSetup()) throw std::runtime_error("prefill kernel: too little shared memory");

  // Prefill: q_len 100 queries at the end of a 300-token context, 8 heads over 2 kv heads.
  {
    const int q_len = 100, ctx = 300, H = 8, KV = 2;
    void* q = randomDevice(size_t(q_len) * H * D, 11, 1.0f);
    void* kk = randomDevice(size_t(ctx) * KV * D, 12, 1.0f);
    void* v = randomDevice(size_t(ctx) * KV * D, 13, 1.0f);
    void* o;
    CK(cudaMalloc(&o, size_t(q_len) * H * D * 2));
    k::prefillAttention(q, H * D, kk, v, KV * D, o, H * D, q_len, ctx, H, KV, nullptr);
    CK(cudaDeviceSynchronize());
    auto hq = download(q, size_t(q_len) * H * D), hk = download(kk, size_t(ctx) * KV * D), hv = download(v, size_t(ctx) * KV * D);
    auto ho = download(o, size_t(q_len) * H * D);
    std::vector<float> got;
    std::vector<double> want, row;
    for (int i : {0, 37, 63, 64, 99})
      for (int h = 0; h < H; h++) {
        std::vector<float> qrow(hq.begin() + (size_t(i) * H + h) * D, hq.begin() + (size_t(i) * H + h + 1) * D);
        refAttention(qrow, hk, hv, KV * D, (h / (H / KV)) * D, ctx - q_len + i, row);
        want.insert(want.end(), row.begin(), row.end());
        got.insert(got.end(), ho.begin() + (size_t(i) * H + h) * D, ho.begin() + (size_t(i) * H + h + 1) * D);
      }
    report("prefill attention (causal, GQA 4)", maxRelErr(got, want), 2e-2);
    cudaFree(q); cudaFree(kk); cudaFree(v); cudaFree(o);
  }

  // Paged decode: 3 sequences (contexts 1, 700, 1500), 16 heads over 2 kv heads, block 16, scattered blocks.
  for (int split : {64, 512}) {
    const int H = 16, KV = 2, bs = 16;
    std::vector<int> lens = {1, 700, 1500};
    int seqs = 3, max_ctx = 1500, max_blocks = (max_ctx + bs - 1) / bs, total_blocks = seqs * max_blocks;
    std::vector<int> table(size_t(seqs) * max_blocks);
    for (int i = 0; i < int(table.size()); i++) table[size_t(i)] = (i * 37) % total_blocks;  // 37 is coprime to 282
    void* kc = randomDevice(size_t(total_blocks) * bs * KV * D, 21, 1.0f);
    void* vc = randomDevice(size_t(total_blocks) * bs * KV * D, 22, 1.0f);
    void* q = randomDevice(size_t(seqs) * H * D, 23, 1.0f);
    void *o, *bt, *cl, *scratch;
    CK(cudaMalloc(&o, size_t(seqs) * H * D * 2));
    CK(cudaMalloc(&bt, table.size() * 4));
    CK(cudaMalloc(&cl, lens.size() * 4));
    CK(cudaMemcpy(bt, table.data(), table.size() * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(cl, lens.data(), lens.size() * 4, cudaMemcpyHostToDevice));
    k::DecodeArgs a{};
    a.q = q; a.ldq = H * D; a.kcache = kc; a.vcache = vc; a.block_tables = static_cast<int*>(bt); a.max_blocks = max_blocks;
    a.context_lens = static_cast<int*>(cl); a.out = o; a.ldo = H * D; a.seqs = seqs; a.heads = H; a.kv_heads = KV;
    a.block_size = bs; a.max_context = max_ctx; a.split_tokens = split;
    CK(cudaMalloc(&scratch, k::decodeScratchBytes(seqs, H, max_ctx, split)));
    a.scratch = scratch;
    k::decodeAttention(a, nullptr);
    CK(cudaDeviceSynchronize());
    auto hk = download(kc, size_t(total_blocks) * bs * KV * D), hv = download(vc, size_t(total_blocks) * bs * KV * D);
    auto hq = download(q, size_t(seqs) * H * D), ho = download(o, size_t(seqs) * H * D);
    std::vector<float> got;
    std::vector<double> want, row;
    for (int s = 0; s < seqs; s++) {
      // Gather the sequence's K/V rows in token order, then reuse the dense reference.
      std::vector<float> sk(size_t(lens[size_t(s)]) * KV * D), sv(sk.size());
      for (int t = 0; t < lens[size_t(s)]; t++) {
        size_t src = (size_t(table[size_t(s) * max_blocks + t / bs]) * bs + t % bs) * KV * D;
        std::copy(hk.begin() + src, hk.begin() + src + KV * D, sk.begin() + size_t(t) * KV * D);
        std::copy(hv.begin() + src, hv.begin() + src + KV * D, sv.begin() + size_t(t) * KV * D);
      }
      for (int h = 0; h < H; h++) {
        std::vector<float> qrow(hq.begin() + (size_t(s) * H + h) * D, hq.begin() + (size_t(s) * H + h + 1) * D);
        refAttention(qrow, sk, sv, KV * D, (h / (H / KV)) * D, lens[size_t(s)] - 1, row);
        want.insert(want.end(), row.begin(), row.end());
        got.insert(got.end(), ho.begin() + (size_t(s) * H + h) * D, ho.begin() + (size_t(s) * H + h + 1) * D);
      }
    }
    report(split == 64 ? "paged decode (split 64, GQA 8)" : "paged decode (split 512, GQA 8)", maxRelErr(got, want), 2e-2);
    cudaFree(kc); cudaFree(vc); cudaFree(q); cudaFree(o); cudaFree(bt); cudaFree(cl); cudaFree(scratch);
  }

  // cuBLASLt TN GEMM: D[m×n] = X[m×k] · W[n×k]ᵀ.
  {
    lt::Api api;
    std::string err;
    if (!lt::load(api, cublas_path, err)) throw std::runtime_error(err);
    fprintf(stderr, "selftest: cuBLASLt %s (version %zu)\n", api.path.c_str(), api.getVersion());
    lt::Handle h;
    api.create(&h);
    const int m = 33, n = 128, kk = 256;
    void* x = randomDevice(size_t(m) * kk, 31, 1.0f);
    void* w = randomDevice(size_t(n) * kk, 32, 1.0f);
    void *d, *ws;
    CK(cudaMalloc(&d, size_t(m) * n * 2));
    CK(cudaMalloc(&ws, 32u << 20));
    lt::Gemm g;
    if (!lt::plan(api, h, g, "bf16", m, n, kk, 32u << 20)) throw std::runtime_error("cuBLASLt: no algorithm for the selftest GEMM");
    int st = lt::run(api, h, g, x, w, d, ws, nullptr);
    CK(cudaDeviceSynchronize());
    if (st != 0) throw std::runtime_error("cublasLtMatmul status " + std::to_string(st));
    auto hx = download(x, size_t(m) * kk), hw = download(w, size_t(n) * kk), hd = download(d, size_t(m) * n);
    std::vector<double> want(size_t(m) * n);
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++) {
        double acc = 0;
        for (int l = 0; l < kk; l++) acc += double(hx[size_t(i) * kk + l]) * hw[size_t(j) * kk + l];
        want[size_t(i) * n + j] = acc;
      }
    report("cuBLASLt bf16 GEMM (TN)", maxRelErr(hd, want), 2e-2);
    lt::release(api, g);
    api.destroy(h);
    cudaFree(x); cudaFree(w); cudaFree(d); cudaFree(ws);
  }
  fprintf(stderr, "selftest: %s\n", failures ? "FAILED" : "all passed");
  return failures ? 1 : 0;
}

}  // namespace probe
