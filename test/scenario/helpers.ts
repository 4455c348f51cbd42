import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A small valid scenario; tests break one thing at a time. */
export function validScenario(): Record<string, any> {
  return {
    model: 'llama-3.1-8b',
    hardware: { gpu: 'h100-sxm' },
    workload: {
      arrival: { process: 'poisson', rate_per_s: 10 },
      input_tokens: { dist: 'fixed', value: 100 },
      output_tokens: { dist: 'fixed', value: 10 },
      num_requests: 100,
    },
  };
}

/** The message thrown by `fn`; fails the test if nothing is thrown. */
export function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error, none was thrown');
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'infersim-scenario-'));
}

export function writeFile(path: string, text: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}
