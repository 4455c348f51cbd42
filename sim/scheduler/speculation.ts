/**
 * The acceptance model of speculative decoding. Position i of k proposed tokens is accepted with
 * probability rates[i] given that every earlier one was (the target verifies left to right and
 * stops at the first mismatch), so with one rate α the accepted count is a geometric variable
 * truncated at k. The verification emits the accepted tokens plus one of its own (the bonus
 * token), so a step yields accepted + 1 tokens.
 */
export interface Speculation {
  /** Tokens proposed per step at most. */
  readonly k: number;
  /** Draws how many of `proposed` (≤ k) tokens the verification accepts. */
  draw(proposed: number): number;
}

export function speculation(rates: readonly number[], uniform: () => number): Speculation {
  return {
    k: rates.length,
    draw(proposed: number): number {
      let accepted = 0;
      while (accepted < proposed && uniform() < rates[accepted]) accepted++;
      return accepted;
    },
  };
}

/** Expected tokens a step yields with `k` proposals: Σ_{j=0..k} Π_{i<j} rates[i] (1 + E[accepted]). */
export function expectedTokensPerStep(rates: readonly number[], k = rates.length): number {
  let total = 1;
  let p = 1;
  for (let i = 0; i < k; i++) {
    p *= rates[i];
    total += p;
  }
  return total;
}
