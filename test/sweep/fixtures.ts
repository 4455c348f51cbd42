/** A small open-loop scenario with an SLO: fast enough for many sweep points per test. */
export const SMALL_SCENARIO = `
seed: 1
model: llama-3.1-8b
hardware: { gpu: h100-sxm }
workload:
  arrival: { process: poisson, rate_per_s: 20 }
  input_tokens: { dist: fixed, value: 200 }
  output_tokens: { dist: fixed, value: 50 }
  num_requests: 200
slo: { ttft_ms: 300, tpot_ms: 40 }
`;
