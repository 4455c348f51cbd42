// `infersim-probe iteration`: one whole transformer iteration (every layer's ops in sequence, random
// bf16 weights) for given batch shapes, captured in a CUDA graph and replayed, as engines replay
// theirs; the eager (launch-by-launch) time is recorded too.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstring>

#include "core.hpp"
#include "cublaslt.hpp"
#include "kernels.cuh"
#include "timing.cuh"

namespace probe {

json::Value gpuBlockOf(int dev);

namespace {

struct Dev {
  void* p = nullptr;
  Dev() = default;
  Dev(const Dev&) = delete;
  Dev& operator=(const Dev&) = delete;
  ~Dev() { if (p) cudaFree(p); }
  void alloc(size_t bytes) {
    if (p) cudaFree(p);
    p = nullptr;
    CK(cudaMalloc(&p, std::max<size_t>(bytes, 16)));
  }
  template <typename T> T* as() const { return static_cast<T*>(p); }
  char* c() const { return static_cast<char*>(p); }
};

struct LayerWeights { Dev qkv, o, gate_up, down, ln1, ln2; };
struct LayerCache { Dev k, v; };

}  // namespace

json::Value runIteration(int gpu, const std::string& cublas_path, const ModelDims& m, int layers,
                         const std::vector<IterationShape>& shapes, int block_size) {
  const long D = k::HEAD_DIM;
  if (m.head_dim != D) throw std::runtime_error("head_dim " + std::to_string(m.head_dim) + " is not supported (the probe's attention kernels are built for 128)");
  long group = m.heads / m.kv_heads;
  if (m.heads % m.kv_heads != 0 || (group != 1 && group != 2 && group != 4 && group != 8))
    throw std::runtime_error("heads / kv_heads must be 1, 2, 4 or 8");
  if (m.hidden % 8 || m.intermediate % 8) throw std::runtime_error("hidden and intermediate sizes must be multiples of 8");

  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || gpu >= n) throw std::runtime_error("no usable CUDA GPU " + std::to_string(gpu));
  CK(cudaSetDevice(gpu));
  lt::Api api;
  std::string err;
  if (!lt::load(api, cublas_path, err)) throw std::runtime_error(err);
  lt::Handle h = nullptr;
  if (api.create(&h) != 0) throw std::runtime_error("cublasLtCreate failed");
  cudaStream_t s;
  CK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  cudaDeviceProp prop{};
  CK(cudaGetDeviceProperties(&prop, gpu));
  if (!k::prefillSetup()) throw std::runtime_error("too little shared memory per block for the prefill kernel");

  const long H = m.heads, KV = m.kv_heads, hid = m.hidden, I = m.intermediate;
  const long qkv_n = (H + 2 * KV) * D;

  // Memory check before allocating: weights of the timed layers, the LM head, caches and activations.
  long max_tokens = 1, max_seqs = 1, max_blocks = 1, max_ctx = 1;
  for (auto& sh : shapes) {
    long t = 0, sq = 0, blocks = 0, ctx = 1;
    for (long p : sh.prefill) { t += p; sq++; blocks += (p + block_size - 1) / block_size; }
    for (auto& d : sh.decode) { t += d.second; sq += d.second; blocks += d.second * ((d.first + block_size - 1) / block_size); ctx = std::max(ctx, d.first); }
    max_tokens = std::max(max_tokens, t); max_seqs = std::max(max_seqs, sq); max_blocks = std::max(max_blocks, blocks); max_ctx = std::max(max_ctx, ctx);
  }
  size_t weight_bytes = size_t(layers) * 2 * (qkv_n * hid + hid * H * D + 2 * I * hid + hid * I + 2 * hid) + 2 * size_t(m.vocab) * hid;
  size_t cache_bytes = size_t(layers) * 2 * size_t(max_blocks) * block_size * KV * D * 2;
  size_t act_bytes = size_t(max_tokens) * 2 * (4 * hid + qkv_n + H * D + 3 * I) + size_t(max_seqs) * 2 * (hid + m.vocab);
  size_t free_b = 0, total_b = 0;
  CK(cudaMemGetInfo(&free_b, &total_b));
  if (weight_bytes + cache_bytes + act_bytes > size_t(double(free_b) * 0.92)) {
    char msg[256];
    snprintf(msg, sizeof msg, "needs %.1f GiB (weights %.1f, KV cache %.1f, activations %.1f) but %.1f GiB are free: pass --layers N",
             (weight_bytes + cache_bytes + act_bytes) / 1073741824.0, weight_bytes / 1073741824.0, cache_bytes / 1073741824.0,
             act_bytes / 1073741824.0, free_b / 1073741824.0);
    throw std::runtime_error(msg);
  }

  uint32_t seed = 7;
  auto randomFill = [&](Dev& d, size_t elems, float scale) { d.alloc(elems * 2); k::fillBf16(d.p, elems, seed++, scale, s); };
  std::vector<LayerWeights> W(static_cast<size_t>(layers));
  std::vector<LayerCache> C(static_cast<size_t>(layers));
  for (auto& w : W) {
    randomFill(w.qkv, size_t(qkv_n) * hid, 0.02f);
    randomFill(w.o, size_t(hid) * H * D, 0.02f);
    randomFill(w.gate_up, size_t(2 * I) * hid, 0.02f);
    randomFill(w.down, size_t(hid) * I, 0.02f);
    randomFill(w.ln1, size_t(hid), 1.0f);
    randomFill(w.ln2, size_t(hid), 1.0f);
  }
  for (auto& c : C) {
    randomFill(c.k, size_t(max_blocks) * block_size * KV * D, 1.0f);
    randomFill(c.v, size_t(max_blocks) * block_size * KV * D, 1.0f);
  }
  Dev lm, lnf, x, residual, normed, qkv, attn, o_out, gu, act, mlp_out, rows, logits, workspace;
  randomFill(lm, size_t(m.vocab) * hid, 0.02f);
  randomFill(lnf, size_t(hid), 1.0f);
  randomFill(x, size_t(max_tokens) * hid, 1.0f);
  randomFill(residual, size_t(max_tokens) * hid, 1.0f);
  normed.alloc(size_t(max_tokens) * hid * 2);
  qkv.alloc(size_t(max_tokens) * qkv_n * 2);
  attn.alloc(size_t(max_tokens) * H * D * 2);
  o_out.alloc(size_t(max_tokens) * hid * 2);
  gu.alloc(size_t(max_tokens) * 2 * I * 2);
  act.alloc(size_t(max_tokens) * I * 2);
  randomFill(mlp_out, size_t(max_tokens) * hid, 1.0f);
  rows.alloc(size_t(max_seqs) * hid * 2);
  logits.alloc(size_t(max_seqs) * m.vocab * 2);
  const size_t WS = 32u << 20;
  workspace.alloc(WS);
  Timer timer(s, size_t(prop.l2CacheSize), 1.0, 5, 20);

  json::Value out = json::Value::array();
  for (auto& sh : shapes) {
    // Token layout: prefill prompts first, then decode tokens. Blocks are handed out scattered.
    long T = 0, P = 0, nd = 0;
    for (long p : sh.prefill) P += p;
    for (auto& d : sh.decode) nd += d.second;
    T = P + nd;
    long blocks = 0;
    for (long p : sh.prefill) blocks += (p + block_size - 1) / block_size;
    for (auto& d : sh.decode) blocks += d.second * ((d.first + block_size - 1) / block_size);
    std::vector<int> perm(static_cast<size_t>(blocks));
    for (long i = 0; i < blocks; i++) perm[size_t(i)] = int(i);
    uint64_t r = 0x2545F4914F6CDD1Dull;
    for (long i = blocks - 1; i > 0; i--) { r ^= r << 13; r ^= r >> 7; r ^= r << 17; std::swap(perm[size_t(i)], perm[size_t(r % uint64_t(i + 1))]); }
    long next = 0;
    std::vector<int> positions, slots, last_rows, dec_table, dec_lens;
    int dec_max_blocks = 1, dec_max_ctx = 1;
    for (auto& d : sh.decode) dec_max_blocks = std::max<int>(dec_max_blocks, int((d.first + block_size - 1) / block_size)), dec_max_ctx = std::max<int>(dec_max_ctx, int(d.first));
    long row = 0;
    for (long p : sh.prefill) {
      long first = next;
      next += (p + block_size - 1) / block_size;
      for (long j = 0; j < p; j++) {
        positions.push_back(int(j));
        slots.push_back(int(perm[size_t(first + j / block_size)] * block_size + j % block_size));
      }
      row += p;
      last_rows.push_back(int(row - 1));
    }
    for (auto& d : sh.decode) {
      for (long q = 0; q < d.second; q++) {
        long nb = (d.first + block_size - 1) / block_size;
        std::vector<int> table(size_t(dec_max_blocks), 0);
        for (long b = 0; b < nb; b++) table[size_t(b)] = perm[size_t(next + b)];
        next += nb;
        long pos = d.first - 1;
        positions.push_back(int(pos));
        slots.push_back(int(table[size_t(pos / block_size)] * block_size + pos % block_size));
        dec_table.insert(dec_table.end(), table.begin(), table.end());
        dec_lens.push_back(int(d.first));
        last_rows.push_back(int(row++));
      }
    }
    Dev d_pos, d_slots, d_last, d_table, d_lens, scratch;
    auto upload = [&](Dev& d, const std::vector<int>& v) {
      d.alloc(v.size() * 4);
      if (!v.empty()) CK(cudaMemcpyAsync(d.p, v.data(), v.size() * 4, cudaMemcpyHostToDevice, s));
    };
    upload(d_pos, positions); upload(d_slots, slots); upload(d_last, last_rows); upload(d_table, dec_table); upload(d_lens, dec_lens);
    k::DecodeArgs da{};
    if (nd > 0) {
      da.ldq = int(qkv_n); da.block_tables = d_table.as<int>(); da.max_blocks = dec_max_blocks;
      da.context_lens = d_lens.as<int>(); da.ldo = int(H * D); da.seqs = int(nd); da.heads = int(H); da.kv_heads = int(KV);
      da.block_size = block_size; da.max_context = dec_max_ctx;
      da.split_tokens = k::decodeSplit(int(nd), int(KV), dec_max_ctx, prop.multiProcessorCount);
      scratch.alloc(k::decodeScratchBytes(int(nd), int(H), dec_max_ctx, da.split_tokens));
      da.scratch = scratch.p;
      da.q = qkv.c() + size_t(P) * qkv_n * 2;
      da.out = attn.c() + size_t(P) * H * D * 2;
    }
    long nseq = long(last_rows.size());
    lt::Gemm g_qkv, g_o, g_gu, g_down, g_lm;
    bool ok = lt::plan(api, h, g_qkv, "bf16", T, qkv_n, hid, WS) && lt::plan(api, h, g_o, "bf16", T, hid, H * D, WS) &&
              lt::plan(api, h, g_gu, "bf16", T, 2 * I, hid, WS) && lt::plan(api, h, g_down, "bf16", T, hid, I, WS) &&
              lt::plan(api, h, g_lm, "bf16", nseq, m.vocab, hid, WS);
    if (!ok) throw std::runtime_error("cuBLASLt has no algorithm for one of the iteration's GEMMs");
    int status = 0;
    auto iteration = [&] {
      for (int l = 0; l < layers; l++) {
        auto& w = W[size_t(l)];
        auto& c = C[size_t(l)];
        k::addRmsnorm(mlp_out.p, residual.p, w.ln1.p, normed.p, int(T), int(hid), s);
        status |= lt::run(api, h, g_qkv, normed.p, w.qkv.p, qkv.p, workspace.p, s);
        k::rope(qkv.p, int(qkv_n), d_pos.as<int>(), int(T), int(H), int(KV), s);
        k::cacheWrite(qkv.c() + H * D * 2, qkv.c() + (H + KV) * D * 2, int(qkv_n), c.k.p, c.v.p, d_slots.as<int>(), int(T), int(KV), block_size, s);
        long r0 = 0;
        for (long p : sh.prefill) {
          char* base = qkv.c() + size_t(r0) * qkv_n * 2;
          k::prefillAttention(base, int(qkv_n), base + H * D * 2, base + (H + KV) * D * 2, int(qkv_n),
                              attn.c() + size_t(r0) * H * D * 2, int(H * D), int(p), int(p), int(H), int(KV), s);
          r0 += p;
        }
        if (nd > 0) {
          da.kcache = c.k.p;
          da.vcache = c.v.p;
          k::decodeAttention(da, s);
        }
        status |= lt::run(api, h, g_o, attn.p, w.o.p, o_out.p, workspace.p, s);
        k::addRmsnorm(o_out.p, residual.p, w.ln2.p, normed.p, int(T), int(hid), s);
        status |= lt::run(api, h, g_gu, normed.p, w.gate_up.p, gu.p, workspace.p, s);
        k::siluMul(gu.p, act.p, int(T), int(I), s);
        status |= lt::run(api, h, g_down, act.p, w.down.p, mlp_out.p, workspace.p, s);
      }
      k::addRmsnorm(mlp_out.p, residual.p, lnf.p, normed.p, int(T), int(hid), s);
      k::gatherRows(normed.p, rows.p, d_last.as<int>(), int(nseq), int(hid), s);
      status |= lt::run(api, h, g_lm, rows.p, lm.p, logits.p, workspace.p, s);
    };
    Stats eager = timer.time(iteration, 1);
    if (status != 0) throw std::runtime_error("cublasLtMatmul failed in the iteration");
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    CK(cudaStreamSynchronize(s));
    CK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    iteration();
    CK(cudaStreamEndCapture(s, &graph));
    CK(cudaGraphInstantiate(&exec, graph, 0));
    Stats st = timer.time([&] { CK(cudaGraphLaunch(exec, s)); }, 2);
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);
    for (auto* g : {&g_qkv, &g_o, &g_gu, &g_down, &g_lm}) lt::release(api, *g);

    json::Value o = json::Value::object();
    json::Value pre = json::Value::array();
    for (long p : sh.prefill) pre.push(p);
    json::Value dec = json::Value::array();
    for (auto& d : sh.decode) {
      json::Value e = json::Value::object();
      e.set("context_tokens", d.first);
      e.set("seqs", d.second);
      dec.push(e);
    }
    o.set("prefill", pre);
    o.set("decode", dec);
    o.set("tokens", T);
    o.set("time_s", st.median);
    o.set("p10_s", st.p10);
    o.set("p90_s", st.p90);
    o.set("reps", st.reps);
    o.set("eager_s", eager.median);
    out.push(o);
    fprintf(stderr, "iteration: %ld tokens (%zu prefill, %ld decode): %.3f ms graph, %.3f ms eager\n", T, sh.prefill.size(), nd,
            st.median * 1e3, eager.median * 1e3);
  }
  cudaStreamDestroy(s);
  api.destroy(h);

  json::Value doc = json::Value::object();
  doc.set("gpu", gpuBlockOf(gpu));
  doc.set("shapes", out);
  return doc;
}

}  // namespace probe
