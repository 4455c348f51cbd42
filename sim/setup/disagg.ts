import { fieldError } from '../errors.js';
import type { KvLink, PoolInput, PoolRole, ScenarioInput } from '../scenario/types.js';
import { SCHEDULERS } from '../scheduler/registry.js';
import type { PoolSetup, ResolvedTransfer } from './types.js';

/**
 * Per-GPU, one-direction bandwidth of each link kind, Gb/s, and a one-way start-up latency, µs.
 * - nvlink: 900 GB/s per H100 SXM GPU, both directions together (NVIDIA H100 Tensor Core GPU
 *   datasheet): 450 GB/s = 3,600 Gb/s each way; within one node.
 * - infiniband: one 400 Gb/s ConnectX-7 NDR adapter per GPU on the compute fabric (NVIDIA DGX
 *   H100 user guide, "eight single-port ConnectX-7 for 400 Gb/s InfiniBand"); across nodes.
 * - roce: the same 400 Gb/s ConnectX-7 port run as Ethernet (RoCE v2), as Spectrum-X fabrics do.
 * - pcie: PCIe 5.0 x16, 32 GT/s × 16 lanes with 128b/130b coding ≈ 63 GB/s ≈ 504 Gb/s each way
 *   (PCI-SIG PCIe 5.0 base specification); a host-staged copy between GPUs of one machine.
 * - tcp: a 100 Gb/s Ethernet NIC per node through the kernel stack (connectors without RDMA,
 *   e.g. vLLM's PyNccl/Mooncake TCP transports); shared by the node's GPUs, so ~12.5 Gb/s per GPU
 *   of an 8-GPU node.
 * The latencies are orders of magnitude of a transfer's fixed cost (registration, first byte), not
 * measured here: a few µs over NVLink and RDMA, tens of µs over TCP. Set latency_us for a fabric.
 */
export const LINK_DEFAULTS: Record<KvLink, { bandwidth_gbps: number; latency_us: number }> = {
  nvlink: { bandwidth_gbps: 3600, latency_us: 5 },
  infiniband: { bandwidth_gbps: 400, latency_us: 10 },
  roce: { bandwidth_gbps: 400, latency_us: 15 },
  pcie: { bandwidth_gbps: 504, latency_us: 10 },
  tcp: { bandwidth_gbps: 12.5, latency_us: 50 },
};

/**
 * P/D pools are usually on different nodes (llm-d's and Dynamo's deployments put each role on
 * nodes of its own), so a transfer defaults to the cross-node fabric.
 */
export const DEFAULT_LINK: KvLink = 'infiniband';

export const roleOf = (pool: PoolInput): PoolRole => pool.role ?? 'unified';

/**
 * Checks the pools' roles against each other and fills the transfer link: undefined when no pool
 * is prefill or decode. Every prefill pool's model has a decode pool and vice versa; both roles run
 * a policy that can hand KV over; what is not modelled for them yet is refused.
 */
export function resolveDisaggregation(input: ScenarioInput, setups: readonly PoolSetup[]): ResolvedTransfer | undefined {
  const pools = input.pools ?? [];
  const split = pools.some((p) => roleOf(p) !== 'unified');
  if (!split) {
    if (input.transfer !== undefined) throw fieldError('transfer', 'is the KV link from prefill to decode pools; no pool has role prefill or decode', Object.keys(input.transfer));
    return undefined;
  }
  pools.forEach((pool, i) => {
    const role = roleOf(pool);
    if (role === 'unified') return;
    checkPartner(pools, setups, i, role);
    checkRolePool(input, pool, setups[i], i);
  });
  checkWorkload(input);
  const t = input.transfer ?? {};
  const link = t.link ?? DEFAULT_LINK;
  return { link, bandwidth_gbps: t.bandwidth_gbps ?? LINK_DEFAULTS[link].bandwidth_gbps, latency_us: t.latency_us ?? LINK_DEFAULTS[link].latency_us, layerwise: t.layerwise ?? false };
}

/** A prefill pool needs a decode pool of its model, and a decode pool a prefill pool of its model. */
function checkPartner(pools: readonly PoolInput[], setups: readonly PoolSetup[], i: number, role: PoolRole): void {
  const other: PoolRole = role === 'prefill' ? 'decode' : 'prefill';
  const model = setups[i].setup.scenario.model;
  const partners = pools.map((p, k) => ({ p, k })).filter(({ p }) => roleOf(p) === other);
  const same = partners.filter(({ k }) => setups[k].setup.scenario.model === model);
  if (same.length > 0) {
    if (role === 'prefill') checkLengths(setups, i, same.map(({ k }) => k));
    return;
  }
  const field = `pools[${i}].role`;
  if (partners.length === 0) throw fieldError(field, `${role} needs a pool with role ${other} to ${role === 'prefill' ? 'hand its KV to' : 'receive KV from'}; add one`, role);
  const theirs = partners.map(({ k }) => `${setups[k].name} serves ${setups[k].setup.scenario.model}`).join(', ');
  throw fieldError(field, `${role} pool ${setups[i].name} serves ${model}, but no ${other} pool does (${theirs}): a KV cache only continues on the model that computed it`, role);
}

/**
 * The gateway admits a request by its prefill pool's max_model_len; each decode pool it hands to
 * must take as long a sequence (its KV capacity holds max_model_len: sizeKv checks), or the
 * request would wait for blocks there forever.
 */
function checkLengths(setups: readonly PoolSetup[], i: number, decodes: readonly number[]): void {
  const longest = setups[i].setup.scenario.engine.max_model_len;
  for (const k of decodes) {
    const len = setups[k].setup.scenario.engine.max_model_len;
    if (len < longest) {
      throw fieldError(`pools[${k}].engine.max_model_len`, `decode pool ${setups[k].name} must take sequences as long as prefill pool ${setups[i].name} admits (${longest} tokens); raise it or lower the prefill pool's`, len);
    }
  }
}

/** What a prefill or decode pool cannot do yet, and the policy it needs. */
function checkRolePool(input: ScenarioInput, pool: PoolInput, setup: PoolSetup, i: number): void {
  const where = `pools[${i}]`;
  const scheduler = setup.setup.scenario.engine.scheduler;
  if (SCHEDULERS[scheduler].traits.kv_transfer !== true) {
    const able = Object.values(SCHEDULERS).filter((f) => f.traits.kv_transfer === true).map((f) => f.name);
    throw fieldError(`${where}.engine.scheduler`, `cannot hand KV between replicas (role ${roleOf(pool)}); use ${able.join(' or ')}, whose KV connectors do`, scheduler);
  }
  for (const key of ['autoscale', 'failures'] as const) {
    if (pool[key] !== undefined || input[key] !== undefined) {
      throw fieldError(pool[key] !== undefined ? `${where}.${key}` : key, `is not modelled for a ${roleOf(pool)} pool (${pool.name}) yet; give its replicas as a fixed count`, Object.keys(pool[key] ?? input[key] ?? {}));
    }
  }
  if (input.faults?.some((f) => (f.pool ?? input.pools?.[0].name) === pool.name)) {
    throw fieldError('faults', `names ${roleOf(pool)} pool ${pool.name}: failures of prefill and decode replicas are not modelled yet`, pool.name);
  }
  const t = input.traffic;
  if (t?.shadow?.target === pool.name) {
    throw fieldError('traffic.shadow.target', `names ${roleOf(pool)} pool ${pool.name}: mirrored copies would reach the production pools it hands KV to; mirror to a unified pool`, pool.name);
  }
  if (roleOf(pool) === 'decode' && [t?.split?.map((s) => s.pool), t?.canary?.baseline, t?.canary?.canary, t?.shadow?.source, t?.shadow?.target].flat().includes(pool.name)) {
    throw fieldError('traffic', `names decode pool ${pool.name}, which takes requests only from its prefill pools; name the prefill pool instead`, pool.name);
  }
}

/** Several samples per request would hand several KV copies over: not modelled. */
function checkWorkload(input: ScenarioInput): void {
  const w = input.workload;
  if ((w.n ?? 1) > 1 || (w.best_of ?? 1) > 1) {
    throw fieldError((w.n ?? 1) > 1 ? 'workload.n' : 'workload.best_of', 'must be 1 with prefill and decode pools (a hand-off of several samples is not modelled)', w.n ?? w.best_of);
  }
}
