import { KeyTable } from './keyTable.js';

/**
 * Content keys of full KV blocks, for prefix caching. The simulator never sees token ids, so a
 * token is identified by where it came from (see `TokenIdentity`); a block's key chains the
 * previous block's key with the identities of its tokens, so equal keys mean equal prefixes.
 *
 * A key is three 32-bit hash lanes. The index (keyTable.ts) is keyed by 30 bits of the first and
 * the other two lanes are checked per block, so a false hit needs a 94-bit collision. A collision
 * of the 30-bit index key alone merely leaves the second block uncached (about n²/2³¹ blocks for n
 * cached blocks: under one in a cache of 30 000).
 */

/**
 * Where a sequence's tokens come from; position p resolves to the first rule that applies: a
 * sample's own output; the system prompt (p < prefix_tokens); Mooncake ids over the trace's
 * prompt that follows it; the session; the request.
 */
export interface TokenIdentity {
  /** Request id. */
  id: number;
  /** Sample index: samples > 0 have their own output tokens after the shared prompt. */
  sample: number;
  prompt_tokens: number;
  /** Mooncake: one id per 512-token block of the prompt. */
  hash_ids?: number[];
  /** A shared system prompt of `prefix_tokens` tokens. */
  prefix_group?: number;
  prefix_tokens?: number;
  /** A multi-turn session: its turns extend one token stream. */
  session?: number;
  /** Other sequences of the same request (its samples) may hold the same prompt tokens. */
  shared_request?: boolean;
}

const NO_BLOCKS: readonly number[] = [];

/**
 * A holder's token identity and content keys, block by block. Content never changes, so the keys
 * survive preemption and a move to another replica; `registered_blocks` and `released_blocks`
 * describe the pool the holder is in now and are reset when it leaves that pool. The identity is
 * copied in rather than referenced: one object less per queued sequence (a burst queues them all).
 */
export class CacheKeys implements TokenIdentity {
  readonly id: number;
  readonly sample: number;
  readonly prompt_tokens: number;
  readonly hash_ids: number[] | undefined;
  readonly prefix_group: number | undefined;
  readonly prefix_tokens: number | undefined;
  readonly session: number | undefined;
  readonly shared_request: boolean | undefined;
  /**
   * Keys of blocks 0, 1, … computed so far, up to the first private block: k ≥ 0 for content other
   * holders may share. Private blocks' keys are functions of (id, sample, block) and are not
   * stored (see `privateKey` and `privateCheck`).
   */
  readonly block_keys: number[] = [];
  /** Two check lanes per block, interleaved (shared blocks only, as `block_keys`). */
  readonly block_checks: number[] = [];
  /** The first token from which every token is this holder's own (`privateFromToken`); NaN until first asked. */
  private_from_token = NaN;
  /** Blocks 0 … registered_blocks − 1 were offered to the cache (reset when the blocks are released). */
  registered_blocks = 0;
  /**
   * Whether its private blocks' cache entries are written (`BlockKeys.writePrivate`, from its first
   * recompute preemption or fork on): until then none of the blocks it holds has one, and releasing
   * them reads none.
   */
  private_entries = false;
  /**
   * The blocks this holder released when preempted: where its private content may still be
   * cached. Shared and empty until a preemption stores some (`rememberReleased`).
   */
  released_blocks: readonly number[] = NO_BLOCKS;

  constructor(identity: TokenIdentity) {
    this.id = identity.id;
    this.sample = identity.sample;
    this.prompt_tokens = identity.prompt_tokens;
    this.hash_ids = identity.hash_ids;
    this.prefix_group = identity.prefix_group;
    this.prefix_tokens = identity.prefix_tokens;
    this.session = identity.session;
    this.shared_request = identity.shared_request;
  }

  /** Remembers `blocks` as where this holder's content was (a recompute preemption). */
  rememberReleased(blocks: readonly number[]): void {
    this.released_blocks = blocks.slice();
  }

  /** Forgets where its blocks were (it left the pool they belong to). */
  forgetReleased(): void {
    this.released_blocks = NO_BLOCKS;
  }
}

const MOONCAKE_BLOCK_TOKENS = 512;
const NONE = -1;
const TWO_32 = 2 ** 32;
const MAP_KEY_MASK = 0x3fffffff;

/**
 * Five rounds of one mixing step (multiply, xor-shift, multiply, xor-shift), one value per round:
 * mix(mix(mix(mix(mix(h, a), b), c), d), e) for mix(h, v) = fmix(h ^ v). Written out rather than as
 * fifteen calls a block: V8 stopped inlining the one-round function inside a block's key (its
 * inlining budget was spent on the callers), and the calls were most of the time keying took.
 */
function mix5(h: number, a: number, b: number, c: number, d: number, e: number): number {
  h = Math.imul(h ^ a, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  h ^= h >>> 13;
  h = Math.imul(h ^ b, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  h ^= h >>> 13;
  h = Math.imul(h ^ c, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  h ^= h >>> 13;
  h = Math.imul(h ^ d, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  h ^= h >>> 13;
  h = Math.imul(h ^ e, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  return h ^ (h >>> 13);
}

/**
 * The first token from which every token is unique to its holder: past every shared source
 * (Mooncake blocks, a system prompt, a multi-sample request's prompt); never within a session,
 * whose later turns share everything. Shared sources are all prefixes, so this is one boundary.
 */
function privateFromToken(id: TokenIdentity): number {
  if (id.session !== undefined) return Infinity;
  let from = 0;
  if (id.prefix_group !== undefined) from = id.prefix_tokens ?? 0;
  if (id.hash_ids !== undefined) from = Math.min(id.prompt_tokens, from + id.hash_ids.length * MOONCAKE_BLOCK_TOKENS);
  if (id.shared_request === true || id.sample > 0) from = Math.max(from, id.prompt_tokens);
  return from;
}

/**
 * A private block's key and second check lane: only this holder has these tokens and only it
 * looks them up, so (request, sample, block) identifies them exactly, with no hashing (the first
 * check lane is the block's index).
 */
function privateKey(holder: TokenIdentity): number {
  return holder.id & MAP_KEY_MASK;
}
function privateCheck(holder: TokenIdentity): number {
  return holder.sample * 256 + Math.floor(holder.id / 2 ** 30);
}

export class BlockKeys {
  /** Content key → block, for shared blocks' entries. */
  private readonly map = new KeyTable();
  /**
   * Each block's cache entry, four numbers a block (one cache line for what a block's release or
   * reuse reads): the map key plus one (0 for none: a new table needs no pass to mark every
   * block empty, which for a large pool was a sixth of a deployment plan), the two check lanes,
   * and 1 for a private entry.
   * Blocks whose content only their holder can have (a single-sample request's own tokens) are
   * kept out of the map: only that holder, re-admitted after a preemption, can hit them, and it
   * knows where they are. Their entries cost no map operations.
   */
  private readonly entry: Int32Array;
  // Hash lanes of the block being keyed (fields, so computing a key allocates nothing).
  private l1 = 0;
  private l2 = 0;
  private l3 = 0;

  constructor(
    total_blocks: number,
    private readonly block_size: number,
  ) {
    this.entry = new Int32Array(4 * total_blocks);
  }

  get size(): number {
    return this.map.size;
  }

  hasKey(block: number): boolean {
    return this.entry[4 * block] !== 0;
  }

  /** The cached block holding the holder's block j (`keys` its content keys), or −1. */
  lookup(holder: CacheKeys, j: number): number {
    const shared = this.ensure(holder, j + 1);
    let block: number | undefined;
    if (j < shared) {
      block = this.map.get(holder.block_keys[j]);
      if (block === NONE) return NONE;
      const c = holder.block_checks;
      return this.entry[4 * block + 1] === c[2 * j] && this.entry[4 * block + 2] === c[2 * j + 1] ? block : NONE;
    }
    block = holder.released_blocks[j];
    if (block === undefined) return NONE;
    const e = this.entry;
    const at = 4 * block;
    return e[at + 3] === 1 && e[at] === privateKey(holder) + 1 && e[at + 1] === j && e[at + 2] === privateCheck(holder) ? block : NONE;
  }

  /**
   * How many of the holder's first `max_blocks` blocks are cached, counted from block 0 up to the
   * first miss (changes nothing); `into` receives the cached blocks' ids, in order.
   */
  cachedBlocks(holder: CacheKeys, max_blocks: number, into?: number[]): number {
    let j = 0;
    for (; j < max_blocks; j++) {
      const block = this.lookup(holder, j);
      if (block === NONE) break;
      into?.push(block);
    }
    return j;
  }

  /** Offers the holder's blocks (`blocks`, keyed by `holder`) below `full_blocks` (all full) to the cache. */
  register(holder: CacheKeys, blocks: readonly number[], full_blocks: number): void {
    if (full_blocks <= holder.registered_blocks) return;
    const shared = this.ensure(holder, full_blocks);
    for (let j = holder.registered_blocks; j < full_blocks; j++) this.enter(holder, j, blocks[j], shared);
    holder.registered_blocks = full_blocks;
  }

  /** Offers the holder's block j, `block`, just filled: without reading the block list when it is the next to register. */
  registerFilled(holder: CacheKeys, blocks: readonly number[], j: number, block: number): void {
    if (holder.registered_blocks !== j) return this.register(holder, blocks, j + 1);
    this.enter(holder, j, block, this.ensure(holder, j + 1));
    holder.registered_blocks = j + 1;
  }

  /**
   * Gives `block`, the holder's block j, its cache entry (`shared`: how many of its blocks may be
   * shared), unless it has one. A private block's entry is written only once the holder has
   * `private_entries`: only the holder could look it up, and only after releasing it to find it
   * again (a recompute preemption), which writes its entries then (`writePrivate`). Until then
   * nothing reads them: a registered private block that its holder releases for good leaves the
   * cache as its entry would have (BlockManager's `releaseForGood`). A decode fills a block every
   * `block_size` steps, and writing each entry, then reading and clearing it at release, cost two
   * cold cache lines a block.
   */
  private enter(holder: CacheKeys, j: number, block: number, shared: number): void {
    if (j >= shared) {
      if (holder.private_entries && !this.hasKey(block)) this.setEntry(block, privateKey(holder), j, privateCheck(holder), 1);
      return;
    }
    if (this.hasKey(block)) return;
    const key = holder.block_keys[j];
    if (!this.map.addIfAbsent(key, block)) return;
    this.setEntry(block, key, holder.block_checks[2 * j], holder.block_checks[2 * j + 1], 0);
  }

  /** The index of the holder's first private block (only it can hold its content; `ensure`'s `shared`). */
  privateFrom(holder: CacheKeys): number {
    if (Number.isNaN(holder.private_from_token)) holder.private_from_token = privateFromToken(holder);
    return Math.ceil(holder.private_from_token / this.block_size);
  }

  /**
   * Writes the entries of the holder's registered private blocks (`blocks`), which `enter` left
   * unwritten, and every later one's. Once written they stay so: a holder that writes them (or
   * inherits blocks by a fork) registers its next ones with their entries, and any other entry on
   * a block it holds was there before it (a forked parent's), which it must not take over.
   */
  writePrivate(holder: CacheKeys, blocks: readonly number[]): void {
    if (holder.private_entries) return;
    holder.private_entries = true;
    const to = Math.min(holder.registered_blocks, blocks.length);
    for (let j = this.privateFrom(holder); j < to; j++) this.setEntry(blocks[j], privateKey(holder), j, privateCheck(holder), 1);
  }

  forget(holder: CacheKeys): void {
    holder.registered_blocks = 0;
  }

  /** A forked child shares its parent's first `full_blocks` blocks, already registered. */
  inherit(parent: CacheKeys, child: CacheKeys, full_blocks: number): void {
    child.registered_blocks = Math.min(parent.registered_blocks, full_blocks);
  }

  /** True when `block`'s entry is a private one of `holder`'s (only `holder` could look it up). */
  ownsPrivate(block: number, holder: CacheKeys): boolean {
    const at = 4 * block;
    return this.entry[at + 3] === 1 && this.entry[at] === privateKey(holder) + 1 && this.entry[at + 2] === privateCheck(holder);
  }

  evict(block: number): void {
    const key = this.entry[4 * block] - 1;
    if (this.entry[4 * block + 3] === 0 && key !== NONE) this.map.deleteIfValue(key, block);
    this.entry[4 * block] = 0;
  }

  private setEntry(block: number, key: number, check1: number, check2: number, isPrivate: number): void {
    const at = 4 * block;
    this.entry[at] = key + 1;
    this.entry[at + 1] = check1;
    this.entry[at + 2] = check2;
    this.entry[at + 3] = isPrivate;
  }

  /**
   * Computes the shared blocks' keys up to block `count` − 1, and returns how many of the holder's
   * blocks are shared (may hold content other holders have; Infinity within a session): from there
   * on, blocks are private and keyed by `privateKey` and `privateCheck`.
   */
  private ensure(holder: CacheKeys, count: number): number {
    const keys = holder.block_keys;
    const checks = holder.block_checks;
    const B = this.block_size;
    const id: TokenIdentity = holder;
    // The first block with a token at or past privateFrom: every token from there on is the holder's own.
    const shared = this.privateFrom(holder);
    const end = Math.min(count, shared);
    for (let j = keys.length; j < end; j++) {
      if (j === 0) {
        this.l1 = 0x243f6a88;
        this.l2 = 0x85a308d3;
        this.l3 = 0x13198a2e;
      } else {
        this.l1 = keys[j - 1];
        this.l2 = checks[2 * j - 2];
        this.l3 = checks[2 * j - 1];
      }
      this.mixTokens(id, j * B, (j + 1) * B);
      keys.push(this.l1 & MAP_KEY_MASK);
      checks.push(this.l2, this.l3);
    }
    return shared;
  }

  /** Mixes the identities of tokens [start, end) into the lanes, one run of same-source tokens at a time. */
  private mixTokens(id: TokenIdentity, start: number, end: number): void {
    const prompt = id.prompt_tokens;
    const ownOutput = id.sample > 0;
    const hashBase = id.prefix_group !== undefined ? (id.prefix_tokens ?? 0) : 0;
    // Output tokens are never Mooncake prompt content, even where the last id's 512 tokens run past the prompt.
    const hashEnd = Math.min(prompt, hashBase + (id.hash_ids?.length ?? 0) * MOONCAKE_BLOCK_TOKENS);
    let p = start;
    while (p < end) {
      let tag: number;
      let source: number;
      let offset = p;
      // Shared sources stop at the prompt's end for samples > 0, whose output is their own.
      let runEnd = ownOutput && p < prompt ? Math.min(end, prompt) : end;
      const hashIds = id.hash_ids;
      if (ownOutput && p >= prompt) {
        tag = 5;
        source = id.id * 65536 + id.sample;
      } else if (id.prefix_group !== undefined && p < (id.prefix_tokens ?? 0)) {
        tag = 2;
        source = id.prefix_group;
        runEnd = Math.min(runEnd, id.prefix_tokens as number);
      } else if (hashIds !== undefined && p >= hashBase && p < hashEnd) {
        // Mooncake ids cover the trace's own prompt, after any system prompt put in front of it.
        tag = 1;
        const k = Math.floor((p - hashBase) / MOONCAKE_BLOCK_TOKENS);
        source = hashIds[k];
        offset = p - hashBase - k * MOONCAKE_BLOCK_TOKENS;
        runEnd = Math.min(runEnd, hashBase + (k + 1) * MOONCAKE_BLOCK_TOKENS, hashEnd);
      } else if (id.session !== undefined) {
        tag = 3;
        source = id.session;
      } else {
        tag = 4;
        source = id.id;
      }
      this.mixRun(tag, source, offset, runEnd - p);
      p = runEnd;
    }
  }

  private mixRun(tag: number, source: number, offset: number, length: number): void {
    const lo = source | 0;
    const hi = Math.floor(source / TWO_32) | 0;
    this.l1 = mix5(this.l1, tag, lo, hi, offset, length);
    this.l2 = mix5(this.l2 ^ 0x5bd1e995, length, offset, hi, lo, tag);
    this.l3 = mix5(this.l3 + 0x68e31da4, offset ^ 0x1b873593, tag * 0x3c6ef372, lo ^ 0xcc9e2d51, hi, length ^ 0x7f4a7c15);
  }
}
