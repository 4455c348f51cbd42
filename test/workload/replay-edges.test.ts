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
