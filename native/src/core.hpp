// The probe's core, shared by the standalone executable and the Node addon.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "json.hpp"

namespace probe {

constexpr const char* VERSION = "0.1.0";
constexpr const char* PROFILE_FORMAT = "infersim-profile/1";
constexpr const char* ITERATION_FORMAT = "infersim-iteration-probe/1";

// One thing to measure: a row of a profile table (its shape; the backend adds time_s, p10_s,
// p90_s and kernel) or a scalar (table "scalars", row { "name": … }).
struct Item {
  std::string table;
  json::Value row;
};

// Measures items. The CUDA backend times them on a GPU; the fake backend (tests) answers from a formula.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual json::Value gpu() = 0;                 // the profile's gpu block (catalog filled by the caller)
  virtual std::string notes() = 0;               // what was skipped and why (NCCL, fp8, …)
  virtual bool supports(const Item& item) = 0;   // e.g. fp8 only on sm_89+
  // Fills row.time_s (+ p10_s, p90_s, kernel), or for scalars returns the value in row.value.
  virtual bool measure(Item& item, std::string& error) = 0;
};

// Returns nullptr with `error` set when there is no usable CUDA device (no driver, no GPU, no cuBLASLt).
std::unique_ptr<Backend> makeCudaBackend(int gpu, const std::string& cublas_path, bool quick, std::string& error);
std::unique_ptr<Backend> makeFakeBackend();

// One-line JSON description of the device, or {"error": "..."}; used by the addon's info().
std::string describeDevice(int gpu);

// The iteration probe (iteration.cu).
struct IterationShape {
  std::vector<long> prefill;                       // prompt lengths
  std::vector<std::pair<long, long>> decode;      // (context tokens, sequences)
};
struct ModelDims {
  long hidden = 0, intermediate = 0, heads = 0, kv_heads = 0, layers = 0, vocab = 0, head_dim = 0;
  std::string name;
};
// Times whole iterations; returns the output document or throws std::runtime_error.
json::Value runIteration(int gpu, const std::string& cublas_path, const ModelDims& model, int layers,
                         const std::vector<IterationShape>& shapes, int block_size);

// Checks the kernels and cuBLASLt against CPU references (selftest.cu); returns the exit status.
int runSelftest(int gpu, const std::string& cublas_path);

// The CLI (probe.cpp): `infersim-probe <command> …`, also what the addon's run() calls.
int cliMain(const std::vector<std::string>& args);

}  // namespace probe
