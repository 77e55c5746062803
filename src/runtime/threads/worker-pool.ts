// A pool of threads over one shared memory, each with its own instance of the engine's module: helpers take work units
// of a job from the control block (src/runtime/threads/thread-jobs.ts) while the calling thread takes its share and
// waits for the rest; a driver runs async calls' recorded steps. How a thread starts is the caller's: Node's
// worker_threads (src/runtime/threads/threads.ts) or a browser's Workers (src/runtime/threads/browser-pool.ts).
import type { Kernels } from '../kernels.js';
import type { Heap } from '../memory.js';
import { recordingOn, type Step } from '../recording.js';
import { askRing, type Receive, ResultArrays } from './result-arrays.js';
import { sharedMemoryModule } from './shared-memory.js';
import { LEARNT_BELOW, SplitGains } from './split-gains.js';
import { type Errors, SplitPool } from './split-pool.js';
import {
  closeJob,
  CONTROL_SLOTS,
  coordinate,
  JOB,
  type JobKernels,
  LONG_SLEEP_MS,
  MIN_SPLIT_MADDS_SHARED,
  type Pool,
  SLOT,
  SPIN_MS,
  type SplitKernels,
  STREAM_MS,
  waitWhile,
} from './thread-jobs.js';
import type { ReplicaInit } from './replica-body.js';

export type { Errors } from './split-pool.js';

/** What a thread is started with: its role, the module and memory it instantiates, the control block, its index. */
export interface ThreadInit {
  readonly role: 'helper' | 'driver';
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly control: SharedArrayBuffer;
  readonly index: number;
  /** Tests: ms a helper stops after each claim (see work()). */
  readonly stallForTests?: number;
  /** A helper's channel for the result arrays it makes (src/runtime/threads/result-arrays.ts): to be transferred. */
  readonly arrays?: MessagePort;
}

/** What the pool hears from a thread: its messages, and its end (an error, an exit, a script that never loaded). */
export interface ThreadEvents {
  message(data: unknown): void;
  gone(error?: unknown): void;
}

/** A started thread, as the pool uses it. */
export interface Thread {
  post(message: unknown, transfer?: Transferable[]): void;
  terminate(): void;
  /** Whether it keeps a Node process alive (browsers: nothing to do). */
  keepAlive(on: boolean): void;
}

export type StartThread = (init: ThreadInit | ReplicaInit, events: ThreadEvents) => Thread;

/**
 * How long this thread's event loop has waited for events so far, in ms (Node's performance.eventLoopUtilization;
 * NaN where there is none).
 */
const sleptMs = (): number =>
  (performance as { eventLoopUtilization?: () => { idle: number } }).eventLoopUtilization?.().idle ?? NaN;

/** A pool of threads over one shared memory, started by `start` (Node's worker_threads or a browser's Workers). */
export class WorkerPool extends SplitPool {
  readonly threading = 'shared-memory';
  override minSplitMadds = MIN_SPLIT_MADDS_SHARED;
  readonly #ctl = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * 4));
  /** Slot i holds worker i + 1 (undefined once it has died). */
  readonly #workers: Array<Thread | undefined> = [];
  /** The thread that runs recorded calls (started by the first one). */
  #driver: Thread | undefined;
  /** Recorded calls sent to the driver, those not yet settled (by id), and the failures among them heard of. */
  #submitted = 0;
  #failuresHeard = 0;
  readonly #pending = new Map<number, { resolve: () => void; reject: (e: unknown) => void; units: number }>();
  /** Threads asked for by the last resize. */
  #wanted = 1;

  /** The module the threads instantiate, once the engine computes on a shared memory (see #share). */
  #module: WebAssembly.Module | undefined;
  #memory: WebAssembly.Memory;
  #heap: Heap | undefined;

  constructor(
    /** The module's bytes with its memory import made shareable (sharedMemoryModule). */
    readonly shareable: Uint8Array,
    /** The engine's memory as it starts. */
    memory: WebAssembly.Memory,
    readonly maximumPages: number,
    readonly start: StartThread,
    errors: Errors,
    /** The shareable module, when `memory` is shared already. */
    module?: WebAssembly.Module,
    /** How the calling thread takes a helper's message at once, where it can (Node). */
    receive?: Receive,
  ) {
    super(errors);
    this.#memory = memory;
    this.#module = module;
    this.#results = new ResultArrays(
      askRing(this.#ctl, () => this.#results.channels > 0),
      receive,
    );
    Atomics.store(this.#ctl, SLOT.epoch, 1);
  }

  readonly #results: ResultArrays;

  /** Result arrays that helpers made and reads gave out (tests and benchmarks read it). */
  get arraysFromHelpers(): number {
    return this.#results.fromHelpers;
  }

  /** The memory the engine computes on now. */
  get memory(): WebAssembly.Memory {
    return this.#memory;
  }

  /**
   * Moves the engine onto a shared memory, once, before its first thread starts: the shareable module, optimised
   * first on a memory of its own (its warm-up there touches none of the engine's data), then instantiated over a
   * shared copy of the engine's memory, which its heap and kernels use from then on. Until then the engine computes
   * on a memory of its own: kernels run about 3 % slower over a shared one (`node --import tsx bench/kernel-ab.mjs
   * build/simd.wasm build/simd.wasm 512 plain shared`).
   */
  #share(): WebAssembly.Module {
    if (this.#module) return this.#module;
    const module = new WebAssembly.Module(this.shareable as BufferSource);
    const shared = (initial: number) => new WebAssembly.Memory({ initial, maximum: this.maximumPages, shared: true });
    const instance = (memory: WebAssembly.Memory) =>
      new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Kernels;
    const alone = shared(1);
    const kernels = instance(alone);
    const at = Math.ceil((kernels.heap_base() >>> 0) / 64) * 64;
    const pages = Math.ceil((at + kernels.warm_up_floats() * 4) / 65536);
    if (pages <= this.maximumPages) {
      alone.grow(pages - 1);
      kernels.warm_up(at);
    }
    const memory = shared(this.#memory.buffer.byteLength / 65536);
    new Uint8Array(memory.buffer).set(new Uint8Array(this.#memory.buffer));
    this.direct = instance(memory);
    this.#heap?.adopt(memory);
    this.#memory = memory;
    return (this.#module = module);
  }

  get size(): number {
    return this.#workers.length + 1;
  }

  get alive(): number {
    return 1 + this.#workers.filter(Boolean).length;
  }

  /**
   * Starts or ends workers so that `threads` threads compute (the caller included). Workers end only while no async
   * call is pending (the driver may be inside a job, counting on their units): until then the pool keeps them.
   */
  resize(threads: number): void {
    this.#wanted = threads;
    if (threads > 1 && Number.isNaN(this.#idleMark)) this.#idleMark = sleptMs();
    while (this.#workers.length < threads - 1) this.#spawn(this.#workers.length);
    if (this.#pending.size === 0) this.#endSpare();
  }

  #endSpare(): void {
    while (this.#workers.length > this.#wanted - 1) this.#workers.pop()?.terminate();
  }

  #start(role: ThreadInit['role'], index: number, events: ThreadEvents, arrays?: MessagePort): Thread {
    const control = this.#ctl.buffer as SharedArrayBuffer;
    return this.start({ role, module: this.#share(), memory: this.#memory, control, index, arrays }, events);
  }

  #spawn(slot: number): void {
    // A worker that dies (or never starts) leaves its slot empty: its units go to the others (claims are shared),
    // and the pool reports one thread fewer.
    const arrays = this.#results.channel();
    const worker: Thread = this.#start(
      'helper',
      slot + 1,
      {
        message: () => {},
        gone: () => {
          this.#results.forget(arrays);
          if (this.#workers[slot] === worker) this.#workers[slot] = undefined;
        },
      },
      arrays,
    );
    this.#workers[slot] = worker;
  }

  /**
   * The driver, started when first needed; while calls are pending it keeps the process alive, as any pending I/O
   * does.
   */
  #driverThread(): Thread {
    if (this.#driver) return this.#driver;
    const driver: Thread = this.#start('driver', 0, {
      message: (data) => {
        const { id, error } = data as { id: number; error?: string };
        const call = this.#pending.get(id);
        if (!call) return;
        this.#settled(id);
        if (error === undefined) {
          this.workerUnits += call.units;
          call.resolve();
        } else {
          this.#failuresHeard++;
          // The first failure since the last one heard: from here on, calls made run again.
          if (this.#failuresHeard === Atomics.load(this.#ctl, SLOT.stepsFailed)) driver.post({ heard: true });
          call.reject(this.#failed(error));
        }
      },
      gone: (e) => {
        if (this.#driver !== driver) return;
        this.#driver = undefined;
        // It may have died inside a job: close it, so helpers leave it, before any call's memory is released.
        closeJob(this.#ctl);
        Atomics.store(this.#ctl, SLOT.stepsRun, this.#submitted);
        Atomics.store(this.#ctl, SLOT.stepsFailed, (this.#failuresHeard += this.#pending.size));
        const why = e instanceof Error ? e.message : 'the thread running async calls ended';
        for (const [id, call] of [...this.#pending]) {
          this.#settled(id);
          call.reject(this.#failed(why));
        }
      },
    });
    this.#driver = driver;
    return driver;
  }

  /** The driver thread, if started (tests end it to see pending calls fail). */
  get driver(): Thread | undefined {
    return this.#driver;
  }

  #settled(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size > 0) return;
    this.#driver?.keepAlive(false);
    this.#endSpare();
  }

  submit(steps: readonly Step[]): Promise<void> {
    const driver = this.#driverThread();
    const id = ++this.#submitted;
    const units = steps.reduce((n, s) => n + ('job' in s ? s.job[1] : 0), 0);
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, units });
      driver.keepAlive(true);
      // The driver sees at least the memory this thread sees when it runs the steps (see seeMemory).
      driver.post({ id, steps, bytes: this.memory.buffer.byteLength });
    });
  }

  protected threadsFor(): number {
    return this.size;
  }

  /** Helpers not blocked waiting for a job now (tests read it). */
  get helpersAwake(): number {
    return Atomics.load(this.#ctl, SLOT.awake);
  }

  /** When the calling thread last woke from a long sleep (-Infinity: never seen). */
  #woke = -Infinity;
  /**
   * The calling thread's event-loop idle time (ms, cumulative) at its last job: a job computes synchronously, so the
   * loop sleeps only between jobs. First read when a second thread is asked for: Node loads `performance` (perf_hooks)
   * on first use, which an engine of one thread need not wait for in init().
   */
  #idleMark = NaN;

  /** Shareable now: the helpers can take it up (#helpersUp), and for a small job, sharing has lately been faster. */
  protected override helpersReady(madds: number): boolean {
    const up = this.#helpersUp(madds);
    this.#learning = up && this.learns && madds < LEARNT_BELOW;
    return up && (!this.#learning || this.#gains.sharing);
  }

  /** What small jobs have taken, shared and alone; whether the job being decided is one of them. */
  readonly #gains = new SplitGains();
  #learning = false;

  /**
   * A small job's cost counts what the calling thread does until the next job too, up to SPIN_MS: helpers that spin
   * after a shared job slow it down on a busy machine, and it is the job's way that made them spin.
   */
  protected override timed(madds: number, job: () => void): void {
    const t0 = performance.now();
    const last = this.#lastJob;
    if (last) this.#gains.note(last.madds, last.ms + Math.min(SPIN_MS, t0 - last.end));
    this.#lastJob = undefined;
    if (!this.#learning) return job();
    this.#learning = false;
    job();
    const end = performance.now();
    this.#lastJob = { madds, ms: end - t0, end };
  }

  /** The last small job, until the next job starts: its multiply-adds, its time and its end. */
  #lastJob: { madds: number; ms: number; end: number } | undefined;

  /**
   * See SHARE_ASLEEP_MADDS: a large job, one that finds a helper awake, or a small one unless the calling thread woke
   * from a long sleep less than STREAM_MS ago: those run on the caller alone, the helpers left asleep.
   */
  #helpersUp(madds: number): boolean {
    const idle = sleptMs();
    const slept = idle - this.#idleMark >= LONG_SLEEP_MS;
    this.#idleMark = idle;
    if (madds >= this.shareAsleepMadds || Atomics.load(this.#ctl, SLOT.awake) > 0) return true;
    const now = performance.now();
    if (slept) this.#woke = now;
    return now - this.#woke >= STREAM_MS;
  }

  protected beforeRun(): void {
    this.#drain();
  }

  /**
   * Waits until every recorded call submitted so far has run: a sync call may read what they write. If one of them
   * failed and its rejection has not been delivered yet, what it left (a cache's rows) is not to be read: the sync
   * call fails too.
   */
  #drain(): void {
    const ctl = this.#ctl;
    for (let d; (d = Atomics.load(ctl, SLOT.stepsRun)) < this.#submitted;) waitWhile(ctl, SLOT.stepsRun, d);
    if (Atomics.load(ctl, SLOT.stepsFailed) > this.#failuresHeard)
      throw this.#failed('an async call before this one failed (await it to see why)');
  }

  /**
   * Runs a job of `total` units on every thread, the caller included, after the recorded calls before it (see
   * coordinate()). Thread i uses scratch + i · stride.
   */
  protected run(
    kernels: JobKernels,
    kind: number,
    args: readonly number[],
    total: number,
    chunk: number,
    scratch: number,
    stride: number,
  ): void {
    this.#drain();
    try {
      this.workerUnits +=
        total -
        coordinate(
          kernels,
          this.#ctl,
          this.memory,
          [kind, total, chunk, scratch, stride, this.#workers.length + 1, ...args],
          // Not while an operand is packed: that job is short, and the one after it is what the helpers would wait on.
          kind === JOB.pack ? undefined : this.#makeAhead,
        );
    } catch (e) {
      throw Object.assign(this.#failed((e as Error).message), { cause: (e as Error).cause });
    }
  }

  /**
   * A sync call's results are copied out of the memory into new arrays once its jobs are done, on the calling thread
   * alone, and the first touch of a new array's pages costs more than the copy: its reads take arrays made ahead
   * where the lengths match (src/runtime/threads/result-arrays.ts).
   */
  override kernels<K extends SplitKernels>(direct: K, heap: Heap): K {
    this.#heap = heap;
    const readF32 = heap.readF32;
    heap.readF32 = (ptr, length) => {
      if (recordingOn(heap)) return readF32.call(heap, ptr, length);
      return readF32.call(heap, ptr, length, this.#results.take(length));
    };
    return super.kernels(direct, heap);
  }

  /** Before the caller's share of a job: on a call's first job, the arrays no helper brings. */
  readonly #makeAhead = (): void => this.#results.makeAhead();

  #failed(why: string): InstanceType<Errors> {
    return new this.errors('WORKER_FAILED', `${why}; the engine goes on`);
  }

  /** Ends the driver (pending async calls reject WORKER_FAILED), then every worker. */
  close(): void {
    this.#driver?.terminate();
    this.resize(1);
    // No job will take them now.
    this.#results.clear();
  }
}

/**
 * The module, a memory for it (up to `maximumPages`) and a pool of threads started by `start` (none until resized),
 * which moves the engine to a shared memory when threads first need one, or, with `shareNow` (an engine asked for
 * threads), the shareable module and a shared memory from the start; undefined when the bytes have no memory import
 * to share.
 */
export function sharedPool(
  bytes: ArrayBuffer | ArrayBufferView,
  maximumPages: number,
  start: StartThread,
  errors: Errors,
  shareNow = false,
  receive?: Receive,
): { module: WebAssembly.Module; memory: WebAssembly.Memory; pool: Pool } | undefined {
  const patched = sharedMemoryModule(bytes);
  if (!patched) return undefined;
  const module = new WebAssembly.Module((shareNow ? patched : bytes) as BufferSource);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: maximumPages, shared: shareNow });
  const pool = new WorkerPool(patched, memory, maximumPages, start, errors, shareNow ? module : undefined, receive);
  return { module, memory, pool };
}
