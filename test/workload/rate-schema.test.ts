import { describe, expect, it } from 'vitest';
import { parseScenarioObject, ScenarioValidationError } from '../../sim/setup/load.js';
import { validScenario } from '../scenario/helpers.js';

/** Every problem the scenario loader reports when workload.arrival is `arrival`. */
function problems(arrival: unknown): readonly string[] {
  const scenario = validScenario();
  scenario.workload.arrival = arrival;
  try {
    parseScenarioObject(scenario);
  } catch (error) {
    if (error instanceof ScenarioValidationError) return error.problems;
    throw error;
  }
  return [];
}

const schedule = [
  { until_s: 600, rate_per_s: 5 },
  { until_s: 900, rate_per_s: 0 },
  { until_s: 1200, rate_per_s: 20 },
];
const diurnal = { mean: 10, amplitude: 0.5, period_s: 86_400, phase_s: 21_600 };

describe('workload.arrival.rate_per_s in the scenario', () => {
  it.each([
    { process: 'poisson', rate_per_s: schedule },
    { process: 'gamma', rate_per_s: diurnal, cv: 2 },
    { process: 'constant', rate_per_s: schedule },
    { process: 'poisson', rate_per_s: { mean: 1, amplitude: 1, period_s: 60 } },
  ])('accepts %o unchanged', (arrival) => {
    const scenario = validScenario();
    scenario.workload.arrival = arrival;
    expect(parseScenarioObject(scenario).workload.arrival).toEqual(arrival);
  });

  it.each<[string, unknown, string[]]>([
    [
      'an until_s below the one before',
      [{ until_s: 300, rate_per_s: 1 }, { until_s: 600, rate_per_s: 1 }, { until_s: 300, rate_per_s: 1 }],
      ['workload.arrival.rate_per_s[2].until_s: must be > the one before (600), got 300'],
    ],
    [
      'an until_s equal to the one before',
      [{ until_s: 600, rate_per_s: 1 }, { until_s: 600, rate_per_s: 2 }],
      ['workload.arrival.rate_per_s[1].until_s: must be > the one before (600), got 600'],
    ],
    ['a negative step rate', [{ until_s: 600, rate_per_s: 1 }, { until_s: 700, rate_per_s: -5 }], ['workload.arrival.rate_per_s[1].rate_per_s: must be ≥ 0, got -5']],
    ['an until_s of 0', [{ until_s: 0, rate_per_s: 1 }], ['workload.arrival.rate_per_s[0].until_s: must be > 0, got 0']],
    [
      'only pauses',
      [{ until_s: 600, rate_per_s: 0 }],
      ['workload.arrival.rate_per_s: every step has rate_per_s 0, so no request would arrive, got [{"until_s":600,"rate_per_s":0}]'],
    ],
    ['an empty schedule', [], ['workload.arrival.rate_per_s: must list at least 1 item, got []']],
    ['a step that is not a mapping', [5], ['workload.arrival.rate_per_s[0]: must be a mapping, got 5']],
    ['an unknown step key', [{ until_s: 6, rate_per_s: 1, at: 3 }], ['workload.arrival.rate_per_s[0].at: unknown key; allowed: until_s, rate_per_s, got 3']],
    ['an amplitude above 1', { ...diurnal, amplitude: 1.5 }, ['workload.arrival.rate_per_s.amplitude: must be ≥ 0 and ≤ 1, got 1.5']],
    ['a mean of 0', { ...diurnal, mean: 0 }, ['workload.arrival.rate_per_s.mean: must be > 0, got 0']],
    ['a period of 0', { ...diurnal, period_s: 0 }, ['workload.arrival.rate_per_s.period_s: must be > 0, got 0']],
    [
      'a misspelt key',
      { mean: 10, amplitud: 0.5, period_s: 60 },
      [
        'workload.arrival.rate_per_s.amplitud: unknown key; allowed: mean, amplitude, period_s, phase_s, got 0.5',
        'workload.arrival.rate_per_s.amplitude: required (must be a number ≥ 0 and ≤ 1)',
      ],
    ],
  ])('refuses %s with one line each', (_, rate_per_s, expected) => {
    expect(problems({ process: 'poisson', rate_per_s })).toEqual(expected);
  });

  it('keeps the plain rate’s messages for a number or a wrong scalar', () => {
    expect(problems({ process: 'poisson', rate_per_s: -3 })).toEqual(['workload.arrival.rate_per_s: must be > 0, got -3']);
    expect(problems({ process: 'gamma', rate_per_s: 'fast', cv: 1 })).toEqual(['workload.arrival.rate_per_s: must be a number ≥ 1e-9 and ≤ 1e9, got "fast"']);
    expect(problems({ process: 'constant' })).toEqual(['workload.arrival.rate_per_s: required (must be a number ≥ 1e-9 and ≤ 1e9)']);
  });
});
