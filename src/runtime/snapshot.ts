// The entry step of every public call: each argument read once, own properties only, into a frozen snapshot
// that all later work uses. Getters, proxies and resizable buffers can change between two reads; a snapshot
// cannot, and no user code runs after it.
import { AttentionError, badArgument, shapeMismatch } from './errors.js';
import { outside } from './recording.js';

/** The most dimensions a tensor may have: batch bookkeeping is quadratic in the rank. */
export const MAX_RANK = 64;
/** Kernels take sizes and strides as i32. */
export const MAX_DIM = 2 ** 31 - 1;

// Intrinsic getters, taken once: a subclass, an own property or a proxy cannot change what they report.
const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
const getterOf = (o: object, key: PropertyKey) => Object.getOwnPropertyDescriptor(o, key)!.get!;
const tagOf = getterOf(typedArrayProto, Symbol.toStringTag);
const lengthOf = getterOf(typedArrayProto, 'length');
const bufferOf = getterOf(typedArrayProto, 'buffer');
const byteOffsetOf = getterOf(typedArrayProto, 'byteOffset');

/** 'Float32Array', 'Uint8Array', … for a typed array of any realm; undefined for anything else. */
export const typedArrayName = (v: unknown): string | undefined => tagOf.call(v) as string | undefined;

/** Elements a typed array has now (0 once its buffer is detached or shrunk under it). */
export const typedArrayLength = (v: ArrayBufferView): number => lengthOf.call(v) as number;

/** A value for a message, without running any of its code (no toString, no getters). */
export function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.slice(0, 40));
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return String(v);
  const name = typedArrayName(v);
  if (name) return `${name}(${typedArrayLength(v as ArrayBufferView)})`;
  try {
    return typeof v === 'function' ? 'a function' : Array.isArray(v) ? 'an array' : 'an object';
  } catch {
    return 'a revoked proxy';
  }
}

/** Whether v is an integer (a safe one, of type number) of at least `min`. */
export const isCount = (v: unknown, min = 0): v is number => Number.isSafeInteger(v) && (v as number) >= min;

/** BAD_ARGUMENT: `name` must be `what`, and what it was instead. */
export const mustBe = (name: string, what: string, got: unknown): AttentionError =>
  badArgument(`${name} must be ${what}, got ${describe(got)}`);

/** v, checked to be a positive integer (BAD_ARGUMENT naming it `name` otherwise). */
export function positiveInteger(name: string, v: unknown): number {
  if (!isCount(v, 1)) throw mustBe(name, 'a positive integer', v);
  return v;
}

/** BAD_ARGUMENT `message (what was thrown)`, with the thrown value as its cause. */
export const thrownError = (message: string, e: unknown): AttentionError =>
  Object.assign(badArgument(`${message} (${e instanceof Error ? `${e.name}: ${e.message}` : describe(e)})`), {
    cause: e,
  });

/** Runs a read of user data; whatever it throws becomes BAD_ARGUMENT naming what was read. */
function reading<T>(what: string, read: () => T): T {
  try {
    return outside(read);
  } catch (e) {
    if (e instanceof AttentionError) throw e;
    throw thrownError(`reading ${what} threw`, e);
  }
}

/** obj[key] if it is obj's own property (its getter, if any, called once); undefined otherwise. */
function own(what: string, obj: object, key: string | number): unknown {
  return reading(what, () => {
    const d = Reflect.getOwnPropertyDescriptor(obj, key);
    if (d === undefined) return undefined;
    return Object.hasOwn(d, 'value') ? d.value : d.get?.call(obj);
  });
}

export const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null;

/** A shape read once: an array of at most MAX_RANK integers in [0, MAX_DIM], copied. */
export function readShape(name: string, v: unknown): readonly number[] {
  const isArray = reading(name, () => Array.isArray(v));
  if (!isArray) throw mustBe(name, 'an array', v);
  const rank = own(`${name}.length`, v as object, 'length') as number;
  if (rank > MAX_RANK) throw badArgument(`${name} has ${rank} dimensions, past ${MAX_RANK}`);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) {
    const d = own(`${name}[${i}]`, v as object, i);
    if (!isCount(d)) throw mustBe(`${name}[${i}]`, 'a non-negative integer', d);
    if (d > MAX_DIM) throw badArgument(`${name}[${i}] is ${d}, past 2^31 − 1`);
    dims.push(d);
  }
  return dims;
}

export const shapeSize = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1);

/** An argument as read at the entry: its data (a view that cannot grow), its shape and element count. */
export interface Snapshot<T extends Float32Array | Uint8Array = Float32Array> {
  /** The argument's name in messages: 'q', 'options.mask', "state dict 'W_q.weight'". */
  readonly name: string;
  readonly data: T;
  readonly shape: readonly number[];
  readonly size: number;
}

export type MaskSnapshot = Snapshot<Float32Array> | Snapshot<Uint8Array>;

/**
 * A new view of the memory `data` views now: of this realm's Float32Array or Uint8Array (no subclass method
 * or species runs later) and of fixed length (a resizable or growable buffer cannot lengthen it).
 */
function plainView(data: Float32Array | Uint8Array): Float32Array | Uint8Array {
  const Ctor = typedArrayName(data) === 'Uint8Array' ? Uint8Array : Float32Array;
  const n = typedArrayLength(data);
  // A detached buffer cannot be viewed again; it has no elements either.
  return n === 0 ? new Ctor(0) : new Ctor(bufferOf.call(data) as ArrayBuffer, byteOffsetOf.call(data) as number, n);
}

function readArray(
  name: string,
  v: unknown,
  kinds: readonly string[],
  expected: string,
  minRank: number,
): MaskSnapshot {
  const data = isObject(v) ? own(`${name}.data`, v, 'data') : undefined;
  const kind = typedArrayName(data);
  if (!isObject(v) || !kind || !kinds.includes(kind)) {
    const got = data === undefined ? describe(v) : `data ${describe(data)}`;
    throw badArgument(`${name} must be ${expected}, got ${got}`);
  }
  const shape = readShape(`${name}.shape`, own(`${name}.shape`, v, 'shape'));
  const view = plainView(data as Float32Array | Uint8Array);
  const size = shapeSize(shape);
  const length = typedArrayLength(view);
  if (length !== size)
    throw shapeMismatch(`${name}.data has ${length} elements but shape ${formatShape(shape)} needs ${size}`);
  if (shape.length < minRank)
    throw shapeMismatch(`${name} must have at least ${minRank} dimensions, got shape ${formatShape(shape)}`);
  return { name, data: view, shape, size } as MaskSnapshot;
}

export const formatShape = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** A float32 tensor of rank ≥ minRank, read once. */
export function readTensor(name: string, v: unknown, minRank = 0): Snapshot {
  return readArray(name, v, ['Float32Array'], 'a Tensor { data: Float32Array, shape }', minRank) as Snapshot;
}

/** A mask: float32 data (added to the scores) or Uint8Array data (a boolean mask), read once. */
export function readMask(name: string, v: unknown): MaskSnapshot {
  return readArray(name, v, ['Float32Array', 'Uint8Array'], 'a Tensor with Float32Array or Uint8Array data', 0);
}

/** State dicts this module has read: reading one again returns it as it is. */
const readStateDicts = new WeakSet<object>();

/** A state dict read once: its own keys, each value a float32 tensor. */
export function readStateDict(name: string, v: unknown): ReadonlyMap<string, Snapshot> {
  if (isObject(v) && readStateDicts.has(v)) return v as ReadonlyMap<string, Snapshot>;
  if (!isObject(v) || reading(name, () => Array.isArray(v))) throw mustBe(name, 'a state dict object', v);
  const out = new Map<string, Snapshot>();
  for (const key of reading(`${name} keys`, () => Reflect.ownKeys(v))) {
    if (typeof key === 'string') out.set(key, readTensor(`${name} '${key}'`, own(`${name} '${key}'`, v, key)));
  }
  readStateDicts.add(out);
  return out;
}

/** Other names for options, by camelCase: PyTorch's keywords, and the other API's name for the same thing. */
const SYNONYMS: Readonly<Record<string, string>> = {
  isCausal: 'causal',
  attnMask: 'mask',
  mask: 'attnMask',
  needWeights: 'returnWeights',
  returnWeights: 'needWeights',
  averageAttnWeights: 'averageWeights',
};

/** What an unknown key probably meant: its camelCase, or a synonym. */
function suggestion(key: string, accepted: readonly string[]): string {
  const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  const near = [camel, Object.hasOwn(SYNONYMS, camel) && SYNONYMS[camel]].find((n) => accepted.includes(n as string));
  if (!near) return '';
  // The two mask options read Uint8Array data in opposite ways: say so where one is taken for the other.
  const note =
    /mask/i.test(key) && near !== camel ? '; a Uint8Array mask keeps where 1, an attnMask hides where 1' : '';
  return ` (did you mean '${near}'?${note})`;
}

/**
 * An options object read once: own string keys only (never the prototype chain), each one accepted, each value
 * read once. Returns a frozen record without a prototype.
 */
export function readOptions(name: string, v: unknown, accepted: readonly string[]): Readonly<Record<string, unknown>> {
  const out = Object.create(null) as Record<string, unknown>;
  if (v === undefined) return out;
  if (!isObject(v) || reading(name, () => Array.isArray(v))) throw mustBe(name, 'an options object', v);
  for (const key of reading(`${name} keys`, () => Reflect.ownKeys(v))) {
    if (typeof key !== 'string') continue;
    if (!accepted.includes(key)) {
      throw badArgument(
        `${name} has an unknown key '${key}'${suggestion(key, accepted)}; accepted: ${accepted.join(', ')}`,
      );
    }
    out[key] = own(`${name}.${key}`, v, key);
  }
  return out;
}
