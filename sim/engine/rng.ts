import seedrandom from 'seedrandom';

/** A uniform [0, 1) source with 53-bit resolution. */
export type Uniform = () => number;

/**
 * One independent, seeded stream per purpose ("arrivals", "input_tokens", "router", ...), so that
 * adding draws to one subsystem never shifts another's sequence. xor4096 is fast (~290 M draws/s
 * here) and has a long period; `.double()` gives 53 bits.
 */
export function rngStream(seed: number, purpose: string): Uniform {
  const generator = seedrandom.xor4096(`${seed}:${purpose}`);
  return () => generator.double();
}
