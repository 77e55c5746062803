// Threads in Node: worker_threads sharing the engine's memory, each with its own instance of the same module,
// taking work units of a job from the control block (src/thread-jobs.ts) while the calling thread takes its
// share and waits for the rest. (The browser entry swaps this file for threads.browser.ts.)
import type { Worker } from 'node:worker_threads';
import { DESC_FIELDS } from './attention.js';
import { AttentionError } from './errors.js';
import type { Heap } from './memory.js';
import { type Step, recordingOn } from './recording.js';
import { closeJob, CONTROL_SLOTS, coordinate, JOB, type JobKernels, MIN_SPLIT_MADDS, type Pool, SLOT, type SplitKernels } from './thread-jobs.js';

/** Exports that only compute a number (sizes, the build, heap_base): never recorded, never waited for. */
const PURE = /_floats$|^build_relaxed_simd$|^heap_base$/;

/** The bundled worker entry: dist/thread-worker.js, beside dist/index.js (and reached the same way from src/). */
const WORKER_URL = new URL('../dist/thread-worker.js', import.meta.url);

/**
 * A Node built-in, loaded when first needed rather than with the package (worker_threads alone costs a few ms of
 * every import, and most engines never start a worker).
 */
const builtin = <T>(id: string): T => (globalThis as unknown as { process: { getBuiltinModule(id: string): T } }).process.getBuiltinModule(id);

/** What `threads: 'auto'` gives: every core, up to MAX_AUTO_THREADS. */
export const MAX_AUTO_THREADS = 8;
export const autoThreads = (): number => Math.min(builtin<typeof import('node:os')>('node:os').availableParallelism(), MAX_AUTO_THREADS);

/** How threads share work here. */
export const THREADING = 'shared-memory';

/** Reads an unsigned LEB128 at `at`; returns the value and the position after it. */
function leb(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  for (let shift = 0; ; shift += 7) {
    const b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, at];
  }
}

/**
 * The module's bytes with its memory import declared shared (limits flag 0x01 → 0x03: the same memory, with a
 * maximum, now shareable between threads); undefined when it has no such import.
 */
export function sharedMemoryModule(bytes: Uint8Array): Uint8Array | undefined {
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at];
    const [size, body] = leb(bytes, at + 1);
    if (id === 2) {
      let [count, p] = leb(bytes, body);
      while (count-- > 0) {
        for (let name = 0; name < 2; name++) {
          const [length, after] = leb(bytes, p);
          p = after + length;
        }
        const kind = bytes[p++];
        if (kind === 2) {
          if (bytes[p] !== 0x01) return undefined;
          const copy = bytes.slice();
          copy[p] = 0x03;
          return copy;
        }
        // Skip the other kinds of import: a function's type index, a table's type and limits, a global's type.
        if (kind === 0) p = leb(bytes, p)[1];
        else if (kind === 1) {
          const flags = bytes[p + 1];
          p = leb(bytes, p + 2)[1];
          if (flags & 1) p = leb(bytes, p)[1];
        } else p += 2;
      }
      return undefined;
    }
    at = body + size;
  }
  return undefined;
}

/**
 * The module made to share its memory, that memory (shared, up to `maximumPages`), and a pool to run on it (no
 * workers until resized); undefined when the bytes have no memory import to share.
 */
export function threaded(bytes: ArrayBuffer | ArrayBufferView, maximumPages: number): { module: WebAssembly.Module; memory: WebAssembly.Memory; pool: Pool } | undefined {
  const view = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const patched = sharedMemoryModule(view);
  if (!patched) return undefined;
  const module = new WebAssembly.Module(patched as BufferSource);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: maximumPages, shared: true });
  return { module, memory, pool: new WorkerPool(module, memory) };
}

/** A pool of worker threads over one shared memory. Its workers never keep a Node process alive. */
class WorkerPool implements Pool {
  readonly #ctl = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * 4));
  /** Slot i holds worker i + 1 (undefined once it has died). */
  readonly #workers: Array<Worker | undefined> = [];
  /** The thread that runs recorded calls (started by the first one). */
  #driver: Worker | undefined;
  /** Recorded calls sent to the driver, and those not yet settled (by id). */
  #submitted = 0;
  readonly #pending = new Map<number, { resolve: () => void; reject: (e: unknown) => void; units: number }>();
  workerUnits = 0;

  constructor(
    readonly module: WebAssembly.Module,
    readonly memory: WebAssembly.Memory,
  ) {
    Atomics.store(this.#ctl, SLOT.epoch, 1);
  }

  get size(): number {
    return this.#workers.length + 1;
  }

  get alive(): number {
    return 1 + this.#workers.filter(Boolean).length;
  }

  /** Starts or ends workers so that `threads` threads compute (the caller included). */
  resize(threads: number): void {
    while (this.#workers.length < threads - 1) this.#spawn(this.#workers.length);
    while (this.#workers.length > threads - 1) this.#workers.pop()?.terminate();
  }

  #start(role: 'helper' | 'driver', index: number): Worker {
    // No execArgv: a parent started with -e (or other script flags) would run them again in the worker; the V8 flags
    // the module needs (relaxed SIMD on Node 20) are process-wide anyway.
    const { Worker } = builtin<typeof import('node:worker_threads')>('node:worker_threads');
    const worker = new Worker(WORKER_URL, { workerData: { role, module: this.module, memory: this.memory, control: this.#ctl.buffer, index }, execArgv: [] });
    worker.unref();
    return worker;
  }

  #spawn(slot: number): void {
    const worker = this.#start('helper', slot + 1);
    // A worker that dies leaves its slot empty: its units go to the others (claims are shared), and the pool
    // reports one thread fewer.
    const gone = () => {
      if (this.#workers[slot] === worker) this.#workers[slot] = undefined;
    };
    worker.on('error', gone);
    worker.on('exit', gone);
    this.#workers[slot] = worker;
  }

  /** The driver, started when first needed; while calls are pending it keeps the process alive, as any pending I/O does. */
  #driverThread(): Worker {
    if (this.#driver) return this.#driver;
    const driver = this.#start('driver', 0);
    driver.on('message', ({ id, error }: { id: number; error?: string }) => {
      const call = this.#pending.get(id);
      if (!call) return;
      this.#settled(id);
      if (error === undefined) {
        this.workerUnits += call.units;
        call.resolve();
      } else call.reject(failed(error));
    });
    const gone = (e?: unknown) => {
      if (this.#driver !== driver) return;
      this.#driver = undefined;
      // It may have died inside a job: close it, so helpers leave it, before any call's memory is released.
      closeJob(this.#ctl);
      Atomics.store(this.#ctl, SLOT.stepsRun, this.#submitted);
      const why = e instanceof Error ? e.message : 'the thread running async calls ended';
      for (const [id, call] of [...this.#pending]) {
        this.#settled(id);
        call.reject(failed(why));
      }
    };
    driver.on('error', gone);
    driver.on('exit', () => gone());
    this.#driver = driver;
    return driver;
  }

  /** The driver thread, if started (tests end it to see pending calls fail). */
  get driver(): Worker | undefined {
    return this.#driver;
  }

  #settled(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#driver?.unref();
  }

  submit(steps: readonly Step[]): Promise<void> {
    const driver = this.#driverThread();
    const id = ++this.#submitted;
    const units = steps.reduce((n, s) => n + ('job' in s ? s.job[1] : 0), 0);
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, units });
      driver.ref();
      driver.postMessage({ id, steps });
    });
  }

  /** Waits until every recorded call submitted so far has run: a sync call may read what they write. */
  #drain(): void {
    const ctl = this.#ctl;
    for (let d; (d = Atomics.load(ctl, SLOT.stepsRun)) < this.#submitted; ) Atomics.wait(ctl, SLOT.stepsRun, d);
  }

  kernels<K extends SplitKernels>(direct: K, heap: Heap): K {
    /** An attention kernel's descriptor as it is now (see Step). */
    const descAt = (ptr: number): [number, Int32Array] => [ptr, new Int32Array(heap.f32().buffer, ptr, DESC_FIELDS).slice()];
    // Every kernel that writes memory: recorded in a recorded call, else run after the recorded calls before it.
    const raw = { ...direct };
    for (const [name, fn] of Object.entries(direct)) {
      if (typeof fn !== 'function' || PURE.test(name)) continue;
      (raw as Record<string, unknown>)[name] = (...args: unknown[]) => {
        const rec = recordingOn(heap);
        if (rec) rec.steps.push({ kernel: name, args: args.map(Number), desc: name.startsWith('f32_attention') ? descAt(args[0] as number) : undefined });
        else {
          this.#drain();
          return (fn as (...a: unknown[]) => unknown)(...args);
        }
      };
    }
    /** Rows per unit for `rows` rows: about 1 / (per · threads) of them, a multiple of MR = 4 (bit-identical splits). */
    const unitRows = (rows: number, per: number) => Math.ceil(rows / (per * this.size) / 4) * 4;
    /**
     * Runs `total` units of a job on every thread with `floats` of scratch each, if there are two units or more,
     * the work is worth it and memory allows; else returns false.
     */
    const share = (madds: number, floats: number, kind: number, args: number[], total: number, chunk: number): boolean => {
      if (this.size < 2 || total < 2 || madds < MIN_SPLIT_MADDS) return false;
      const stride = Math.ceil(floats / 16) * 64;
      try {
        heap.scoped([stride * this.size], ([scratch]) => {
          const rec = recordingOn(heap);
          if (rec) rec.steps.push({ job: [kind, total, chunk, scratch, stride, this.size, ...args], desc: kind === JOB.attentionFused || kind === JOB.attentionWeights ? descAt(args[0]) : undefined });
          else this.run(direct, kind, args, total, chunk, scratch, stride);
        });
      } catch (e) {
        // Without memory for every thread's scratch the call runs on the caller alone, as it would without threads.
        if (e instanceof AttentionError && e.code === 'OUT_OF_MEMORY') return false;
        throw e;
      }
      return true;
    };
    const attention = (kind: number, plain: (desc: number, begin: number, end: number, scratch: number) => void) => (desc: number, begin: number, end: number, scratch: number) => {
      if (this.size < 2) return plain(desc, begin, end, scratch);
      // The AttentionDesc's first fields: batch, lq, lk, dk, dv, unitRows.
      const d = new Int32Array(heap.f32().buffer, desc, 6);
      const [count, lq, lk, dk, dv] = d;
      const rows = unitRows(lq, 8);
      const units = count * Math.ceil(lq / rows);
      const floats = kind === JOB.attentionFused ? raw.f32_attention_fused_scratch_floats(rows, lk, dk) : raw.f32_attention_weights_scratch_floats(rows, lk, dk, dv);
      const whole = d[5];
      d[5] = rows;
      // Whole items per claim where there are plenty of them (K packed once per item), else single units.
      if (begin === 0 && end === count * Math.ceil(lq / whole) && share(count * lq * lk * (dk + dv), floats, kind, [desc], units, count >= 4 * this.size ? units / count : 1)) return;
      d[5] = whole;
      plain(desc, begin, end, scratch);
    };
    const split: JobKernels = {
      f32_attention_fused: attention(JOB.attentionFused, raw.f32_attention_fused),
      f32_attention_weights: attention(JOB.attentionWeights, raw.f32_attention_weights),
      f32_gemm_prepacked: (batch, m, n, k, a, lda, strideA, packed, c, ldc, strideC, alpha, scratch) => {
        const rows = unitRows(m, 4);
        if (this.size < 2 || alpha !== 1 || !share(batch * m * n * k, raw.f32_gemm_prepacked_scratch_floats(rows, k), JOB.gemmPrepacked, [batch, m, n, k, a, lda, strideA, packed, c, ldc, strideC, rows], Math.ceil(m / rows), 1)) {
          raw.f32_gemm_prepacked(batch, m, n, k, a, lda, strideA, packed, c, ldc, strideC, alpha, scratch);
        }
      },
      f32_gemm: (batch, m, n, k, a, lda, strideA, b, ldb, strideB, bTransposed, c, ldc, strideC, alpha, bias, scratch) => {
        // One unit per thread: each call packs all of B, so fewer calls pack it fewer times.
        const rows = unitRows(m, 1);
        const args = [batch, m, n, k, a, lda, strideA, b, ldb, strideB, bTransposed ? 1 : 0, c, ldc, strideC, bias, rows];
        if (this.size < 2 || alpha !== 1 || !share(batch * m * n * k, raw.f32_gemm_scratch_floats(rows, n, k), JOB.gemm, args, Math.ceil(m / rows), 1)) {
          raw.f32_gemm(batch, m, n, k, a, lda, strideA, b, ldb, strideB, bTransposed, c, ldc, strideC, alpha, bias, scratch);
        }
      },
    };
    return { ...raw, ...split };
  }

  /**
   * Runs a job of `total` units on every thread, the caller included, after the recorded calls before it (see
   * coordinate()). Thread i uses scratch + i · stride.
   */
  run(kernels: JobKernels, kind: number, args: readonly number[], total: number, chunk: number, scratch: number, stride: number): void {
    this.#drain();
    try {
      this.workerUnits += total - coordinate(kernels, this.#ctl, [kind, total, chunk, scratch, stride, this.#workers.length + 1, ...args]);
    } catch (e) {
      throw Object.assign(failed((e as Error).message), { cause: (e as Error).cause });
    }
  }

  /** Ends every worker and the driver (pending async calls reject WORKER_FAILED). */
  close(): void {
    this.resize(1);
    void this.#driver?.terminate();
  }
}

const failed = (why: string) => new AttentionError('WORKER_FAILED', `${why}; the engine goes on`);
