import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../sim/setup/load.js';
import { expectInvariants, run } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'infersim-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README stays true', () => {
  it('its first code block is the install-and-run command and the test command, and CI runs exactly those', () => {
    const first = readme.match(/```sh\n([\s\S]*?)```/)![1];
    const commands = first.split('\n').filter(Boolean).map((line) => line.replace(/\s+#.*$/, '').trim());
    expect(commands).toEqual(['npm ci && npx infersim run scenarios/quickstart.yaml', 'npm test']);
    const ci = readFileSync(join(root, '.ci/run'), 'utf8');
    for (const c of commands) expect(ci).toContain(c);
  });

  it('the scenario reference block is a valid scenario that runs', () => {
    const block = readme.split('### Scenario files')[1].match(/```yaml\n([\s\S]*?)```/)![1];
    const file = join(dir, 'readme.yaml');
    writeFileSync(file, block);
    const { input } = loadScenario(file, { set: ['workload.num_requests=100'] });
    expect(input.engine?.max_num_seqs).toBe(1024);
    const observed = run({ ...input, output: undefined });
    expectInvariants(observed);
    expect(observed.result.totals.finished).toBe(100);
  });
});
