// What both pools do with a call's kernels: the heavy ones (attention, GEMM) cut into jobs of work units shared by
// threads where that is worth it, every kernel that writes memory recorded in an async call. The shared-memory pool
// (src/runtime/threads/worker-pool.ts) runs jobs on threads over one memory; the replicas' pool
// (src/runtime/threads/replica-pool.ts) runs async calls' jobs on Workers with memories of their own.
import type { AttentionError } from '../errors.js';
import { DESC_FIELDS } from '../kernels.js';
import type { Heap } from '../memory.js';
import { recordingOn, type Recording, type Step } from '../recording.js';
import {
  cut,
  cutGemmPrepacked,
  JOB,
  type JobKernels,
  MIN_SPLIT_MADDS,
  PANEL_COLUMNS,
  type Pool,
  SHARE_ASLEEP_MADDS,
  type SplitKernels,
} from './thread-jobs.js';

/** Exports that only compute a number (sizes, the build, heap_base): never recorded, never waited for. */
export const PURE = /_floats$|^build_relaxed_simd$|^heap_base$/;

/**
 * The entry's AttentionError class: passed in, so that a pool loaded as a chunk of its own (browser-pool.ts) throws
 * the errors callers test with `instanceof`.
 */
export type Errors = typeof AttentionError;

/**
 * Closes a pool when the kernels it made for an engine are garbage-collected: only the engine's runtime and its
 * modules hold them (an async call holds its engine until it is done), so a forgotten engine does not keep its
 * threads and their memory.
 */
const forgotten =
  typeof FinalizationRegistry === 'undefined' ? undefined : new FinalizationRegistry<Pool>((pool) => pool.close());

export abstract class SplitPool implements Pool {
  workerUnits = 0;
  minSplitMadds = MIN_SPLIT_MADDS;
  shareAsleepMadds = SHARE_ASLEEP_MADDS;
  learns = true;
  abstract readonly threading: Pool['threading'];
  abstract readonly size: number;
  abstract readonly alive: number;
  abstract resize(threads: number): void;
  abstract close(): void;
  abstract submit(steps: readonly Step[], rec?: Recording): Promise<void>;

  /** The kernels of the instance the engine computes with now (WorkerPool moves it to a shared memory). */
  protected direct!: SplitKernels;

  constructor(readonly errors: Errors) {}

  /** Whether a sync call's job of `madds` multiply-adds is shared with the helpers as they are now. */
  protected helpersReady(_madds: number): boolean {
    return true;
  }

  /** Runs a sync call's job of `madds`, shared or not as helpersReady just decided (the pool may time it). */
  protected timed(_madds: number, job: () => void): void {
    job();
  }

  /** Threads a job of the call in progress on `heap` is cut for (1: the kernel runs whole). */
  protected abstract threadsFor(heap: Heap): number;
  /** Before a kernel that writes memory runs now, on the calling thread (not recorded). */
  protected abstract beforeRun(name: string, args: readonly number[], heap: Heap): void;
  /** Runs a job now, shared by the calling thread and the pool's threads. */
  protected abstract run(
    kernels: JobKernels,
    kind: number,
    args: readonly number[],
    total: number,
    chunk: number,
    scratch: number,
    stride: number,
  ): void;

  kernels<K extends SplitKernels>(direct: K, heap: Heap): K {
    this.direct = direct;
    /** Export `name` of the instance in use when called. */
    const now = (name: string) => (this.direct as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
    // The new arrays a recorded call's results will be copied into: their pages are touched while it runs.
    const readF32 = heap.readF32;
    heap.readF32 = (ptr, length) => {
      const out = readF32.call(heap, ptr, length);
      recordingOn(heap)?.results.push(out);
      return out;
    };
    /** An attention kernel's descriptor as it is now (see Step). */
    const descAt = (ptr: number): [number, Int32Array] => [
      ptr,
      new Int32Array(heap.f32().buffer, ptr, DESC_FIELDS).slice(),
    ];
    // Every kernel that writes memory: recorded in a recorded call, else run after the recorded calls before it.
    const raw = { ...direct };
    for (const [name, fn] of Object.entries(direct)) {
      if (typeof fn !== 'function') continue;
      if (PURE.test(name)) {
        (raw as Record<string, unknown>)[name] = (...args: unknown[]) => now(name)(...args);
        continue;
      }
      (raw as Record<string, unknown>)[name] = (...args: unknown[]) => {
        const rec = recordingOn(heap);
        if (rec)
          rec.steps.push({
            kernel: name,
            args: args.map(Number),
            desc: name.startsWith('f32_attention') ? descAt(args[0] as number) : undefined,
          });
        else {
          this.beforeRun(name, args.map(Number), heap);
          return now(name)(...args);
        }
      };
    }
    /** Runs a job now on every thread, or records it in a recorded call. */
    const open = (kind: number, args: number[], total: number, chunk: number, scratch: number, stride: number) => {
      const rec = recordingOn(heap);
      if (rec)
        rec.steps.push({
          job: [kind, total, chunk, scratch, stride, this.threadsFor(heap), ...args],
          desc: kind === JOB.attentionFused || kind === JOB.attentionWeights ? descAt(args[0]) : undefined,
        });
      else this.run(this.direct, kind, args, total, chunk, scratch, stride);
    };
    /**
     * Runs `total` units of a job on every thread with `floats` of scratch each, if there are two units or more,
     * the work is worth it and memory allows; else runs `plain`, the kernel on the calling thread alone. `prepare`
     * runs first, with `bytes` of its own that last as long as the job (an operand packed once for every unit; it may
     * complete `args`).
     */
    const share = (
      madds: number,
      floats: number,
      kind: number,
      args: number[],
      total: number,
      chunk: number,
      plain: () => void,
      prepare?: { bytes: number; run(at: number): void },
    ): void => {
      const threads = this.threadsFor(heap);
      if (threads < 2 || total < 2 || madds < this.minSplitMadds) return plain();
      const stride = Math.ceil(floats / 16) * 64;
      const shared = () => {
        try {
          heap.scoped([stride * threads, prepare?.bytes ?? 0], ([scratch, own]) => {
            prepare?.run(own);
            open(kind, args, total, chunk, scratch, stride);
          });
        } catch (e) {
          // Without memory for every thread's scratch the call runs on the caller alone, as without threads.
          if (e instanceof this.errors && e.code === 'OUT_OF_MEMORY') return plain();
          throw e;
        }
      };
      if (recordingOn(heap)) return shared();
      this.timed(madds, this.helpersReady(madds) ? shared : plain);
    };
    /**
     * op(B) (n × k, or k × n) and bias packed at `at` by every thread, a share of the panels each (a job of its own:
     * the units of the job after it all read every panel).
     */
    const packB = (n: number, k: number, b: number, ldb: number, bTransposed: boolean, bias: number, at: number) => {
      const { unitRows: cols, units } = cut('pack', 1, n, this.threadsFor(heap), PANEL_COLUMNS);
      if (units < 2) raw.f32_gemm_pack(n, k, b, ldb, bTransposed, bias, at);
      else open(JOB.pack, [n, k, b, ldb, bTransposed ? 1 : 0, bias, at, cols], units, 1, 0, 0);
    };
    /**
     * Shares C = A·op(B) + bias as a prepacked GEMM job (see share; else runs `plain`), op(B) and bias packed at
     * `packed`, or by `pack` first into bytes of the job's own.
     */
    const sharePrepacked = (
      batch: number,
      m: number,
      n: number,
      k: number,
      a: number,
      lda: number,
      strideA: number,
      packed: number,
      c: number,
      ldc: number,
      strideC: number,
      plain: () => void,
      pack?: { bytes: number; run(at: number): void },
    ): void => {
      const { rows, cols, units } = cutGemmPrepacked(m, n, this.threadsFor(heap));
      const args = [batch, m, n, k, a, lda, strideA, packed, c, ldc, strideC, rows, cols];
      const prepare = pack && {
        bytes: pack.bytes,
        run: (at: number) => {
          pack.run(at);
          args[7] = at;
        },
      };
      const floats = raw.f32_gemm_prepacked_scratch_floats(rows, k);
      share(batch * m * n * k, floats, JOB.gemmPrepacked, args, units, 1, plain, prepare);
    };
    /**
     * Units of one item claimed apart would each pack its K again: the fused kernel takes K packed once, before the
     * job, through the descriptor's packedK (field 32). An item that is one unit packs its own, on its thread.
     */
    const packK = (d: Int32Array, count: number, lk: number, dk: number) => {
      const [k, ldk, strideK] = [d[9] >>> 0, d[10], d[11]];
      const items = strideK ? count : 1;
      const panels = raw.f32_gemm_packed_floats(lk, dk);
      return {
        bytes: items * panels * 4,
        run: (at: number) => {
          for (let b = 0; b < items; b++)
            raw.f32_gemm_pack(lk, dk, k + b * strideK * 4, ldk, true, 0, at + b * panels * 4);
          d[32] = at;
        },
      };
    };
    const attention =
      (kind: number, plain: (desc: number, begin: number, end: number, scratch: number) => void) =>
      (desc: number, begin: number, end: number, scratch: number) => {
        const threads = this.threadsFor(heap);
        if (threads < 2) return plain(desc, begin, end, scratch);
        // The AttentionDesc's fields: batch, lq, lk, dk, dv, unitRows, …, k (9), ldk, strideK, …, packedK (32).
        const d = new Int32Array(heap.f32().buffer, desc, DESC_FIELDS);
        const [count, lq, lk, dk, dv] = d;
        const { unitRows: rows, units, chunk } = cut('attention', count, lq, threads);
        const floats =
          kind === JOB.attentionFused
            ? raw.f32_attention_fused_scratch_floats(rows, lk, dk, lq)
            : raw.f32_attention_weights_scratch_floats(rows, lk, dk, dv);
        const whole = d[5];
        if (begin !== 0 || end !== count * Math.ceil(lq / whole)) return plain(desc, begin, end, scratch);
        d[5] = rows;
        share(
          count * lq * lk * (dk + dv),
          floats,
          kind,
          [desc],
          units,
          chunk,
          () => {
            d[5] = whole;
            plain(desc, begin, end, scratch);
          },
          kind === JOB.attentionFused && chunk === 1 && lq > rows ? packK(d, count, lk, dk) : undefined,
        );
      };
    const split: Omit<JobKernels, 'f32_gemm_pack'> = {
      f32_attention_fused: attention(JOB.attentionFused, raw.f32_attention_fused),
      f32_attention_weights: attention(JOB.attentionWeights, raw.f32_attention_weights),
      f32_gemm_prepacked: (batch, m, n, k, a, lda, strideA, packed, c, ldc, strideC, alpha, scratch) => {
        const plain = () =>
          raw.f32_gemm_prepacked(batch, m, n, k, a, lda, strideA, packed, c, ldc, strideC, alpha, scratch);
        if (this.threadsFor(heap) < 2 || alpha !== 1) return plain();
        sharePrepacked(batch, m, n, k, a, lda, strideA, packed, c, ldc, strideC, plain);
      },
      f32_gemm: (...call) => {
        const [batch, m, n, k, a, lda, strideA, b, ldb, strideB, bTransposed, c, ldc, strideC, alpha, bias] = call;
        const threads = this.threadsFor(heap);
        const plain = () => raw.f32_gemm(...call);
        if (threads < 2 || alpha !== 1) return plain();
        if (this.threading === 'shared-memory' && (batch === 1 || strideB === 0)) {
          // Over one memory, op(B) is packed once, by every thread, and the product runs as a prepacked GEMM: units
          // as small as a resident weight's, none packing B again.
          const pack = {
            bytes: raw.f32_gemm_packed_floats(n, k) * 4,
            run: (at: number) => packB(n, k, b, ldb, bTransposed, bias, at),
          };
          return sharePrepacked(batch, m, n, k, a, lda, strideA, 0, c, ldc, strideC, plain, pack);
        }
        // Memories of their own (replicas): one unit per thread, each packing all of B, so that B is not sent around.
        const { unitRows: rows, units } = cut('gemm', 1, m, threads);
        const args = [
          batch,
          m,
          n,
          k,
          a,
          lda,
          strideA,
          b,
          ldb,
          strideB,
          bTransposed ? 1 : 0,
          c,
          ldc,
          strideC,
          bias,
          rows,
        ];
        share(batch * m * n * k, raw.f32_gemm_scratch_floats(rows, n, k), JOB.gemm, args, units, 1, plain);
      },
    };
    // The memory they compute on now, not the one the engine started with.
    const kernels = Object.defineProperty({ ...raw, ...split }, 'memory', {
      get: () => (this.direct as unknown as { memory: WebAssembly.Memory }).memory,
      enumerable: true,
    });
    forgotten?.register(kernels, this);
    return kernels;
  }
}
