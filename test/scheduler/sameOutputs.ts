import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, vi } from 'vitest';
import type { RequestOutcome } from '../../sim/metrics/records.js';
import type { ScenarioInput } from '../../sim/scenario/types.js';
import { simulate } from '../../sim/index.js';

/**
 * For the tests that run a scenario with a fast path off and on (decode runs, steps of the runs
 * alone) and require the same outputs byte for byte.
 */

type Written = { result: ReturnType<typeof simulate>; outcomes: RequestOutcome[] };

/** Runs a scenario writing every output file, tokens.arrow included, and keeping every outcome (token times copied). */
export function runWritingTokens(input: ScenarioInput, outDir: string): Written {
  const outcomes: RequestOutcome[] = [];
  const result = simulate(input, { outDir, writeTokens: true, onRequest: (o) => outcomes.push({ ...o, token_times_s: Array.from(o.token_times_s) }) });
  return { result, outcomes };
}

/** The two runs' outcomes and totals agree, and every Arrow file in `dirs[0]` is in `dirs[1]`, byte for byte. */
export function expectSameRuns(off: Written, on: Written, dirs: readonly [string, string]): void {
  expect(on.outcomes).toEqual(off.outcomes);
  expect(on.result.totals).toEqual(off.result.totals);
  const files = readdirSync(dirs[0]).filter((f) => f.endsWith('.arrow'));
  expect(files).toEqual(expect.arrayContaining(['requests.arrow', 'iterations.arrow', 'tokens.arrow']));
  expect(readdirSync(dirs[1]).filter((f) => f.endsWith('.arrow'))).toEqual(files);
  for (const f of files) expect(readFileSync(join(dirs[1], f)).equals(readFileSync(join(dirs[0], f))), f).toBe(true);
}

/**
 * Runs `input` with the fast path that `offVariable`=0 turns off, then with it on (and `onEnv` set),
 * into `dirs`; requires the same outputs (`expectSameRuns`) and returns how often `proto[method]`
 * ran in the second run, so that a test can require that the fast path was taken.
 */
export function sameOffAndOn<T extends object>(input: ScenarioInput, dirs: readonly [string, string], offVariable: string, proto: T, method: keyof T & string, onEnv: Record<string, string> = {}): number {
  process.env[offVariable] = '0';
  let off: Written;
  try {
    off = runWritingTokens(input, dirs[0]);
  } finally {
    delete process.env[offVariable];
  }
  Object.assign(process.env, onEnv);
  const spy = vi.spyOn(proto, method as never);
  try {
    const on = runWritingTokens(input, dirs[1]);
    const calls = spy.mock.calls.length;
    expectSameRuns(off, on, dirs);
    return calls;
  } finally {
    spy.mockRestore();
    for (const name of Object.keys(onEnv)) delete process.env[name];
  }
}
