import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../sim/setup/load.js';
import { expectInvariants, run } from './helpers.js';

const dir = fileURLToPath(new URL('../scenarios', import.meta.url));
const files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();

describe('every scenario in scenarios/', () => {
  it('the folder has the quickstart and at least three realistic scenarios', () => {
    expect(files).toContain('quickstart.yaml');
    expect(files.length).toBeGreaterThanOrEqual(4);
  });

  for (const file of files) {
    const { input } = loadScenario(join(dir, file));
    const trace = input.workload.trace?.path;
    const missing = trace !== undefined && !existsSync(trace);
    if (missing) console.warn(`skipping ${file}: its trace ${trace} is absent (../shared/data is not checked out)`);
    it.skipIf(missing)(`${file} runs and keeps the invariants`, () => {
      const observed = run({ ...input, output: undefined });
      expectInvariants(observed);
      expect(observed.result.totals.finished).toBeGreaterThan(0);
    });
  }

  // Shipped examples that claim a healthy operating point must show one (the overload examples
  // say in their comments that they overload on purpose).
  it('llama3.1-70b-tp4-h100.yaml runs at a sensible operating point', () => {
    const { input } = loadScenario(join(dir, 'llama3.1-70b-tp4-h100.yaml'));
    const { result } = run({ ...input, output: undefined, metrics: { ...input.metrics, uncertainty: false } });
    expect(result.summary.overall.slo.attainment).toBeGreaterThanOrEqual(0.9);
    expect(result.summary.overall.preemptions).toBe(0);
  });
});
