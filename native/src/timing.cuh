// Timing with CUDA events: warm-ups, then repetitions each preceded by an L2 flush (weights and
// KV blocks of a real layer are not in L2 when it starts), median and the p10/p90 spread. The flush
// reads a buffer twice the L2 size: a write flush (memset) would leave dirty lines whose write-back
// would steal HBM bandwidth from the op being timed.
#pragma once
#include <cuda_runtime_api.h>

#include "kernels.cuh"

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace probe {

#define CK(call)                                                                                        \
  do {                                                                                                  \
    cudaError_t e_ = (call);                                                                            \
    if (e_ != cudaSuccess) throw std::runtime_error(std::string(#call) + ": " + cudaGetErrorString(e_)); \
  } while (0)

struct Stats {
  double median = 0, p10 = 0, p90 = 0;
  int reps = 0;
};

inline double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  double pos = q * double(v.size() - 1);
  size_t lo = size_t(pos);
  size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

class Timer {
 public:
  Timer(cudaStream_t s, size_t l2_bytes, double target_s, int min_reps, int max_reps)
      : stream(s), flush_bytes(std::max<size_t>(2 * l2_bytes, 64u << 20)), target(target_s), min_reps(min_reps), max_reps(max_reps) {
    CK(cudaMalloc(&flush, flush_bytes));
    CK(cudaMemsetAsync(flush, 0, flush_bytes, stream));
    events.resize(2 * size_t(max_reps) + 2);
    for (auto& e : events) CK(cudaEventCreate(&e));
  }
  ~Timer() {
    for (auto& e : events) cudaEventDestroy(e);
    cudaFree(flush);
  }
  Stats time(const std::function<void()>& op, int warmups = 2) {
    for (int i = 0; i < warmups; i++) op();
    CK(cudaStreamSynchronize(stream));
    // One timed call to size the repetition count.
    CK(cudaEventRecord(events[0], stream));
    op();
    CK(cudaEventRecord(events[1], stream));
    CK(cudaEventSynchronize(events[1]));
    float ms = 0;
    CK(cudaEventElapsedTime(&ms, events[0], events[1]));
    int reps = int(std::clamp(target / std::max(1e-6, ms * 1e-3), double(min_reps), double(max_reps)));
    for (int r = 0; r < reps; r++) {
      k::flushL2(flush, flush_bytes, stream);
      CK(cudaEventRecord(events[2 * r], stream));
      op();
      CK(cudaEventRecord(events[2 * r + 1], stream));
    }
    CK(cudaStreamSynchronize(stream));
    CK(cudaGetLastError());
    std::vector<double> t(reps);
    for (int r = 0; r < reps; r++) {
      CK(cudaEventElapsedTime(&ms, events[2 * r], events[2 * r + 1]));
      t[r] = ms * 1e-3;
    }
    return Stats{quantile(t, 0.5), quantile(t, 0.1), quantile(t, 0.9), reps};
  }

 private:
  cudaStream_t stream;
  void* flush = nullptr;
  size_t flush_bytes;
  double target;
  int min_reps, max_reps;
  std::vector<cudaEvent_t> events;
};

}  // namespace probe
