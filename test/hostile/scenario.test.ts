import { join } from 'node:path';
import { describe, it } from 'vitest';
import { cli, expectCleanFailure, scenarioText, scratch, writeScenario } from './harness.js';

const dir = scratch('scenario');

describe('hostile scenarios: one line, non-zero, nothing left', () => {
  it('a missing scenario file', () => {
    const out = join(dir, 'o-missing');
    expectCleanFailure(cli(['run', join(dir, 'nope.yaml'), '--out', out]), /file not found/, { out });
  });

  it('a scenario that is a folder', () => {
    const out = join(dir, 'o-folder');
    expectCleanFailure(cli(['run', dir, '--out', out]), /scenario/, { out });
  });

  it('an unknown top-level key', () => {
    const f = writeScenario(dir, 'k.yaml', scenarioText({ extra: 'modle: x' }));
    const out = join(dir, 'o-key');
    expectCleanFailure(cli(['run', f, '--out', out]), /modle/, { out });
  });
});
