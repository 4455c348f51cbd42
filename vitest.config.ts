import { defineConfig } from 'vitest/config';

// Time-outs exist to catch hangs, not to judge speed: a busy 2-core CI machine runs a CLI
// setup several times slower than an idle one, so hooks get the same generous limit as tests.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/globalSetup.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
