import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTrace } from '../../sim/workload/index.js';
import { loadScenario } from '../../sim/setup/load.js';
import { ROOT } from '../cli/cli.js';
import { arrowRows, run, suiteDir } from '../helpers.js';

const dir = suiteDir();

describe('replaying a run of traffic.shadow', () => {
  it("leaves out the mirrored copies: each client request is sent once", () => {
    const { input } = loadScenario(join(ROOT, 'scenarios/shadow-new-model.yaml'), { set: ['workload.num_requests=60', 'metrics.uncertainty=false'] });
    const out = join(dir, 'shadow');
    run(input, out);
    const rows = arrowRows(out, 'requests.arrow');
    const mirrored = rows.filter((r) => r.shadow === true).length;
    expect(mirrored).toBeGreaterThan(0);
    const table = loadTrace({ path: join(out, 'requests.arrow'), format: 'arrow' });
    expect(table.length).toBe(rows.length - mirrored);
    expect(table.dropped_rows).toBe(mirrored);
  });
});

describe('a streamed trace read as a table', () => {
  it('reads no row past num_requests (a bad row after them is never parsed)', () => {
    const file = join(dir, 'az24.csv');
    writeFileSync(
      file,
      'TIMESTAMP,ContextTokens,GeneratedTokens\n' +
        '2024-05-10 00:00:00.000000+00:00,100,10\n' +
        '2024-05-10 00:00:01.000000+00:00,200,20\n' +
        '2024-05-10 00:00:02.000000+00:00,300,30\n' +
        '2024-05-10 00:00:03.000000+00:00,oops,40\n',
    );
    expect(loadTrace({ path: file, format: 'azure-2024' }, { num_requests: 3 }).length).toBe(3);
    expect(() => loadTrace({ path: file, format: 'azure-2024' }, { num_requests: 4 })).toThrow(/az24\.csv line 5: ContextTokens/);
  });
});

describe('a trace read again', () => {
  const azure = (rows: string[]) => 'TIMESTAMP,ContextTokens,GeneratedTokens\n' + rows.join('\n') + '\n';
  it('is the table already read while the file, the spec and the limits are the same (the band re-runs read it so)', () => {
    const file = join(dir, 'again.csv');
    writeFileSync(file, azure(['2023-11-16 18:15:46.6805900,374,44', '2023-11-16 18:15:50.9951690,396,109']));
    const spec = { path: file, format: 'azure-2023' as const };
    const first = loadTrace(spec);
    expect(loadTrace({ ...spec })).toBe(first);
    // Another limit or another spec is another table.
    const one = loadTrace(spec, { num_requests: 1 });
    expect(one).not.toBe(first);
    expect(one.length).toBe(1);
    expect(loadTrace({ ...spec, speedup: 2 }).arrival_s![1]).toBeCloseTo(first.arrival_s![1] / 2, 9);
  });

  it('is read afresh once the file changed', () => {
    const file = join(dir, 'changed.csv');
    writeFileSync(file, azure(['2023-11-16 18:15:46.6805900,374,44']));
    const spec = { path: file, format: 'azure-2023' as const };
    expect(loadTrace(spec).input_tokens[0]).toBe(374);
    writeFileSync(file, azure(['2023-11-16 18:15:46.6805900,375,44', '2023-11-16 18:15:47.6805900,10,10']));
    const again = loadTrace(spec);
    expect(again.length).toBe(2);
    expect(again.input_tokens[0]).toBe(375);
  });
});
