import { badArgument, shapeMismatch } from '../runtime/errors.js';
import { formatShape, readShape, readTensor, type Snapshot } from '../runtime/snapshot.js';

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

export const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** Builds a Tensor, checking that `data.length` matches the shape. */
export function tensor(data: Float32Array, shape: readonly number[]): Tensor {
  const t = readTensor('tensor', { data, shape: readShape('shape', shape) });
  return { data: t.data, shape: [...t.shape] };
}

function entry(sd: ReadonlyMap<string, Snapshot>, key: string): Snapshot {
  const t = sd.get(key);
  if (!t) throw badArgument(`state dict is missing '${key}'`);
  return t;
}

/** Dimension i of the matrix under `key` of a state dict (an error naming it when it is missing or not 2-D). */
export function matrixDim(sd: ReadonlyMap<string, Snapshot>, key: string, i: number): number {
  const t = entry(sd, key);
  if (t.shape.length !== 2) throw shapeMismatch(`${t.name} must be a matrix, got ${formatShape(t.shape)}`);
  return t.shape[i];
}

/**
 * PyTorch's strict loading of a state dict read by readStateDict: take() each expected key, checked to exist and
 * to have exactly `shape`; then done() refuses any key not taken.
 */
export function strictLoad(sd: ReadonlyMap<string, Snapshot>) {
  const used = new Set<string>();
  return {
    take(key: string, shape: readonly number[]): Float32Array {
      const t = entry(sd, key);
      if (!sameShape(t.shape, shape))
        throw shapeMismatch(`${t.name} must be ${formatShape(shape)}, got ${formatShape(t.shape)}`);
      used.add(key);
      return t.data;
    },
    done(): void {
      for (const key of sd.keys())
        if (!used.has(key))
          throw badArgument(`unexpected key '${key}' in state dict; expected ${[...used].join(', ')}`);
    },
  };
}
