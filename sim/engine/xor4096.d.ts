// seedrandom's xor4096 generator alone (its package's lib/xor4096.js, typed by @types/seedrandom's
// own algorithm type): the package's index also requires node:crypto for seeds it draws from
// entropy, which infersim never uses (docs/performance.md, twentieth session).
declare module 'seedrandom/lib/xor4096.js' {
  import type seedrandom from 'seedrandom';
  const xor4096: (seed: string) => seedrandom.PRNG;
  export default xor4096;
}
