// One job shared by threads over one shared memory: the control block's layout, and what a thread does with the work
// units it claims. The same code runs on the calling thread and in every worker (src/runtime/threads/thread-body.ts).
// Units are claimed in whole chunks from a shared counter (claimSize), so threads that are slow to start, or that never
// start, only change who computes what; every unit is computed the same way by whoever claims it.

import type { Kernels } from '../kernels.js';
import type { Heap } from '../memory.js';
import type { Step, StepRunner } from '../recording.js';

/** Slots of the control block's ring of result-array lengths asked of the helpers. */
export const ARRAY_RING = 8;

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
  /** Units a claim is a whole number of (see claimSize). */
  chunk: 9,
  kind: 10,
  /** Recorded calls whose steps have run (or failed): sync calls wait for every one submitted before them. */
  stepsRun: 11,
  /** Recorded calls that failed, or that followed one that failed before the caller had heard of it. */
  stepsFailed: 12,
  /** The memory's size in 64 KiB pages as the thread that opened the job sees it: every thread sees as much. */
  pages: 13,
  /** Helpers not blocked in Atomics.wait: working, or spinning for the next job (see waitWhile). */
  awake: 14,
  /** Result arrays asked of the helpers so far, and taken by one (src/runtime/threads/result-arrays.ts). */
  arraysAsked: 15,
  arraysTaken: 16,
  /** Their lengths, a ring of ARRAY_RING slots. */
  arrayLengths: 17,
  /** The job's arguments (JOB_ARGS of them). */
  args: 17 + ARRAY_RING,
} as const;

export const JOB_ARGS = 16;
/** After the arguments: the error of the first helper that failed in the open job, as UTF-16 code units. */
const ERROR_AT = SLOT.args + JOB_ARGS;
const ERROR_SLOTS = 64;
export const CONTROL_SLOTS = ERROR_AT + ERROR_SLOTS;

/** The control block's error text, as UTF-16 code units. */
const errorCodes = (ctl: Int32Array) => new Uint16Array(ctl.buffer, ctl.byteOffset + ERROR_AT * 4, 2 * ERROR_SLOTS);

/** A helper that failed says why, for the caller's WORKER_FAILED (the first 2 · ERROR_SLOTS − 1 characters). */
export function noteFailure(ctl: Int32Array, e: unknown): void {
  if (Atomics.compareExchange(ctl, SLOT.failed, 0, 1) !== 0) return;
  const text = (e instanceof Error ? e.message : String(e)).slice(0, 2 * ERROR_SLOTS - 1);
  const codes = errorCodes(ctl).fill(0);
  for (let i = 0; i < text.length; i++) codes[i] = text.charCodeAt(i);
  Atomics.store(ctl, SLOT.failed, 2);
}

/** What noteFailure wrote ('' if the job failed otherwise). */
function failure(ctl: Int32Array): string {
  if (Atomics.load(ctl, SLOT.failed) !== 2) return '';
  const codes = errorCodes(ctl);
  const end = codes.indexOf(0);
  return String.fromCharCode(...codes.subarray(0, end < 0 ? codes.length : end));
}

/**
 * Threads sharing one memory: the calling thread and `size − 1` workers, and a driver thread that runs recorded
 * (async) calls with the workers as its helpers.
 */
export interface Pool extends StepRunner {
  /**
   * 'shared-memory': threads over the engine's memory; 'workers': replicas with memories of their own (async calls);
   * 'none' where they could not start.
   */
  readonly threading: 'shared-memory' | 'workers' | 'none';
  /** Threads the pool has: the caller and every worker slot. */
  readonly size: number;
  /** Threads that compute now: the caller and the workers alive. */
  readonly alive: number;
  /** Work units computed by workers so far (what shows that calls are shared; tests and benchmarks read it). */
  readonly workerUnits: number;
  /**
   * Jobs with fewer multiply-adds run on the calling thread alone (MIN_SPLIT_MADDS_SHARED over one shared memory,
   * MIN_SPLIT_MADDS in worker mode; tests lower it to share small calls).
   */
  minSplitMadds: number;
  /**
   * Over one shared memory, a sync call's job under this many multiply-adds may run on the calling thread alone when
   * it finds every helper asleep (SHARE_ASLEEP_MADDS; tests set 0 to share small calls at once). Worker mode has no
   * such helpers.
   */
  shareAsleepMadds: number;
  /**
   * Over one shared memory, whether a sync call's small job runs on the calling thread alone where that has lately
   * been faster for small jobs (src/runtime/threads/split-gains.ts); tests set false so that the sizes alone decide.
   */
  learns: boolean;
  /** Starts or ends workers so that `threads` threads compute (the caller included). */
  resize(threads: number): void;
  /**
   * The kernels with the four that do the heavy work (both attention kernels and both GEMMs) made to share each
   * call between the threads when it is worth it; same arguments, same results bit for bit.
   */
  kernels<K extends SplitKernels>(raw: K, heap: Heap): K;
  /** Ends every worker and the driver. */
  close(): void;
}

/**
 * Worker mode: jobs with fewer multiply-adds run whole on every replica rather than shared, since a share comes with
 * a message of the rows it wrote. (The shared-memory pool's threshold until it shared smaller jobs; worker mode has
 * not been measured below it.)
 */
export const MIN_SPLIT_MADDS = 2 ** 24;

/**
 * Over one shared memory, jobs from this size on are shared, whether the helpers still spin after a job or sleep (a
 * sleeping one, woken, takes the units left when it arrives). Until this rule, a job under 2^24 that found the
 * helpers asleep woke them and ran alone, and a decode step's jobs (half a ms apart) always found them so: a
 * grouped-query step (768 wide, 4 kv heads, 1024 cached) ran 0.87× one thread then. Sharing every job from 2^20 on
 * made it 1.15×, and from 2^19 on (one token's 768 → 768 projections too, 0.56·2^20 each) 1.39×; with 12 kv heads
 * 1.38× both ways (`node --import tsx bench/decode-jobs.ts 768 12 KV 1024 61`).
 */
export const MIN_SPLIT_MADDS_SHARED = 2 ** 19;

/**
 * In Node, over one shared memory: a job under this many multiply-adds that finds every helper asleep, within
 * STREAM_MS of the calling thread's event loop waking from a sleep of LONG_SLEEP_MS or more, runs on the caller alone
 * and leaves them asleep. When the whole machine has idled, Linux mostly wakes a helper on the caller's own CPU, where
 * the two take turns (`node bench/wake-placement.mjs`), and such calls ran slower on 2 threads than on 1 (`node
 * --import tsx bench/split-threshold.ts` compares them with and without this rule). Small jobs that keep coming past
 * STREAM_MS (a loop rather than a burst) wake the helpers and are shared again.
 */
export const SHARE_ASLEEP_MADDS = 2 ** 25;
export const LONG_SLEEP_MS = 10;
export const STREAM_MS = 5;

/** Units per thread each kind of call is cut into (about): more evens out threads that start late or run slow. */
export const UNITS_PER_THREAD = { attention: 16, gemmPrepacked: 4, gemm: 1, pack: 4 } as const;

/**
 * How a call is cut for `threads` threads: `items` independent items (attention's batch × heads; 1 for a GEMM,
 * whose units span its batch) of `rows` rows each, into units of `unitRows` rows (a whole number of `multiple`:
 * 4-row tiles, or a GEMM's packed panels when it is cut by columns, so an element is computed the same way in any
 * cut), claimed in whole numbers of `chunk` (claimSize).
 */
export function cut(
  kind: keyof typeof UNITS_PER_THREAD,
  items: number,
  rows: number,
  threads: number,
  multiple = 4,
): { unitRows: number; units: number; chunk: number } {
  const unitRows = Math.ceil(rows / (UNITS_PER_THREAD[kind] * threads) / multiple) * multiple;
  const perItem = Math.ceil(rows / unitRows);
  // Attention: whole items per claim where there are plenty of them (K is packed once per item and claim).
  return { unitRows, units: items * perItem, chunk: kind === 'attention' && items >= 4 * threads ? perItem : 1 };
}

/** Columns in a packed panel of B (assembly/gemm.ts NR): a GEMM cut by columns is cut between panels. */
export const PANEL_COLUMNS = 8;
/** Bytes of one packed panel of B of depth k (its bias row included: f32_gemm_packed_floats). */
const panelBytes = (k: number) => (k + 1) * PANEL_COLUMNS * 4;

/**
 * Column blocks a prepacked GEMM's row block is cut into. A unit streams only its columns' panels of B, so finer units
 * cost no more of B, only packing their rows of A again; the last units, which one thread finishes while the others
 * wait, are a quarter as long.
 */
const COLUMN_BLOCKS = 4;

/**
 * How a prepacked GEMM of m × n is cut: into blocks of `rows` rows, each cut into COLUMN_BLOCKS blocks of `cols`
 * columns (whole panels), a unit each; where the row blocks are too few for every thread (a decode step's
 * projections), all m rows as one block, in blocks of columns for every thread.
 */
export function cutGemmPrepacked(m: number, n: number, threads: number): { rows: number; cols: number; units: number } {
  const { unitRows, units: rowBlocks } = cut('gemmPrepacked', 1, m, threads);
  if (rowBlocks < threads) {
    const byColumns = cut('gemmPrepacked', 1, n, threads, PANEL_COLUMNS);
    return { rows: m, cols: byColumns.unitRows, units: byColumns.units };
  }
  const cols = Math.ceil(n / COLUMN_BLOCKS / PANEL_COLUMNS) * PANEL_COLUMNS;
  return { rows: unitRows, cols, units: rowBlocks * Math.ceil(n / cols) };
}

/** The units of a prepacked GEMM job's block of rows (its column blocks), from its args as prepackedBlocks has them. */
export function unitsPerRowBlock(arg: (i: number) => number): number {
  return Math.ceil(arg(2) / arg(12));
}

/**
 * The blocks of C that units [begin, end) of a prepacked GEMM job compute, [r0, r1, c0, c1] each (rows [r0, r1),
 * columns [c0, c1)): a run of units within one block of rows is one block, from the job's args (`arg(i)`): batch, m,
 * n, k, a, lda, strideA, packed, c, ldc, strideC, unitRows, unitCols (a whole number of packed panels). Unit u is
 * column block u mod b of row block ⌊u / b⌋, b being the column blocks of a row block.
 */
export function prepackedBlocks(arg: (i: number) => number, begin: number, end: number): number[][] {
  const [m, n, rows, cols] = [arg(1), arg(2), arg(11), arg(12)];
  const perRow = unitsPerRowBlock(arg);
  const out: number[][] = [];
  for (let u = begin; u < end;) {
    const block = Math.floor(u / perRow);
    const last = Math.min(end, (block + 1) * perRow);
    const r0 = block * rows;
    out.push([r0, Math.min(m, r0 + rows), (u - block * perRow) * cols, Math.min(n, (last - block * perRow) * cols)]);
    u = last;
  }
  return out;
}

/**
 * The columns [j0, j1) of op(B) that units [begin, end) of a packing job pack, from its args (`arg(i)`): n, k, b, ldb,
 * bTransposed, bias, packed, unitCols (a whole number of panels), and the bytes of one packed panel.
 */
export function packUnits(arg: (i: number) => number, begin: number, end: number): [number, number, number] {
  return [begin * arg(7), Math.min(arg(0), end * arg(7)), panelBytes(arg(1))];
}

/** Jobs: which kernel the units go to. */
export const JOB = { attentionFused: 0, attentionWeights: 1, gemmPrepacked: 2, gemm: 3, pack: 4 } as const;

/** The kernels a job calls (the wasm exports), typed as asc declares them. */
export type JobKernels = Pick<
  Kernels,
  'f32_attention_fused' | 'f32_attention_weights' | 'f32_gemm_prepacked' | 'f32_gemm' | 'f32_gemm_pack'
>;

/** The kernels a pool shares between threads, and their scratch sizes (floats, for a number of rows). */
export type SplitKernels = JobKernels &
  Pick<
    Kernels,
    | 'f32_attention_fused_scratch_floats'
    | 'f32_attention_weights_scratch_floats'
    | 'f32_gemm_prepacked_scratch_floats'
    | 'f32_gemm_scratch_floats'
    | 'f32_gemm_packed_floats'
  >;

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
      // batch, m, n, k, a, lda, strideA, packed, c, ldc, strideC, … (see prepackedBlocks)
      for (const [r0, r1, c0, c1] of prepackedBlocks(a, begin, end)) {
        k.f32_gemm_prepacked(
          a(0),
          r1 - r0,
          c1 - c0,
          a(3),
          p(4) + r0 * a(5) * 4,
          a(5),
          a(6),
          p(7) + (c0 / PANEL_COLUMNS) * panelBytes(a(3)),
          p(8) + (r0 * a(9) + c0) * 4,
          a(9),
          a(10),
          1,
          scratch,
        );
      }
      return;
    }
    case JOB.pack: {
      // n, k, b, ldb, bTransposed, bias, packed, unitCols (see packUnits)
      const [j0, j1, panel] = packUnits(a, begin, end);
      return k.f32_gemm_pack(
        j1 - j0,
        a(1),
        p(2) + (a(4) ? j0 * a(3) : j0) * 4,
        a(3),
        a(4) !== 0,
        a(5) && p(5) + j0 * 4,
        p(6) + (j0 / PANEL_COLUMNS) * panel,
      );
    }
    case JOB.gemm: {
      // batch, m, n, k, a, lda, strideA, b, ldb, strideB, bTransposed, c, ldc, strideC, bias, unitRows. The scratch
      // holds one unit's rows of A: a unit at a time.
      for (let u = begin; u < end; u++) {
        const r0 = u * a(15);
        k.f32_gemm(
          a(0),
          Math.min(a(1), r0 + a(15)) - r0,
          a(2),
          a(3),
          p(4) + r0 * a(5) * 4,
          a(5),
          a(6),
          p(7),
          a(8),
          a(9),
          a(10) !== 0,
          p(11) + r0 * a(12) * 4,
          a(12),
          a(13),
          1,
          p(14),
          scratch,
        );
      }
      return;
    }
  }
  throw new Error(`unknown job ${ctl[SLOT.kind]}`);
}

/** Whether this thread may block in Atomics.wait (a browser's main thread may not). */
const canBlock = (() => {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
})();

/**
 * How long a thread spins before it blocks: a thread woken from Atomics.wait starts late on this 2-core VM, and the
 * gaps between a loop's jobs (and a job's last units) are mostly shorter than this (chosen with bench/call-phases.ts).
 */
export const SPIN_MS = 0.5;

/**
 * A spin reads the clock once in this many loads (a few µs): Node's performance.now() allocates, and a thread reading
 * it on every load made its isolate collect garbage every few ms of spinning, which made it start jobs late and took
 * the other core's time for the collection's parallel tasks.
 */
const CLOCK_EVERY = 512;

/**
 * Waits while ctl[slot] is `value`: spinning for up to SPIN_MS, then blocking where the thread may, else spinning. A
 * helper (`helper`) counts itself out of SLOT.awake while it blocks. `idle`, called while it spins, does other work
 * and says whether it did (the spin then starts again).
 */
export function waitWhile(ctl: Int32Array, slot: number, value: number, helper = false, idle?: () => boolean): void {
  let until = performance.now() + SPIN_MS;
  // The count wraps: a spin that never blocks (a page's main thread) stays a small integer, which needs no heap.
  for (let turn = 1; Atomics.load(ctl, slot) === value; turn = (turn + 1) % CLOCK_EVERY) {
    if (idle?.()) until = performance.now() + SPIN_MS;
    else if (canBlock && turn === 0 && performance.now() > until) {
      if (helper) Atomics.sub(ctl, SLOT.awake, 1);
      Atomics.wait(ctl, slot, value);
      if (helper) Atomics.add(ctl, SLOT.awake, 1);
      return;
    }
  }
}

/** A job as recorded or run: kind, units, units per claim, scratch, scratch stride, threads, then its arguments. */
export type Job = readonly number[];

/**
 * Makes this thread see at least `bytes` of the shared memory, in its instance's bounds and in `memory.buffer`. V8
 * tells each thread of a growth, and a thread that is busy or waiting when another grows the memory can act on its old
 * view first (rarely: a few times in the threads tests' runs, once in thousands of workers in
 * `node scripts/memory-grow-race.mjs`); its bulk memory operations then trap past the end it saw. Growing by 0 pages
 * makes V8 update this thread's view at once.
 */
export function seeMemory(memory: WebAssembly.Memory, bytes: number): void {
  if (memory.buffer.byteLength >= bytes) return;
  memory.grow(0);
  const seen = memory.buffer.byteLength;
  if (seen < bytes) throw new Error(`this thread sees ${seen} bytes of the shared memory, the call needs ${bytes}`);
}

/**
 * Runs a job on every thread of the pool, the calling thread being thread 0: once the job is open it runs
 * `meanwhile` (which must not throw), then takes units too, then waits until all are done and no worker is inside
 * the job (so its memory can be released). Thread i uses scratch + i · stride. Returns the units the caller ran;
 * throws (with the failing thread's error as cause, if it was the caller's) when a thread failed.
 */
export function coordinate(
  k: JobKernels,
  ctl: Int32Array,
  memory: WebAssembly.Memory,
  job: Job,
  meanwhile?: () => void,
): number {
  const [kind, total, chunk, scratch, stride, threads, ...args] = job;
  ctl.set(args, SLOT.args);
  ctl[SLOT.pages] = memory.buffer.byteLength / 65536;
  ctl[SLOT.kind] = kind;
  ctl[SLOT.total] = total;
  ctl[SLOT.chunk] = chunk;
  ctl[SLOT.scratch] = scratch;
  ctl[SLOT.scratchStride] = stride;
  ctl[SLOT.threads] = threads;
  ctl[SLOT.done] = 0;
  ctl[SLOT.failed] = 0;
  Atomics.store(ctl, SLOT.next, 0);
  Atomics.add(ctl, SLOT.epoch, 1);
  Atomics.notify(ctl, SLOT.epoch);
  meanwhile?.();
  let ran = 0;
  let thrown: unknown;
  try {
    ran = work(k, ctl, 0);
  } catch (e) {
    thrown = e;
    Atomics.store(ctl, SLOT.failed, 1);
  }
  for (let d; (d = Atomics.load(ctl, SLOT.done)) < total && !Atomics.load(ctl, SLOT.failed);)
    waitWhile(ctl, SLOT.done, d);
  closeJob(ctl);
  if (Atomics.load(ctl, SLOT.failed)) {
    const why = thrown instanceof Error ? thrown.message : failure(ctl);
    throw Object.assign(new Error(`a thread failed while computing this call${why ? ` (${why})` : ''}`), {
      cause: thrown,
    });
  }
  return ran;
}

/** Closes the open job, if one is, and waits until no worker is inside it. */
export function closeJob(ctl: Int32Array): void {
  if ((Atomics.load(ctl, SLOT.epoch) & 1) === 0) Atomics.add(ctl, SLOT.epoch, 1);
  for (let n; (n = Atomics.load(ctl, SLOT.inFlight)) > 0;) waitWhile(ctl, SLOT.inFlight, n);
}

/**
 * Plays one recorded step over `memory`: writes its descriptor as recorded, then runs its kernel by export name, or
 * hands a job to `job` (how jobs are shared is the pool's: src/runtime/threads/worker-pool.ts,
 * src/runtime/threads/replica-body.ts).
 */
export function playStep<T>(k: JobKernels, memory: WebAssembly.Memory, s: Step, job: (job: Job) => T): T | undefined {
  if (s.desc) new Int32Array(memory.buffer).set(s.desc[1], s.desc[0] >>> 2);
  if ('job' in s) return job(s.job);
  (k as unknown as Record<string, (...a: number[]) => void>)[s.kernel](...s.args);
  return undefined;
}

/** Runs a recorded call's steps in order, over `memory`: kernels by export name, jobs shared with the workers. */
export function runSteps(k: JobKernels, ctl: Int32Array, memory: WebAssembly.Memory, steps: readonly Step[]): void {
  for (const s of steps) playStep(k, memory, s, (job) => coordinate(k, ctl, memory, job));
}

/** A claim takes at most 1 / (CLAIM_SHARE · threads) of the units left. */
const CLAIM_SHARE = 2;

/**
 * Units a thread claims at once when `left` of a job's units are unclaimed: a share of them, whole chunks, so that the
 * first claims are long and the last ones short (guided scheduling). A kernel given consecutive units runs them as
 * one where it can (the fused kernel's query tiles span them: units of a few rows each read every key block), and the
 * threads still finish within a chunk of each other.
 */
export function claimSize(left: number, chunk: number, threads: number): number {
  return Math.max(chunk, Math.floor(left / (CLAIM_SHARE * threads) / chunk) * chunk);
}

/**
 * Claims and runs units of the open job as thread `index` until none is left or a thread has failed; returns
 * the units it ran. Tests make a helper stop for `stallMs` after each claim, as one does whose core is taken away.
 */
export function work(k: JobKernels, ctl: Int32Array, index: number, stallMs = 0): number {
  const scratch = (ctl[SLOT.scratch] >>> 0) + index * ctl[SLOT.scratchStride];
  const total = ctl[SLOT.total];
  const chunk = ctl[SLOT.chunk];
  const threads = ctl[SLOT.threads];
  let ran = 0;
  while (!Atomics.load(ctl, SLOT.failed)) {
    // Claims are disjoint whatever the size each thread chose from what it saw left.
    const size = claimSize(total - Atomics.load(ctl, SLOT.next), chunk, threads);
    const u = Atomics.add(ctl, SLOT.next, size);
    if (u >= total) break;
    if (stallMs > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, stallMs);
    const end = Math.min(total, u + size);
    runUnits(k, ctl, u, end, scratch);
    ran += end - u;
    Atomics.add(ctl, SLOT.done, end - u);
    Atomics.notify(ctl, SLOT.done);
  }
  return ran;
}
