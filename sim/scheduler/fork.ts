import type { BlockManager } from '../kv/blockManager.js';
import { Sequence } from './sequence.js';

/**
 * Copy-on-write samples (vLLM V0): once the prompt pass of `parent` has produced its first
 * token, each pending sample becomes a sequence that shares every block of the parent (the
 * partly filled last block is copied on its first write) and has the same first token. Returns
 * the new sequences, already members of the parent's group.
 */
export function forkSamples(parent: Sequence, kv: BlockManager): Sequence[] {
  const children: Sequence[] = [];
  const group = parent.group;
  if (group === undefined) throw new Error(`request ${parent.id}: samples to fork but no sample group`);
  for (let k = 1; k <= parent.pending_forks; k++) {
    const child = new Sequence(parent.request, parent.replica, parent.sample + k);
    child.group = group;
    child.retries = parent.retries;
    child.first_scheduled_s = parent.first_scheduled_s;
    kv.fork(parent, child);
    child.coverWithoutCompute(parent.computed_tokens);
    child.prefill_end = parent.prefill_end;
    const first = parent.tokens;
    child.stampToken(first.times_s[0], first.steps[0]);
    group.sequences.push(child);
    group.remaining++;
    children.push(child);
  }
  parent.pending_forks = 0;
  return children;
}
