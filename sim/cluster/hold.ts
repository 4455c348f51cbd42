import { waitKey, type Request } from '../workload/request.js';

/**
 * Requests waiting at the gateway for a pool that has no ready replica but will have one: an
 * autoscaled pool at zero, or whose replicas are all starting. They keep their arrival order and
 * go to the first replica that becomes ready; a time-out can still end them while they wait.
 */
export class HeldRequests {
  private readonly queues: Request[][];
  /** Each held request's pool, by its wait key (time-outs find it here). */
  private readonly poolOf = new Map<number, number>();

  constructor(pools: number) {
    this.queues = Array.from({ length: pools }, () => []);
  }

  count(pool: number): number {
    return this.queues[pool].length;
  }

  hold(request: Request, pool: number): void {
    this.queues[pool].push(request);
    this.poolOf.set(waitKey(request), pool);
  }

  /** The oldest held request of `pool`, removed (undefined: none). */
  next(pool: number): Request | undefined {
    const request = this.queues[pool].shift();
    if (request !== undefined) this.poolOf.delete(waitKey(request));
    return request;
  }

  /** Removes the request held under `key` (its time-out came first); undefined when none is. */
  drop(key: number): { request: Request; pool: number } | undefined {
    const pool = this.poolOf.get(key);
    if (pool === undefined) return undefined;
    this.poolOf.delete(key);
    const queue = this.queues[pool];
    const at = queue.findIndex((r) => waitKey(r) === key);
    const [request] = queue.splice(at, 1);
    return { request, pool };
  }

  get size(): number {
    return this.poolOf.size;
  }
}
