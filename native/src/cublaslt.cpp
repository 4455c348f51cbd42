#include "cublaslt.hpp"

#include <dlfcn.h>
#include <cstdio>
#include <cstdlib>
#include <sys/stat.h>
#include <vector>

namespace lt {

static bool isDir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

static std::vector<std::string> pythonSitePackages() {
  std::vector<std::string> out;
  FILE* f = popen("python3 -c 'import site,sys; print(\"\\n\".join(site.getsitepackages()+[site.getusersitepackages()]+sys.path))' 2>/dev/null", "r");
  if (!f) return out;
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    std::string s(line);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (!s.empty() && isDir(s + "/nvidia")) out.push_back(s);
  }
  pclose(f);
  return out;
}

template <typename F>
static bool sym(void* lib, const char* name, F& fn) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  return fn != nullptr;
}

bool load(Api& api, const std::string& explicit_path, std::string& error) {
  std::vector<std::string> candidates;
  auto addDir = [&](const std::string& dir) {
    candidates.push_back(dir + "/libcublasLt.so.13");
    candidates.push_back(dir + "/libcublasLt.so.12");
    candidates.push_back(dir + "/libcublasLt.so");
  };
  auto addPath = [&](const std::string& p) {
    if (p.empty()) return;
    if (isDir(p)) addDir(p);
    else candidates.push_back(p);
  };
  addPath(explicit_path);
  if (const char* e = getenv("INFERSIM_CUBLASLT")) addPath(e);
  if (const char* e = getenv("CUDA_HOME")) addDir(std::string(e) + "/lib64");
  for (auto& sp : pythonSitePackages()) {
    addDir(sp + "/nvidia/cu13/lib");
    addDir(sp + "/nvidia/cublas/lib");
  }
  addDir("/usr/local/cuda/lib64");
  candidates.push_back("libcublasLt.so.13");  // the default loader path (LD_LIBRARY_PATH, ldconfig)
  candidates.push_back("libcublasLt.so.12");
  candidates.push_back("libcublasLt.so");

  std::string tried;
  for (auto& c : candidates) {
    void* lib = dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      if (tried.size() < 600) tried += (tried.empty() ? "" : ", ") + c;
      continue;
    }
    bool ok = sym(lib, "cublasLtCreate", api.create) && sym(lib, "cublasLtDestroy", api.destroy) &&
              sym(lib, "cublasLtGetVersion", api.getVersion) && sym(lib, "cublasLtMatmulDescCreate", api.descCreate) &&
              sym(lib, "cublasLtMatmulDescDestroy", api.descDestroy) &&
              sym(lib, "cublasLtMatmulDescSetAttribute", api.descSetAttribute) &&
              sym(lib, "cublasLtMatrixLayoutCreate", api.layoutCreate) &&
              sym(lib, "cublasLtMatrixLayoutDestroy", api.layoutDestroy) &&
              sym(lib, "cublasLtMatmulPreferenceCreate", api.prefCreate) &&
              sym(lib, "cublasLtMatmulPreferenceDestroy", api.prefDestroy) &&
              sym(lib, "cublasLtMatmulPreferenceSetAttribute", api.prefSetAttribute) &&
              sym(lib, "cublasLtMatmulAlgoGetHeuristic", api.heuristic) && sym(lib, "cublasLtMatmul", api.matmul);
    if (!ok) {
      dlclose(lib);
      tried += " (" + c + ": missing symbols)";
      continue;
    }
    api.lib = lib;
    api.path = c;
    return true;
  }
  error = "cuBLASLt not found (tried " + tried + "); pass --cublas PATH or set INFERSIM_CUBLASLT";
  return false;
}

static cudaDataType_t inType(const std::string& dtype) {
  if (dtype == "fp16") return CUDA_R_16F;
  if (dtype == "fp8") return CUDA_R_8F_E4M3;
  return CUDA_R_16BF;
}
static cudaDataType_t outType(const std::string& dtype) { return dtype == "fp16" ? CUDA_R_16F : CUDA_R_16BF; }

bool plan(const Api& api, Handle h, Gemm& g, const std::string& dtype, long m, long n, long k, size_t max_workspace) {
  g = Gemm{};
  if (api.descCreate(&g.desc, COMPUTE_32F, CUDA_R_32F) != 0) return false;
  int ta = OP_T, tb = OP_N;
  api.descSetAttribute(g.desc, DESC_TRANSA, &ta, sizeof ta);
  api.descSetAttribute(g.desc, DESC_TRANSB, &tb, sizeof tb);
  // Column-major view: Dᵀ (n × m) = W (k × n)ᵀ · Xᵀ (k × m).
  api.layoutCreate(&g.a, inType(dtype), uint64_t(k), uint64_t(n), k);
  api.layoutCreate(&g.b, inType(dtype), uint64_t(k), uint64_t(m), k);
  api.layoutCreate(&g.c, outType(dtype), uint64_t(n), uint64_t(m), n);
  Preference pref = nullptr;
  api.prefCreate(&pref);
  uint64_t ws = max_workspace;
  api.prefSetAttribute(pref, PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
  HeuristicResult result{};
  int returned = 0;
  int st = api.heuristic(h, g.desc, g.a, g.b, g.c, g.c, pref, 1, &result, &returned);
  api.prefDestroy(pref);
  if (st != 0 || returned < 1) { release(api, g); return false; }
  g.algo = result.algo;
  g.workspace = result.workspaceSize;
  g.ok = true;
  return true;
}

int run(const Api& api, Handle h, const Gemm& g, const void* X, const void* W, void* D, void* workspace, cudaStream_t s) {
  const float alpha = 1.0f, beta = 0.0f;
  return api.matmul(h, g.desc, &alpha, W, g.a, X, g.b, &beta, D, g.c, D, g.c, &g.algo, workspace, g.workspace, s);
}

void release(const Api& api, Gemm& g) {
  if (g.a) api.layoutDestroy(g.a);
  if (g.b) api.layoutDestroy(g.b);
  if (g.c) api.layoutDestroy(g.c);
  if (g.desc) api.descDestroy(g.desc);
  g = Gemm{};
}

}  // namespace lt
