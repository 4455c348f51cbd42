import { join } from 'node:path';
import { expect } from 'vitest';
import { infersim } from '../cli/cli.js';

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

/** Runs `infersim sweep ARGS --out <a fresh folder in dir>`: exit 1 and exactly one error line matching `pattern`. Returns the folder. */
export function expectSweepError(dir: string, args: string[], pattern: RegExp): string {
  const out = join(dir, `bad-${Math.random().toString(36).slice(2)}`);
  const r = infersim(['sweep', ...args, '--out', out]);
  expect(r.status).toBe(1);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.includes('Unknown user config'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  return out;
}
