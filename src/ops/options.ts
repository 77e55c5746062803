// Checks for arguments and option values: every public function reads its options through these.
import type { Runtime } from '../runtime/engine.js';
import {
  type MaskSnapshot,
  mustBe,
  positiveInteger,
  readMask,
  readOptions,
  readStateDict,
  type Snapshot,
} from '../runtime/snapshot.js';
import { runtime } from './engines.js';

/**
 * An options argument read once (own keys only, unknown keys rejected; see readOptions); each reader checks one
 * field and names it `options.<key>`.
 */
export class Options {
  readonly raw: Readonly<Record<string, unknown>>;

  constructor(v: unknown, accepted: readonly string[]) {
    this.raw = readOptions('options', v, accepted);
  }

  /** The value under `key` if it passes `ok`, `fallback` if absent; else BAD_ARGUMENT saying what was expected. */
  #checked<T>(key: string, fallback: T, ok: (v: unknown) => boolean, expected: string): T {
    const v = this.raw[key];
    if (v === undefined) return fallback;
    if (!ok(v)) throw mustBe(`options.${key}`, expected, v);
    return v as T;
  }

  boolean(key: string, fallback: boolean): boolean {
    return this.#checked(key, fallback, (v) => typeof v === 'boolean', 'a boolean');
  }

  /** A finite number that is also a finite float32 (the kernels compute in float32). */
  float32(key: string, fallback: number): number {
    return this.#checked(
      key,
      fallback,
      (v) => typeof v === 'number' && Number.isFinite(Math.fround(v)),
      'a finite float32',
    );
  }

  /** Required when no fallback is given. */
  positiveInteger(key: string, fallback?: number): number {
    const v = this.raw[key];
    return v === undefined && fallback !== undefined ? fallback : positiveInteger(`options.${key}`, v);
  }

  /** `read` of the value under `key`, named `options.<key>`; undefined when absent. */
  #read<T>(key: string, read: (name: string, v: unknown) => T): T | undefined {
    const v = this.raw[key];
    return v === undefined ? undefined : read(`options.${key}`, v);
  }

  /** A mask tensor (float32 or Uint8Array data), read once; undefined when absent. */
  mask(key: string): MaskSnapshot | undefined {
    return this.#read(key, readMask);
  }

  /** A state dict, read once; undefined when absent. */
  stateDict(key: string): ReadonlyMap<string, Snapshot> | undefined {
    return this.#read(key, readStateDict);
  }

  /** The runtime of options.engine, or of the default engine. */
  engine(): Runtime {
    return runtime(this.raw.engine);
  }

  /** A PRNG seed: any safe integer, 0 by default. */
  seed(key: string): number {
    return this.#checked(key, 0, Number.isSafeInteger, 'an integer');
  }
}
