// Shared test plumbing: the build under test, seeded random tensors, closeness checks, scripts in a new process.
import { execFileSync } from 'node:child_process';
import { expect } from 'vitest';
import { AttentionError, type Build, createEngine, type Engine, init } from '../src/index.js';
import { runtimeOf } from '../src/runtime/engine.js';
import { mulberry32, normal } from '../src/modules/random.js';
import type { Tensor } from '../src/ops/tensor.js';

/** The build this test project runs (vitest.config.ts sets it per project). */
export const BUILD = (process.env.WASM_ATTENTION_BUILD ?? 'simd') as Build;

/** Node's flags for the build under test (Node 20 validates relaxed SIMD only behind one). */
export const nodeFlags = (): string[] => (BUILD === 'relaxed-simd' ? ['--experimental-wasm-relaxed-simd'] : []);

/**
 * Runs an ES module script, in which LIB is the built package's main entry, in a new Node process on the build
 * under test; returns its output (a process that does not exit on its own fails by the timeout).
 */
export function runScript(script: string, timeout = 20_000): string {
  const lib = JSON.stringify(new URL('../dist/index.js', import.meta.url).href);
  return execFileSync(process.execPath, [...nodeFlags(), '--input-type=module', '-e', script.replaceAll('LIB', lib)], {
    encoding: 'utf8',
    timeout,
  });
}

/** Bytes of an engine's linear memory held now: resident weights and caches, and a call's scratch. */
export const usedBytes = (engine: Engine): number => runtimeOf(engine).heap.usedBytes;

/**
 * An engine of `threads` threads on the build under test that shares calls from 2^16 multiply-adds on, whether its
 * helpers are awake or asleep and whatever sharing has lately gained (the engine's own rules keep calls of the tests'
 * sizes on one thread, or may).
 */
export async function sharingEngine(threads: number): Promise<Engine> {
  const engine = await createEngine({ build: BUILD, threads });
  const pool = runtimeOf(engine).pool!;
  pool.minSplitMadds = 2 ** 16;
  pool.shareAsleepMadds = 0;
  pool.learns = false;
  return engine;
}

/** Initialises the engine on the build under test and checks that it really is that build. */
export async function initBuild(): Promise<Engine> {
  const engine = await init({ build: BUILD });
  expect(engine.info.build).toBe(BUILD);
  return engine;
}

/** A reproducible random tensor with entries from N(0, scale²). */
export function randomTensor(seed: number, shape: readonly number[], scale = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = normal(mulberry32(seed), n);
  if (scale !== 1) for (let i = 0; i < n; i++) data[i] *= scale;
  return { data, shape: [...shape] };
}

export interface Closeness {
  maxAbs: number;
  worstIndex: number;
}

/**
 * The bar for attention results against the float64 reference or PyTorch's: |got − want| ≤ ATOL + RTOL·|want|. The
 * errors seen are below 1e-6 (float32 sums of up to a few thousand terms); a bug that moves a result by 1e-5 fails.
 */
export const ATOL = 2e-6;
export const RTOL = 1e-5;

/**
 * Checks |got − want| ≤ atol + rtol·|want| elementwise (with `bound[i]` in place of |want| when given),
 * non-finite values equal exactly; returns the largest absolute difference over finite entries.
 */
export function expectClose(
  label: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  atol: number,
  rtol: number,
  bound?: ArrayLike<number>,
): Closeness {
  expect(got.length, `${label}: length`).toBe(want.length);
  let maxAbs = 0;
  let worstIndex = -1;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (!Number.isFinite(w)) {
      if (!Object.is(g, w) && !(Number.isNaN(g) && Number.isNaN(w))) {
        expect.fail(`${label}[${i}]: expected ${w}, got ${g}`);
      }
      continue;
    }
    const d = Math.abs(g - w);
    const tol = atol + rtol * (bound ? bound[i] : Math.abs(w));
    if (!(d <= tol))
      expect.fail(
        `${label}[${i}]: got ${g}, expected ${w} (|diff| ${d.toExponential(3)} > tolerance ${tol.toExponential(3)})`,
      );
    if (d > maxAbs) {
      maxAbs = d;
      worstIndex = i;
    }
  }
  return { maxAbs, worstIndex };
}

/** Elementwise |x| of a tensor's data, as float64. */
export function absData(t: { data: ArrayLike<number>; shape: readonly number[] }) {
  return { data: Float64Array.from(t.data, Math.abs), shape: [...t.shape] };
}

/** The edge sizes every kernel is swept over: around the 4-lane vector, the 4×8 tile and powers of two. */
export const EDGE_SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 64, 65, 127, 128, 129] as const;

/** Unit roundoff of float32. */
export const F32_EPS = 2 ** -24;

/** Asserts that fn throws an AttentionError with this code and a message matching pattern. */
export function expectAttentionError(fn: () => unknown, code: string, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AttentionError);
    expect((e as AttentionError).code).toBe(code);
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  expect.fail('expected an AttentionError');
}
