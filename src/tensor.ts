import { badArgument, shapeMismatch } from './errors.js';

/** A row-major, contiguous float32 array with its shape. */
export interface Tensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** A row-major boolean mask: one byte per element, 0 or 1. */
export interface BoolTensor {
  readonly data: Uint8Array;
  readonly shape: readonly number[];
}

/** PyTorch state_dict names to tensors, e.g. `{ 'W_q.weight': …, 'W_q.bias': … }`. */
export type StateDict = Record<string, Tensor>;

/** Kernels take sizes and strides as i32. */
const MAX_DIM = 2 ** 31 - 1;

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function checkShape(name: string, shape: unknown): readonly number[] {
  if (!Array.isArray(shape)) throw badArgument(`${name}.shape must be an array of dimension sizes, got ${typeof shape}`);
  shape.forEach((d, i) => {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw badArgument(`${name}.shape[${i}] must be a non-negative integer, got ${String(d)}`);
    }
    if (d > MAX_DIM) throw badArgument(`${name}.shape[${i}] is ${d}, past the largest size the kernels index (${MAX_DIM})`);
  });
  return shape as readonly number[];
}

function checkData<T extends Float32Array | Uint8Array>(name: string, t: { data: T; shape: readonly number[] }): void {
  const shape = checkShape(name, t.shape);
  const size = shapeSize(shape);
  if (t.data.length !== size) {
    throw shapeMismatch(`${name}.data has ${t.data.length} elements but shape ${formatShape(shape)} needs ${size}`);
  }
}

/** Builds a Tensor, checking that `data.length` matches the shape. */
export function tensor(data: Float32Array, shape: readonly number[]): Tensor {
  const t = { data, shape: [...checkShape('shape', shape)] };
  checkTensor('tensor', t);
  return t;
}

/** Checks that `t` is a float32 tensor of rank ≥ minRank whose data fits its shape. */
export function checkTensor(name: string, t: unknown, minRank = 0): Tensor {
  const x = t as Tensor | undefined;
  if (typeof x !== 'object' || x === null || !(x.data instanceof Float32Array)) {
    throw badArgument(`${name} must be a Tensor { data: Float32Array, shape }, got ${describe(t)}`);
  }
  checkData(name, x);
  if (x.shape.length < minRank) {
    throw shapeMismatch(`${name} must have at least ${minRank} dimensions, got shape ${formatShape(x.shape)}`);
  }
  return x;
}

/** Checks a mask: a float32 Tensor (additive) or a BoolTensor (Uint8Array data). */
export function checkMaskTensor(name: string, t: unknown): Tensor | BoolTensor {
  const x = t as { data?: unknown; shape?: unknown } | undefined;
  if (typeof x === 'object' && x !== null && x.data instanceof Uint8Array) {
    checkData(name, x as BoolTensor);
    return x as BoolTensor;
  }
  if (typeof x === 'object' && x !== null && x.data instanceof Float32Array) return checkTensor(name, x);
  throw badArgument(`${name} must be a Tensor with Float32Array data (additive) or Uint8Array data (1 = attend), got ${describe(t)}`);
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  const ctor = (v as object).constructor?.name ?? 'object';
  if ('data' in (v as object)) {
    const d = (v as { data: unknown }).data;
    return `${ctor} with data ${d === null ? 'null' : typeof d === 'object' ? (d as object).constructor?.name : typeof d}`;
  }
  return ctor;
}

/** The tensor under `key` of a state dict, checked to exist and to have exactly `shape`. */
export function stateDictTensor(sd: StateDict, key: string, shape: readonly number[]): Tensor {
  const t = sd[key];
  if (t === undefined) throw badArgument(`state dict is missing '${key}'`);
  checkTensor(`state dict '${key}'`, t);
  if (!sameShape(t.shape, shape)) {
    throw shapeMismatch(`state dict '${key}' must be ${formatShape(shape)}, got ${formatShape(t.shape)}`);
  }
  return t;
}
