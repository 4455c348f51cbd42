// The measurement grids (documented in native/README.md) and the fake backend used by tests.
#include "grid.hpp"

#include <algorithm>

namespace probe {

long elementwiseBytesPerRow(const std::string& op) {
  const long W = 4096;  // Llama-8B-like rows: hidden 4096, 32 query heads and 8 kv heads of 128
  if (op == "rmsnorm") return 4 * W;      // read x, write y (bf16)
  if (op == "add_rmsnorm") return 8 * W;  // read x and residual, write both
  if (op == "silu_mul") return 6 * W;     // read gate and up, write one
  if (op == "add") return 6 * W;          // read two, write one
  if (op == "rope") return 4 * 40 * 128;  // read and write 40 heads of 128
  return 0;
}

static Item gemm(const char* dtype, long m, long n, long k) {
  json::Value r = json::Value::object();
  r.set("dtype", dtype); r.set("m", m); r.set("n", n); r.set("k", k);
  return {"gemm", r};
}
static Item prefill(long q, long ctx, long heads, long kv) {
  json::Value r = json::Value::object();
  r.set("dtype", "bf16"); r.set("seqs", 1); r.set("query_tokens", q); r.set("context_tokens", ctx);
  r.set("heads", heads); r.set("kv_heads", kv); r.set("head_dim", 128); r.set("causal", true);
  return {"attention_prefill", r};
}
static Item decode(long seqs, long ctx, long heads, long kv, long block) {
  json::Value r = json::Value::object();
  r.set("dtype", "bf16"); r.set("seqs", seqs); r.set("context_tokens", ctx); r.set("heads", heads);
  r.set("kv_heads", kv); r.set("head_dim", 128); r.set("block_size", block);
  return {"attention_decode", r};
}
static Item elementwise(const char* op, long rows) {
  json::Value r = json::Value::object();
  r.set("op", op); r.set("bytes", rows * elementwiseBytesPerRow(op));
  return {"elementwise", r};
}
static Item memcpyItem(const char* dir, long bytes) {
  json::Value r = json::Value::object();
  r.set("direction", dir); r.set("bytes", bytes);
  return {"memcpy", r};
}

// A decode shape is left out when one of its K/V caches would pass this size.
constexpr double MAX_CACHE_BYTES = 8.0 * (1u << 30);

std::vector<Item> buildGrid(bool quick) {
  std::vector<Item> items;
  using L = std::vector<long>;
  const L m_full = {1, 2, 4, 8, 16, 32, 64, 128, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384};
  const L n_full = {1024, 2048, 3072, 4096, 6144, 8192, 10240, 14336, 22016, 28672, 57344, 131072};
  const L k_full = {1024, 2048, 4096, 5120, 8192, 11008, 14336, 28672};
  const L m_quick = {1, 8, 32, 128, 512, 2048, 8192, 16384};
  const L n_quick = {1024, 4096, 6144, 14336, 28672, 57344};
  const L k_quick = {1024, 4096, 8192, 14336, 28672};
  const L& M = quick ? m_quick : m_full;
  const L& N = quick ? n_quick : n_full;
  const L& K = quick ? k_quick : k_full;
  for (const char* dt : quick ? std::vector<const char*>{"bf16"} : std::vector<const char*>{"bf16", "fp16"})
    for (long n : N) for (long k : K) for (long m : M) items.push_back(gemm(dt, m, n, k));
  // fp8: the quick grid keeps the corners that matter for Llama-class layers.
  const L n8 = quick ? L{4096, 14336, 57344} : n_full, k8 = quick ? L{4096, 14336} : k_full;
  for (long n : n8) for (long k : k8) for (long m : M) items.push_back(gemm("fp8", m, n, k));

  const std::vector<std::pair<long, long>> heads = quick ? std::vector<std::pair<long, long>>{{32, 8}, {32, 32}}
                                                         : std::vector<std::pair<long, long>>{{32, 32}, {32, 8}, {64, 8}};
  const L lens = quick ? L{128, 512, 2048, 8192} : L{128, 256, 512, 1024, 2048, 4096, 8192};
  for (auto [h, kv] : heads)
    for (long ctx : lens)
      for (long q : lens)
        if (q == ctx || (!quick && q < ctx)) items.push_back(prefill(q, ctx, h, kv));
  if (quick) { items.push_back(prefill(512, 2048, 32, 8)); items.push_back(prefill(512, 8192, 32, 8)); }

  const L seqs = quick ? L{1, 8, 32, 128, 256} : L{1, 2, 4, 8, 16, 32, 64, 128, 256};
  const L ctxs = quick ? L{256, 1024, 4096, 16384} : L{128, 256, 512, 1024, 2048, 4096, 8192, 16384};
  const L blocks = quick ? L{16} : L{16, 32};
  for (auto [h, kv] : heads)
    for (long b : blocks)
      for (long c : ctxs)
        for (long s : seqs)
          if (double(s) * c * kv * 128 * 2 <= MAX_CACHE_BYTES) items.push_back(decode(s, c, h, kv, b));
  if (quick)  // block 32 next to 16 for the common GQA shape
    for (long c : ctxs) for (long s : seqs) items.push_back(decode(s, c, 32, 8, 32));

  const L rows = quick ? L{1, 64, 1024, 16384} : L{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536};
  for (const char* op : {"rmsnorm", "add_rmsnorm", "silu_mul", "add", "rope"})
    for (long r : rows) items.push_back(elementwise(op, r));

  const L sizes = quick ? L{1L << 20, 64L << 20, 256L << 20} : L{64L << 10, 1L << 20, 16L << 20, 256L << 20, 1L << 30};
  for (const char* dir : {"d2d", "h2d", "d2h"})
    for (long b : sizes) items.push_back(memcpyItem(dir, b));

  json::Value launch = json::Value::object();
  launch.set("name", "kernel_launch_s");
  items.push_back({"scalars", launch});
  return items;
}

std::vector<Item> selectPart(const std::vector<Item>& all, int part, int parts) {
  if (parts <= 1) return all;
  std::vector<Item> out;
  for (size_t i = 0; i < all.size(); i++)
    if (int(i % size_t(parts)) == part - 1) out.push_back(all[i]);
  return out;
}

// ---- the fake backend: a synthetic GPU whose times follow simple formulas -----------------------

class FakeBackend : public Backend {
 public:
  json::Value gpu() override {
    json::Value g = json::Value::object();
    g.set("name", "infersim fake GPU (--fake)");
    g.set("memory_bytes", 80000000000LL);
    g.set("sm_count", 132);
    g.set("compute_capability", "9.0");
    return g;
  }
  std::string notes() override { return "Synthetic times from fixed formulas (--fake): for tests, not a measurement."; }
  bool supports(const Item&) override { return true; }
  bool measure(Item& it, std::string&) override {
    const json::Value& r = it.row;
    auto num = [&](const char* k) { return r.at(k).num; };
    double t = 0;
    if (it.table == "gemm") t = 1e-5 + 2 * num("m") * num("n") * num("k") / 5e14;
    else if (it.table == "attention_prefill") t = 1e-5 + 4 * num("seqs") * num("heads") * 128 * num("query_tokens") * num("context_tokens") / 2e14;
    else if (it.table == "attention_decode") t = 5e-6 + num("seqs") * num("context_tokens") * num("kv_heads") * 128 * 4 / 2e12;
    else if (it.table == "elementwise") t = 3e-6 + num("bytes") / 2e12;
    else if (it.table == "memcpy") t = r.at("direction").str == "d2d" ? 5e-6 + num("bytes") / 1.5e12 : 1e-5 + num("bytes") / 2.5e10;
    else if (it.table == "scalars") { it.row.set("value", 2.5e-6); return true; }
    it.row.set("time_s", t);
    it.row.set("p10_s", t * 0.95);
    it.row.set("p90_s", t * 1.05);
    if (it.table != "memcpy") it.row.set("kernel", "fake");
    return true;
  }
};

std::unique_ptr<Backend> makeFakeBackend() { return std::make_unique<FakeBackend>(); }

}  // namespace probe
