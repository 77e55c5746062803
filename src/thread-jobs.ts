// One job shared by threads over one shared memory: the control block's layout, and what a thread does with the
// work units it claims. The same code runs on the calling thread and in every worker (src/thread-worker.ts).
// Units are claimed a chunk at a time from a shared counter, so threads that are slow to start, or that never
// start, only change who computes what; every unit is computed the same way by whoever claims it.

import type { Kernels } from './kernels.js';
import type { Heap } from './memory.js';

/** Slots of the control block (an Int32Array over a SharedArrayBuffer). */
export const SLOT = {
  /** Even while a job is open to workers, odd while closed. */
  epoch: 0,
  /** The next unit to claim. */
  next: 1,
  total: 2,
  /** Units finished. */
  done: 3,
  /** Threads inside the job now (a closed job's memory is released only when none is). */
  inFlight: 4,
  /** Set by a thread whose work failed: nobody claims more, the call throws WORKER_FAILED. */
  failed: 5,
  /** Threads the job has scratch for: the caller is thread 0, workers 1 … threads − 1. */
  threads: 6,
  /** Thread i's scratch: scratch + i · scratchStride bytes. */
  scratch: 7,
  scratchStride: 8,
  /** Units per claim. */
  chunk: 9,
  kind: 10,
  /** The job's arguments (JOB_ARGS of them). */
  args: 11,
} as const;

export const JOB_ARGS = 16;
export const CONTROL_SLOTS = SLOT.args + JOB_ARGS;

/** Threads sharing one memory: the calling thread and `size − 1` workers. */
export interface Pool {
  /** Threads the pool has: the caller and every worker slot. */
  readonly size: number;
  /** Threads that compute now: the caller and the workers alive. */
  readonly alive: number;
  /** Work units computed by workers so far (what shows that calls are shared; tests and benchmarks read it). */
  readonly workerUnits: number;
  /** Starts or ends workers so that `threads` threads compute (the caller included). */
  resize(threads: number): void;
  /**
   * The kernels with the four that do the heavy work (both attention kernels and both GEMMs) made to share each
   * call between the threads when it is worth it; same arguments, same results bit for bit.
   */
  kernels<K extends SplitKernels>(raw: K, heap: Heap): K;
  /** Ends every worker. */
  close(): void;
}

/** Work with fewer multiply-adds than this runs on the calling thread alone: waking workers would cost more. */
export const MIN_SPLIT_MADDS = 2 ** 20;

/** Jobs: which kernel the units go to. */
export const JOB = { attentionFused: 0, attentionWeights: 1, gemmPrepacked: 2, gemm: 3 } as const;

/** The kernels a job calls (the wasm exports, raw or through the loader), typed as asc declares them. */
export type JobKernels = Pick<Kernels, 'f32_attention_fused' | 'f32_attention_weights' | 'f32_gemm_prepacked' | 'f32_gemm'>;

/** The kernels a pool shares between threads, and their scratch sizes (floats, for a number of rows). */
export type SplitKernels = JobKernels &
  Pick<Kernels, 'f32_attention_fused_scratch_floats' | 'f32_attention_weights_scratch_floats' | 'f32_gemm_prepacked_scratch_floats' | 'f32_gemm_scratch_floats'>;

/**
 * Units [begin, end) of the job in `ctl`. Attention: units as the AttentionDesc at args[0] cuts them. GEMM: units of
 * args[last] rows (a multiple of MR, so rows fall into the same tiles however they are split) of every item.
 */
export function runUnits(k: JobKernels, ctl: Int32Array, begin: number, end: number, scratch: number): void {
  const a = (i: number) => ctl[SLOT.args + i];
  const p = (i: number) => ctl[SLOT.args + i] >>> 0;
  switch (ctl[SLOT.kind]) {
    case JOB.attentionFused:
      return k.f32_attention_fused(p(0), begin, end, scratch);
    case JOB.attentionWeights:
      return k.f32_attention_weights(p(0), begin, end, scratch);
    case JOB.gemmPrepacked: {
      // batch, m, n, k, a, lda, strideA, packed, c, ldc, strideC, unitRows
      const r0 = begin * a(11);
      const rows = Math.min(a(1), end * a(11)) - r0;
      return k.f32_gemm_prepacked(a(0), rows, a(2), a(3), p(4) + r0 * a(5) * 4, a(5), a(6), p(7), p(8) + r0 * a(9) * 4, a(9), a(10), 1, scratch);
    }
    case JOB.gemm: {
      // batch, m, n, k, a, lda, strideA, b, ldb, strideB, bTransposed, c, ldc, strideC, bias, unitRows
      const r0 = begin * a(15);
      const rows = Math.min(a(1), end * a(15)) - r0;
      return k.f32_gemm(a(0), rows, a(2), a(3), p(4) + r0 * a(5) * 4, a(5), a(6), p(7), a(8), a(9), a(10) !== 0, p(11) + r0 * a(12) * 4, a(12), a(13), 1, p(14), scratch);
    }
  }
  throw new Error(`unknown job ${ctl[SLOT.kind]}`);
}

/**
 * Claims and runs chunks of the open job as thread `index` until none is left or a thread has failed; returns
 * the units it ran.
 */
export function work(k: JobKernels, ctl: Int32Array, index: number): number {
  const scratch = (ctl[SLOT.scratch] >>> 0) + index * ctl[SLOT.scratchStride];
  const total = ctl[SLOT.total];
  const chunk = ctl[SLOT.chunk];
  let ran = 0;
  while (!Atomics.load(ctl, SLOT.failed)) {
    const u = Atomics.add(ctl, SLOT.next, chunk);
    if (u >= total) break;
    const end = Math.min(total, u + chunk);
    runUnits(k, ctl, u, end, scratch);
    ran += end - u;
    Atomics.add(ctl, SLOT.done, end - u);
    Atomics.notify(ctl, SLOT.done);
  }
  return ran;
}
