// cuBLASLt, loaded at run time with dlopen: the build needs no cuBLAS headers or libraries.
// The few prototypes and enum values used are declared here (values from cublasLt.h, CUDA 12/13).
#pragma once
#include <cuda_runtime_api.h>
#include <library_types.h>
#include <cstddef>
#include <cstdint>
#include <string>

namespace lt {

using Handle = void*;
using MatmulDesc = void*;
using Layout = void*;
using Preference = void*;
struct Algo { uint64_t data[8]; };
struct HeuristicResult {
  Algo algo;
  size_t workspaceSize;
  int state;
  float wavesCount;
  int reserved[4];
};

constexpr int COMPUTE_32F = 68;              // cublasComputeType_t
constexpr int DESC_TRANSA = 3;               // cublasLtMatmulDescAttributes_t
constexpr int DESC_TRANSB = 4;
constexpr int OP_N = 0, OP_T = 1;            // cublasOperation_t
constexpr int PREF_MAX_WORKSPACE_BYTES = 1;  // cublasLtMatmulPreferenceAttributes_t

struct Api {
  void* lib = nullptr;
  std::string path;  // the library that was loaded
  int (*create)(Handle*);
  int (*destroy)(Handle);
  size_t (*getVersion)();
  int (*descCreate)(MatmulDesc*, int computeType, cudaDataType_t scaleType);
  int (*descDestroy)(MatmulDesc);
  int (*descSetAttribute)(MatmulDesc, int attr, const void* buf, size_t size);
  int (*layoutCreate)(Layout*, cudaDataType_t type, uint64_t rows, uint64_t cols, int64_t ld);
  int (*layoutDestroy)(Layout);
  int (*prefCreate)(Preference*);
  int (*prefDestroy)(Preference);
  int (*prefSetAttribute)(Preference, int attr, const void* buf, size_t size);
  int (*heuristic)(Handle, MatmulDesc, Layout, Layout, Layout, Layout, Preference, int requested, HeuristicResult* results, int* returned);
  int (*matmul)(Handle, MatmulDesc, const void* alpha, const void* A, Layout, const void* B, Layout, const void* beta,
                const void* C, Layout, void* D, Layout, const Algo* algo, void* workspace, size_t workspaceSize, cudaStream_t);
};

// Loads cuBLASLt: `explicit_path` (a file or a folder) first, then $INFERSIM_CUBLASLT, $CUDA_HOME/lib64,
// the Python nvidia wheels (nvidia/cu13/lib, nvidia/cublas/lib) under the site-packages folders
// python3 reports, and finally the default loader path. Returns false with `error` saying where it looked.
bool load(Api& api, const std::string& explicit_path, std::string& error);

// One TN GEMM plan: D[m×n] = X[m×k] · W[n×k]ᵀ, row-major activations and (out, in) weights, as engines store them.
struct Gemm {
  MatmulDesc desc = nullptr;
  Layout a = nullptr, b = nullptr, c = nullptr;
  Algo algo{};
  size_t workspace = 0;
  bool ok = false;
};
// dtype: "bf16" | "fp16" | "fp8" (e4m3 inputs, bf16 output). Returns false when cuBLASLt has no algorithm.
bool plan(const Api& api, Handle h, Gemm& g, const std::string& dtype, long m, long n, long k, size_t max_workspace);
int run(const Api& api, Handle h, const Gemm& g, const void* X, const void* W, void* D, void* workspace, cudaStream_t s);
void release(const Api& api, Gemm& g);

}  // namespace lt
