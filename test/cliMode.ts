/**
 * How tests start the CLI: from the TypeScript sources by default (a stale build cannot mask a
 * change), from the build when `npm test` has just compiled it (INFERSIM_TEST_DIST=1), which
 * halves every spawned process's start-up.
 */
export const CLI_FROM_SOURCE = process.env.INFERSIM_TEST_DIST === '1' ? '0' : '1';
