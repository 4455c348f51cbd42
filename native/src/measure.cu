// The CUDA backend: times profile items on one GPU.
#include <cuda_runtime_api.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "core.hpp"
#include "cublaslt.hpp"
#include "grid.hpp"
#include "kernels.cuh"
#include "timing.cuh"

namespace probe {

static std::string driverVersion() {
  std::ifstream f("/proc/driver/nvidia/version");
  std::string line;
  if (f && std::getline(f, line)) {
    // "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.82.07  …"
    // "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build …": the first dotted number.
    std::istringstream is(line);
    std::string w;
    while (is >> w)
      if (!w.empty() && isdigit((unsigned char)w[0]) && w.find('.') != std::string::npos) return w;
  }
  int v = 0;
  cudaDriverGetVersion(&v);
  return "cuda-driver-api " + std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

json::Value gpuBlockOf(int dev) {
  cudaDeviceProp p{};
  CK(cudaGetDeviceProperties(&p, dev));
  int clock = 0, memclock = 0, rt = 0;
  cudaDeviceGetAttribute(&clock, cudaDevAttrClockRate, dev);
  cudaDeviceGetAttribute(&memclock, cudaDevAttrMemoryClockRate, dev);
  cudaRuntimeGetVersion(&rt);
  json::Value g = json::Value::object();
  g.set("name", p.name);
  g.set("memory_bytes", (unsigned long long)p.totalGlobalMem);
  g.set("sm_count", p.multiProcessorCount);
  if (clock > 0) g.set("sm_clock_mhz", clock / 1000.0);
  if (memclock > 0) g.set("memory_clock_mhz", memclock / 1000.0);
  g.set("compute_capability", std::to_string(p.major) + "." + std::to_string(p.minor));
  g.set("driver_version", driverVersion());
  g.set("cuda_version", std::to_string(rt / 1000) + "." + std::to_string((rt % 1000) / 10));
  return g;
}

std::string describeDevice(int gpu) {
  json::Value v = json::Value::object();
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    v.set("error", std::string("no usable CUDA driver or GPU (") + cudaGetErrorString(e) + ")");
  } else if (gpu < 0 || gpu >= n) {
    v.set("error", "GPU " + std::to_string(gpu) + " does not exist (" + std::to_string(n) + " visible)");
  } else {
    try {
      v = gpuBlockOf(gpu);
      v.set("device_count", n);
    } catch (std::exception& ex) {
      v = json::Value::object();
      v.set("error", ex.what());
    }
  }
  std::string s = json::dump(v);
  return s;
}

constexpr int EW_WIDTH = 4096;  // elementwise rows are this wide (see elementwiseBytesPerRow)

class CudaBackend : public Backend {
 public:
  CudaBackend(int dev, lt::Api api, bool quick) : dev(dev), api(std::move(api)) {
    CK(cudaSetDevice(dev));
    CK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    cudaDeviceProp p{};
    CK(cudaGetDeviceProperties(&p, dev));
    sm_count = p.multiProcessorCount;
    cc = p.major * 10 + p.minor;
    timer = std::make_unique<Timer>(stream, size_t(p.l2CacheSize), quick ? 0.01 : 0.03, quick ? 5 : 10, 40);
    if (this->api.create(&lt_handle) != 0) throw std::runtime_error("cublasLtCreate failed");
    CK(cudaMalloc(&workspace, WORKSPACE));
    prefill_ok = k::prefillSetup();
    cudaGetDeviceCount(&device_count);
  }
  ~CudaBackend() override {
    for (auto& b : buffers) cudaFree(b.second.ptr);
    if (host) cudaFreeHost(host);
    cudaFree(workspace);
    api.destroy(lt_handle);
    cudaStreamDestroy(stream);
  }

  json::Value gpu() override { return gpuBlockOf(dev); }

  std::string notes() override {
    std::string n = "cuBLASLt from " + api.path + ".";
    if (cc < 89) n += " fp8 GEMMs skipped (compute capability " + std::to_string(cc / 10) + "." + std::to_string(cc % 10) + " < 8.9).";
    n += device_count < 2 ? " NCCL all-reduce not measured: one GPU visible."
                          : " NCCL all-reduce not measured: this probe version does not time collectives yet.";
    if (!prefill_ok) n += " Prefill attention skipped: too little shared memory per block.";
    return n;
  }

  bool supports(const Item& it) override {
    if (it.table == "gemm" && it.row.at("dtype").str == "fp8") return cc >= 89;
    if (it.table == "attention_prefill") return prefill_ok;
    return true;
  }

  bool measure(Item& it, std::string& error) override {
    try {
      Stats st;
      std::string kernel;
      if (it.table == "gemm") {
        if (!gemm(it.row, st)) { error = "cuBLASLt has no algorithm"; return false; }
        kernel = "cublasLt";
      } else if (it.table == "attention_prefill") {
        st = prefill(it.row);
        kernel = "infersim-flash-wmma";
      } else if (it.table == "attention_decode") {
        st = decode(it.row);
        kernel = "infersim-paged";
      } else if (it.table == "elementwise") {
        st = elementwise(it.row);
        kernel = "infersim";
      } else if (it.table == "memcpy") {
        st = memcpy(it.row);
      } else if (it.table == "scalars") {
        it.row.set("value", launchOverhead());
        return true;
      } else {
        error = "unknown table " + it.table;
        return false;
      }
      it.row.set("time_s", st.median);
      it.row.set("p10_s", st.p10);
      it.row.set("p90_s", st.p90);
      if (!kernel.empty()) it.row.set("kernel", kernel);
      return true;
    } catch (std::exception& e) {
      error = e.what();
      cudaGetLastError();
      releaseAll();
      return false;
    }
  }

 private:
  static constexpr size_t WORKSPACE = 32u << 20;
  struct Buf { void* ptr = nullptr; size_t bytes = 0; };
  int dev, sm_count = 0, cc = 0, device_count = 1;
  lt::Api api;
  lt::Handle lt_handle = nullptr;
  cudaStream_t stream = nullptr;
  std::unique_ptr<Timer> timer;
  void* workspace = nullptr;
  void* host = nullptr;
  size_t host_bytes = 0;
  bool prefill_ok = false;
  std::map<std::string, Buf> buffers;
  uint32_t seed = 1;

  void releaseAll() {
    cudaStreamSynchronize(stream);
    for (auto& b : buffers) cudaFree(b.second.ptr);
    buffers.clear();
  }

  // A grow-only device buffer, filled with random values when (re)allocated. fp8 buffers get
  // bytes below 0x78 (finite e4m3 values); others random bf16 in [-scale, scale].
  void* buf(const std::string& name, size_t bytes, bool fp8 = false, float scale = 0.05f) {
    Buf& b = buffers[name];
    if (b.bytes >= bytes) return b.ptr;
    if (b.ptr) { CK(cudaStreamSynchronize(stream)); cudaFree(b.ptr); b = Buf{}; }
    size_t want = bytes + (bytes >> 3);
    if (cudaMalloc(&b.ptr, want) != cudaSuccess) {
      cudaGetLastError();
      buffers.erase(name);
      releaseAll();
      Buf& nb = buffers[name];
      CK(cudaMalloc(&nb.ptr, want));
      nb.bytes = want;
      fill(nb.ptr, want, fp8, scale);
      return nb.ptr;
    }
    b.bytes = want;
    fill(b.ptr, want, fp8, scale);
    return b.ptr;
  }
  void fill(void* p, size_t bytes, bool fp8, float scale) {
    if (fp8) k::fillBytes(p, bytes, seed++, 0x37, stream);  // sign 0, exponent ≤ 6: finite, ≤ 2
    else k::fillBf16(p, bytes / 2, seed++, scale, stream);
    CK(cudaGetLastError());
  }

  bool gemm(const json::Value& row, Stats& st) {
    const std::string dtype = row.at("dtype").str;
    long m = long(row.at("m").num), n = long(row.at("n").num), kk = long(row.at("k").num);
    bool fp8 = dtype == "fp8";
    size_t in_bytes = fp8 ? 1 : 2;
    void* x = buf(fp8 ? "x8" : "x", size_t(m) * kk * in_bytes, fp8);
    void* w = buf(fp8 ? "w8" : "w", size_t(n) * kk * in_bytes, fp8);
    void* d = buf("d", size_t(m) * n * 2);
    lt::Gemm g;
    if (!lt::plan(api, lt_handle, g, dtype, m, n, kk, WORKSPACE)) return false;
    int status = 0;
    st = timer->time([&] { status |= lt::run(api, lt_handle, g, x, w, d, workspace, stream); });
    lt::release(api, g);
    if (status != 0) throw std::runtime_error("cublasLtMatmul failed with status " + std::to_string(status));
    return true;
  }

  Stats prefill(const json::Value& row) {
    int q = int(row.at("query_tokens").num), ctx = int(row.at("context_tokens").num);
    int h = int(row.at("heads").num), kvh = int(row.at("kv_heads").num), seqs = int(row.at("seqs").num);
    const int D = k::HEAD_DIM;
    void* qb = buf("q", size_t(seqs) * q * h * D * 2, false, 1.0f);
    void* kb = buf("k", size_t(seqs) * ctx * kvh * D * 2, false, 1.0f);
    void* vb = buf("v", size_t(seqs) * ctx * kvh * D * 2, false, 1.0f);
    void* ob = buf("o", size_t(seqs) * q * h * D * 2);
    return timer->time([&] {
      for (int s = 0; s < seqs; s++)
        k::prefillAttention(static_cast<char*>(qb) + size_t(s) * q * h * D * 2, h * D,
                            static_cast<char*>(kb) + size_t(s) * ctx * kvh * D * 2,
                            static_cast<char*>(vb) + size_t(s) * ctx * kvh * D * 2, kvh * D,
                            static_cast<char*>(ob) + size_t(s) * q * h * D * 2, h * D, q, ctx, h, kvh, stream);
    });
  }

  Stats decode(const json::Value& row) {
    int seqs = int(row.at("seqs").num), ctx = int(row.at("context_tokens").num);
    int h = int(row.at("heads").num), kvh = int(row.at("kv_heads").num), bs = int(row.at("block_size").num);
    const int D = k::HEAD_DIM;
    int per_seq = (ctx + bs - 1) / bs;
    long blocks = long(per_seq) * seqs;
    // Blocks scattered over the cache as a long-running engine leaves them: a fixed permutation.
    std::vector<int> table(static_cast<size_t>(blocks));
    for (long i = 0; i < blocks; i++) table[size_t(i)] = int(i);
    uint64_t r = 0x9E3779B97F4A7C15ull;
    for (long i = blocks - 1; i > 0; i--) {
      r ^= r << 13; r ^= r >> 7; r ^= r << 17;
      std::swap(table[size_t(i)], table[size_t(r % uint64_t(i + 1))]);
    }
    std::vector<int> lens(size_t(seqs), ctx);
    size_t cache = size_t(blocks) * bs * kvh * D * 2;
    void* kc = buf("kcache", cache, false, 1.0f);
    void* vc = buf("vcache", cache, false, 1.0f);
    void* qb = buf("q", size_t(seqs) * h * D * 2, false, 1.0f);
    void* ob = buf("o", size_t(seqs) * h * D * 2);
    int* bt = static_cast<int*>(buf("block_tables", table.size() * 4));
    int* cl = static_cast<int*>(buf("context_lens", lens.size() * 4));
    CK(cudaMemcpyAsync(bt, table.data(), table.size() * 4, cudaMemcpyHostToDevice, stream));
    CK(cudaMemcpyAsync(cl, lens.data(), lens.size() * 4, cudaMemcpyHostToDevice, stream));
    k::DecodeArgs a{};
    a.q = qb; a.ldq = h * D; a.kcache = kc; a.vcache = vc; a.block_tables = bt; a.max_blocks = per_seq;
    a.context_lens = cl; a.out = ob; a.ldo = h * D; a.seqs = seqs; a.heads = h; a.kv_heads = kvh;
    a.block_size = bs; a.max_context = ctx;
    a.split_tokens = k::decodeSplit(seqs, kvh, ctx, sm_count);
    a.scratch = buf("scratch", k::decodeScratchBytes(seqs, h, ctx, a.split_tokens));
    return timer->time([&] { k::decodeAttention(a, stream); });
  }

  Stats elementwise(const json::Value& row) {
    const std::string op = row.at("op").str;
    long per = elementwiseBytesPerRow(op);
    int rows = int(long(row.at("bytes").num) / per);
    const int W = EW_WIDTH;
    void* x = buf("ew_x", size_t(rows) * W * 2 * 2, false, 1.0f);  // silu_mul reads 2·W per row
    void* y = buf("ew_y", size_t(rows) * W * 2, false, 1.0f);
    void* res = buf("ew_res", size_t(rows) * W * 2, false, 1.0f);
    void* w = buf("ew_w", size_t(W) * 2, false, 1.0f);
    if (op == "rope") {
      int ld = (32 + 2 * 8) * 128;
      void* qkv = buf("ew_qkv", size_t(rows) * ld * 2, false, 1.0f);
      std::vector<int> pos(static_cast<size_t>(rows));
      for (int i = 0; i < rows; i++) pos[size_t(i)] = i;
      int* p = static_cast<int*>(buf("ew_pos", pos.size() * 4));
      CK(cudaMemcpyAsync(p, pos.data(), pos.size() * 4, cudaMemcpyHostToDevice, stream));
      return timer->time([&] { k::rope(qkv, ld, p, rows, 32, 8, stream); });
    }
    if (op == "rmsnorm") return timer->time([&] { k::addRmsnorm(x, nullptr, w, y, rows, W, stream); });
    if (op == "add_rmsnorm") return timer->time([&] { k::addRmsnorm(x, res, w, y, rows, W, stream); });
    if (op == "silu_mul") return timer->time([&] { k::siluMul(x, y, rows, W, stream); });
    return timer->time([&] { k::add(y, x, size_t(rows) * W, stream); });
  }

  Stats memcpy(const json::Value& row) {
    const std::string dir = row.at("direction").str;
    size_t bytes = size_t(row.at("bytes").num);
    void* a = buf("copy_a", bytes);
    if (dir == "d2d") {
      void* b = buf("copy_b", bytes);
      return timer->time([&] { CK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, stream)); });
    }
    if (host_bytes < bytes) {
      if (host) cudaFreeHost(host);
      CK(cudaMallocHost(&host, bytes));
      host_bytes = bytes;
      memset(host, 1, bytes);
    }
    if (dir == "h2d") return timer->time([&] { CK(cudaMemcpyAsync(a, host, bytes, cudaMemcpyHostToDevice, stream)); });
    return timer->time([&] { CK(cudaMemcpyAsync(host, a, bytes, cudaMemcpyDeviceToHost, stream)); });
  }

  // Host time to launch one empty kernel (median of 7 runs of 2,000 launches), as a framework pays it.
  double launchOverhead() {
    std::vector<double> t;
    for (int r = 0; r < 7; r++) {
      CK(cudaStreamSynchronize(stream));
      auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < 2000; i++) k::empty(stream);
      auto t1 = std::chrono::steady_clock::now();
      t.push_back(std::chrono::duration<double>(t1 - t0).count() / 2000);
    }
    CK(cudaStreamSynchronize(stream));
    return quantile(t, 0.5);
  }
};

std::unique_ptr<Backend> makeCudaBackend(int gpu, const std::string& cublas_path, bool quick, std::string& error) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    error = std::string("no usable CUDA driver or GPU (") + cudaGetErrorString(e) + ")";
    return nullptr;
  }
  if (gpu < 0 || gpu >= n) {
    error = "GPU " + std::to_string(gpu) + " does not exist (" + std::to_string(n) + " visible)";
    return nullptr;
  }
  lt::Api api;
  if (!lt::load(api, cublas_path, error)) return nullptr;
  try {
    return std::make_unique<CudaBackend>(gpu, std::move(api), quick);
  } catch (std::exception& ex) {
    error = ex.what();
    return nullptr;
  }
}

}  // namespace probe
