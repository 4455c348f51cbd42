import type { WorkloadSpec } from '../scenario/types.js';
import type { Request } from './request.js';

/** Counts the stream keeps in its info while it yields. */
export interface LimitCounts {
  max_tokens_cut_rows?: number;
}

/**
 * Copies the client's sampling parameters (n, best_of, max_tokens) onto a request and cuts its output
 * to max_tokens, counting the cuts in `counts`. Undefined when the workload sets none of them, so the
 * plain path pays nothing.
 */
export function requestLimiter(spec: WorkloadSpec, counts: LimitCounts): ((request: Request) => void) | undefined {
  const { n, best_of, max_tokens } = spec;
  if (n === undefined && best_of === undefined && max_tokens === undefined) return undefined;
  if (max_tokens !== undefined) counts.max_tokens_cut_rows = 0;
  return (request) => {
    if (n !== undefined) request.n = n;
    if (best_of !== undefined) request.best_of = best_of;
    if (max_tokens !== undefined) {
      request.max_tokens = max_tokens;
      if (request.output_tokens > max_tokens) {
        request.output_tokens = max_tokens;
        counts.max_tokens_cut_rows!++;
      }
    }
  };
}
