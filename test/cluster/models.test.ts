import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { simulate } from '../../sim/index.js';
import { expectInvariants, run, scenario, suiteDir } from '../helpers.js';

describe('a trace naming models', () => {
  const dir = suiteDir();
  const trace = join(dir, 'trace.csv');
  // Six requests 0.1 s apart: four for the served 8B model, two for a model no pool serves.
  writeFileSync(
    trace,
    ['t,prompt,completion,model', '0.0,100,10,llama-3.1-8b', '0.1,100,10,gpt-x', '0.2,100,10,llama-3.1-8b', '0.3,100,10,llama-3.1-8b', '0.4,100,10,gpt-x', '0.5,100,10,llama-3.1-8b'].join('\n') + '\n',
  );
  const out = join(dir, 'out');
  const observed = run(
    scenario({
      pools: [{ name: 'small', replicas: 1 }],
      metrics: { uncertainty: false },
      workload: { trace: { path: trace, format: 'csv', columns: { arrival: 't', input_tokens: 'prompt', output_tokens: 'completion', model: 'model' } } },
    }),
    out,
  );
  const rows = tableFromIPC(readFileSync(join(out, 'requests.arrow'))).toArray().map((r) => r.toJSON());

  it('rejects the requests for a model no pool serves, saying why, and serves the others', () => {
    expectInvariants(observed);
    const byId = new Map(rows.map((r) => [r.request_id, r]));
    for (const id of [1, 4]) expect(byId.get(id)).toMatchObject({ status: 'rejected', replica: -1, pool: '', model: 'gpt-x', reject_reason: 'unknown_model' });
    for (const id of [0, 2, 3, 5]) expect(byId.get(id)).toMatchObject({ status: 'finished', pool: 'small', model: 'llama-3.1-8b', reject_reason: 'none' });
    const s = observed.result.summary;
    expect(s.overall.requests).toMatchObject({ total: 6, finished: 4, rejected: 2 });
    // The unserved model has its own entry, served by no pool: its rejections are not the 8B model's.
    expect(s.models!.map((m) => [m.model, m.pools, m.requests.total, m.requests.rejected])).toEqual([
      ['llama-3.1-8b', ['small'], 4, 0],
      ['gpt-x', [], 2, 2],
    ]);
  });

  it('refuses workload.models beside a trace', () => {
    const bad = scenario({
      pools: [{ name: 'small', replicas: 1 }],
      workload: { trace: { path: trace, format: 'csv', columns: { input_tokens: 'prompt', output_tokens: 'completion' } }, models: [{ name: 'llama-3.1-8b', weight: 1 }] },
    });
    expect(() => simulate(bad)).toThrow(/^workload\.models: is for generated requests; a trace names each request’s model in a column/);
  });
});
