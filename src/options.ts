// Checks for arguments and option values: every public function reads its options through these.
import { badArgument } from './errors.js';

const got = (v: unknown) => (typeof v === 'number' ? v : typeof v);

export function positiveInteger(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw badArgument(`${name} must be a positive integer, got ${got(v)}`);
  return v;
}

/** An options argument, checked to be an object; each reader checks one field and names it `options.<key>`. */
export class Options<T extends object> {
  readonly raw: Partial<T>;

  constructor(v: T | undefined) {
    if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) {
      throw badArgument(`options must be an options object, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
    }
    this.raw = v ?? {};
  }

  boolean(key: keyof T & string, fallback: boolean): boolean {
    const v = this.raw[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') throw badArgument(`options.${key} must be a boolean, got ${typeof v} ${String(v)}`);
    return v;
  }

  finite(key: keyof T & string, fallback: number): number {
    const v = this.raw[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw badArgument(`options.${key} must be a finite number, got ${got(v)}`);
    return v;
  }

  /** Required when no fallback is given. */
  positiveInteger(key: keyof T & string, fallback?: number): number {
    const v = this.raw[key];
    return v === undefined && fallback !== undefined ? fallback : positiveInteger(`options.${key}`, v);
  }

  /** A PRNG seed: any safe integer, 0 by default. */
  seed(key: keyof T & string): number {
    const v = this.raw[key];
    if (v === undefined) return 0;
    if (!Number.isSafeInteger(v)) throw badArgument(`options.${key} must be an integer, got ${String(v)}`);
    return v as number;
  }
}
