// A KV cache: keys and values of the tokens seen so far, preallocated in linear memory.
import type { Engine } from './engine.js';
import { badArgument } from './errors.js';
import { Resident } from './lifetime.js';
import { Options } from './options.js';

export interface CacheOptions {
  /** Sequences decoded side by side. */
  batch: number;
  /** Tokens the cache can hold; going past it is an error, never a silent overwrite. */
  maxLength: number;
}

/**
 * Keys and values for up to `maxLength` tokens of `batch` sequences: one row of [K | V] (2 · kv heads · head
 * dim floats; a grouped-query cache holds only the kv heads) per token. Made by a module's createCache and
 * usable with that module only.
 */
export class KVCache {
  readonly batch: number;
  readonly maxLength: number;
  /** Floats per cached token: K then V. */
  readonly rowFloats: number;
  #filled = 0;
  readonly #memory: Resident;

  constructor(
    engine: Engine,
    readonly owner: object,
    rowFloats: number,
    options: CacheOptions,
  ) {
    const opts = new Options(options);
    this.batch = opts.positiveInteger('batch');
    this.maxLength = opts.positiveInteger('maxLength');
    this.rowFloats = rowFloats;
    this.#memory = new Resident(engine.heap, engine.heap.alloc(this.batch * this.maxLength * rowFloats * 4), 'KV cache');
  }

  /** Tokens cached so far. */
  get length(): number {
    return this.#filled;
  }

  /** Forgets every cached token (the memory stays reserved). */
  reset(): void {
    this.ptr('KVCache.reset');
    this.#filled = 0;
  }

  /** Keeps the first `length` tokens and forgets the rest (to rewind after speculative or beam decoding). */
  truncate(length: number): void {
    this.ptr('KVCache.truncate');
    if (!Number.isSafeInteger(length) || length < 0 || length > this.#filled) {
      throw badArgument(`KVCache.truncate(length): length must be an integer from 0 to ${this.#filled} (the tokens cached), got ${String(length)}`);
    }
    this.#filled = length;
  }

  /** Frees the cache's memory; later use throws DISPOSED. Safe to call twice. */
  dispose(): void {
    this.#memory.dispose();
  }

  /** `using cache = m.createCache(…)` disposes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** The cache's memory, or DISPOSED naming the caller. */
  ptr(what: string): number {
    return this.#memory.ptr(what);
  }

  /** Checks that `t` more tokens fit, for the module that owns the cache, and returns the memory. */
  reserve(what: string, owner: object, t: number): number {
    const ptr = this.ptr(what);
    if (owner !== this.owner) throw badArgument(`${what}: this KV cache was made by another module's createCache`);
    if (this.#filled + t > this.maxLength) {
      throw badArgument(`${what}: the cache holds ${this.#filled} of ${this.maxLength} tokens, so ${t} more do not fit (maxLength ${this.maxLength})`);
    }
    return ptr;
  }

  /** Records `t` tokens appended by a step. */
  advance(t: number): void {
    this.#filled += t;
  }
}
