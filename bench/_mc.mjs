const lib = await import('../dist/sim/index.js');
const { input } = lib.loadScenario('scenarios/prefix-cache-mooncake-h100.yaml');
input.metrics = { ...(input.metrics ?? {}), uncertainty: false };
lib.runSimulation(lib.resolveScenario(input), {});
