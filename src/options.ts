// Checks for option values: every public function reads its options through these.
import { badArgument } from './errors.js';

export function optionsObject<T extends object>(name: string, v: T | undefined): Partial<T> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw badArgument(`${name} must be an options object, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
  }
  return v;
}

export function optBoolean(name: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw badArgument(`${name} must be a boolean, got ${typeof v} ${String(v)}`);
  return v;
}

export function optFinite(name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badArgument(`${name} must be a finite number, got ${typeof v === 'number' ? v : typeof v}`);
  return v;
}

export function positiveInteger(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    throw badArgument(`${name} must be a positive integer, got ${typeof v === 'number' ? v : typeof v}`);
  }
  return v;
}

/** A PRNG seed: any safe integer, 0 by default. */
export function optSeed(name: string, v: unknown): number {
  if (v === undefined) return 0;
  if (!Number.isSafeInteger(v)) throw badArgument(`${name} must be an integer, got ${String(v)}`);
  return v as number;
}
