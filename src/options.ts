// Checks for arguments and option values: every public function reads its options through these.
import { type Runtime, runtime } from './engine.js';
import { badArgument } from './errors.js';
import { describe, type MaskSnapshot, readMask, readOptions, readStateDict, type Snapshot } from './snapshot.js';

export function positiveInteger(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw badArgument(`${name} must be a positive integer, got ${describe(v)}`);
  return v;
}

/**
 * An options argument read once (own keys only, unknown keys rejected; see readOptions); each reader checks one
 * field and names it `options.<key>`.
 */
export class Options {
  readonly raw: Readonly<Record<string, unknown>>;

  constructor(v: unknown, accepted: readonly string[]) {
    this.raw = readOptions('options', v, accepted);
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.raw[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') throw badArgument(`options.${key} must be a boolean, got ${describe(v)}`);
    return v;
  }

  /** A finite number that is also a finite float32 (the kernels compute in float32). */
  float32(key: string, fallback: number): number {
    const v = this.raw[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(Math.fround(v))) throw badArgument(`options.${key} must be a finite float32, got ${describe(v)}`);
    return v;
  }

  /** Required when no fallback is given. */
  positiveInteger(key: string, fallback?: number): number {
    const v = this.raw[key];
    return v === undefined && fallback !== undefined ? fallback : positiveInteger(`options.${key}`, v);
  }

  /** A mask tensor (float32 or Uint8Array data), read once; undefined when absent. */
  mask(key: string): MaskSnapshot | undefined {
    const v = this.raw[key];
    return v === undefined ? undefined : readMask(`options.${key}`, v);
  }

  /** A state dict, read once; undefined when absent. */
  stateDict(key: string): ReadonlyMap<string, Snapshot> | undefined {
    const v = this.raw[key];
    return v === undefined ? undefined : readStateDict(`options.${key}`, v);
  }

  /** The runtime of options.engine, or of the default engine. */
  engine(): Runtime {
    return runtime(this.raw.engine);
  }

  /** A PRNG seed: any safe integer, 0 by default. */
  seed(key: string): number {
    const v = this.raw[key];
    if (v === undefined) return 0;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw badArgument(`options.${key} must be an integer, got ${describe(v)}`);
    return v;
  }
}
