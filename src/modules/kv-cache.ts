// A KV cache: keys and values of the tokens seen so far, preallocated in linear memory.
import type { Runtime } from '../runtime/engine.js';
import { badArgument } from '../runtime/errors.js';
import { Resident } from './lifetime.js';
import { Options } from '../ops/options.js';
import { recordingOn } from '../runtime/recording.js';
import { isCount, isObject, mustBe } from '../runtime/snapshot.js';

declare global {
  // Symbol.dispose for consumers whose lib stops before esnext.disposable (es2022): the modules and caches
  // declare [Symbol.dispose](). The same declaration as lib.esnext.disposable's, so the two merge.
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}

export interface CacheOptions {
  /** Sequences decoded side by side. */
  batch: number;
  /** Tokens the cache can hold; going past it is an error, never a silent overwrite. */
  maxLength: number;
}

/** Where a step writes and reads: the cache's memory, the tokens it holds, its capacity. */
export interface CacheView {
  readonly ptr: number;
  readonly length: number;
  readonly maxLength: number;
}

const TOKEN = Symbol('KVCache');
/**
 * Runs a step that appends `t` tokens: checks the owner and the room, keeps the memory for the step, and
 * counts the tokens once the step has succeeded. (Set in KVCache's static block, where its fields are in reach.)
 */
export let appendToCache: <T>(
  cache: KVCache,
  what: string,
  owner: object,
  t: number,
  body: (view: CacheView) => T,
) => T;
/** Whether v is a KVCache (a brand check: a look-alike object or a proxy is not one). */
export let isCache: (v: unknown) => v is KVCache;

/**
 * Keys and values for up to `maxLength` tokens of `batch` sequences, by head: for each sequence, every kv head's keys
 * (maxLength rows of head-dim floats each), then every kv head's values; a grouped-query cache holds only the kv
 * heads. A decode step reads each head's keys and values as rows back to back: laid out as rows of every head's
 * [K | V] per token (6 KB apart for 12 heads of 64), the same step took 1.3× as long (`node bench/threads-ab.mjs
 * A/dist dist simd decode12 61`, A the build before this layout). Made by a module's createCache and usable with
 * that module only.
 */
export class KVCache {
  readonly #batch: number;
  readonly #maxLength: number;
  readonly #owner: object;
  readonly #memory: Resident;
  #filled = 0;

  private constructor(token: symbol, rt: Runtime, owner: object, tokenFloats: number, options: unknown) {
    if (token !== TOKEN) throw badArgument("KVCache: use a module's createCache");
    const opts = new Options(options, ['batch', 'maxLength']);
    this.#batch = opts.positiveInteger('batch');
    this.#maxLength = opts.positiveInteger('maxLength');
    this.#owner = owner;
    this.#memory = new Resident(rt.heap, rt.heap.alloc(this.#batch * this.#maxLength * tokenFloats * 4), 'KV cache');
  }

  /** Sequences decoded side by side. */
  get batch(): number {
    return this.#batch;
  }

  /** Tokens the cache can hold. */
  get maxLength(): number {
    return this.#maxLength;
  }

  /** Tokens cached so far. */
  get length(): number {
    return this.#filled;
  }

  /** Forgets every cached token (the memory stays reserved). */
  reset(): void {
    this.#memory.check('KVCache.reset');
    this.#filled = 0;
  }

  /** Keeps the first `length` tokens and forgets the rest (to rewind after speculative or beam decoding). */
  truncate(length: number): void {
    this.#memory.check('KVCache.truncate');
    if (!isCount(length) || length > this.#filled) {
      throw mustBe('KVCache.truncate: length', `an integer from 0 to ${this.#filled}`, length);
    }
    this.#filled = length;
  }

  /** Frees the cache's memory (after a step in progress); later use throws DISPOSED. Safe to call twice. */
  dispose(): void {
    this.#memory.dispose();
  }

  /** `using cache = m.createCache(…)` disposes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  static {
    isCache = (v): v is KVCache => isObject(v) && #memory in v;
    appendToCache = (cache, what, owner, t, body) => {
      if (owner !== cache.#owner) throw badArgument(`${what}: the cache belongs to another module`);
      return cache.#memory.use(what, (ptr) => {
        const filled = cache.#filled;
        if (filled + t > cache.#maxLength) {
          throw badArgument(`${what}: the cache holds ${filled} of ${cache.#maxLength} tokens; ${t} more do not fit`);
        }
        const result = body({ ptr, length: filled, maxLength: cache.#maxLength });
        cache.#filled = filled + t;
        // A recorded step counts its tokens at once (the next step is recorded after it); if its steps fail they
        // are no tokens, unless the cache was rewound or stepped since.
        recordingOn(cache.#memory.heap)?.undo.push(() => {
          if (cache.#filled === filled + t) cache.#filled = filled;
        });
        return result;
      });
    };
  }
}

/** A cache for `owner`, whose tokens take `tokenFloats` floats each (keys and values of every kv head). */
export function makeCache(rt: Runtime, owner: object, tokenFloats: number, options: unknown): KVCache {
  return new (KVCache as unknown as new (...a: unknown[]) => KVCache)(TOKEN, rt, owner, tokenFloats, options);
}
