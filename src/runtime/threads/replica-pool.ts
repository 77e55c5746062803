// Threads where memory cannot be shared (a page without cross-origin isolation): replicas, Workers each with their own
// instance of the engine's module and a memory of their own laid out as the engine's. Sync calls run on the calling
// thread as without threads; an async call's recorded steps run on every replica (src/runtime/threads/replica-body.ts),
// which share its jobs and send one another the rows they wrote. The engine sends what its own writes changed (inputs,
// new weights) with each call, and takes back what the call leaves behind: its results and a cache's rows.
import { DESC_FIELDS } from '../kernels.js';
import type { Heap } from '../memory.js';
import { jobWrites, kernelReads, kernelWrites, type Runs } from './kernel-regions.js';
import { type Recording, recordingOn, type Step } from '../recording.js';
import { gather, type ReplicaCall, runStep, scatter, Spares } from './replica-body.js';
import { ResultArrays } from './result-arrays.js';
import { type Errors, SplitPool } from './split-pool.js';
import { CONTROL_SLOTS, type SplitKernels } from './thread-jobs.js';
import type { StartThread, Thread } from './worker-pool.js';

type Direct = SplitKernels & { heap_base(): number };

/** What a replica says: it has started, a call's answer (what it leaves, rows of its last job), or its failure. */
interface Answer {
  ready?: true;
  id: number;
  back?: ArrayBuffer[];
  final?: { runs: Runs; data: ArrayBuffer[] };
  /** Spare buffers handed back. */
  gift?: ArrayBuffer[];
  /** Units the replica took from its peers in the call. */
  stolen?: number;
  error?: string;
  /** A result array it made when asked (its buffer), or the length it could not make. */
  made?: ArrayBuffer | number;
}

export class ReplicaPool extends SplitPool {
  #replicas: Array<Thread | undefined> = [];
  #wanted = 1;
  /** Units of async calls that a replica which answered took from its peers (for tests). */
  stolenUnits = 0;
  /** Whether any replica has started: if none ever does (its script did not load), calls run on the caller. */
  #started = false;
  #broken = false;
  /** Runs of the engine's memory its own calls wrote since the replicas last got them (all of it after a restart). */
  #dirty: Runs = [];
  #allDirty = true;
  #submitted = 0;
  /** Calls sent to the replicas and not settled: what they send back lands at `back`. */
  readonly #pending = new Map<
    number,
    {
      resolve: () => void;
      reject: (e: unknown) => void;
      units: number;
      back: Runs;
      steps: readonly Step[];
      outlives: Runs;
      /** Answers to wait for (every replica's when the last step is a job) and those heard. */
      answers: number;
      heard: Answer[];
    }
  >();
  #direct?: Direct;
  #heap?: Heap;
  readonly #spares = new Spares();
  /**
   * The new arrays calls' results are copied into: a replica makes them once it has no call to run, as the
   * shared-memory pool's helpers do (src/runtime/threads/result-arrays.ts), so that this thread does not touch their
   * pages while the replicas compute, which slowed them in a page.
   */
  readonly #results = new ResultArrays((length) => this.#askArray(length), undefined);
  /** Lengths asked while an async call records: they go with that call, to be made after it. */
  #asks: number[] = [];

  /** Result arrays that replicas made and reads gave out (tests and benchmarks read it). */
  get arraysFromHelpers(): number {
    return this.#results.fromHelpers;
  }

  constructor(
    readonly module: WebAssembly.Module,
    readonly memory: WebAssembly.Memory,
    readonly pages: number,
    readonly start: StartThread,
    errors: Errors,
  ) {
    super(errors);
  }

  get threading() {
    return this.#broken ? 'none' : 'workers';
  }

  get size(): number {
    return this.#broken ? 1 : this.#wanted;
  }

  get alive(): number {
    return this.#broken ? 1 : Math.max(1, this.#replicas.filter(Boolean).length);
  }

  /** The replicas started (tests end one to see pending calls fail). */
  get replicas(): ReadonlyArray<Thread | undefined> {
    return this.#replicas;
  }

  /** Replicas start now when two or more are asked for, else with the first async call; never under a pending one. */
  resize(threads: number): void {
    this.#wanted = threads;
    if (this.#pending.size === 0 && (threads > 1 || this.#replicas.length > 0)) this.#restart();
  }

  close(): void {
    this.#wanted = 1;
    this.#fail('the engine was closed');
    // No call will take them now.
    this.#results.clear();
  }

  kernels<K extends SplitKernels>(direct: K, heap: Heap): K {
    this.#direct = direct as unknown as Direct;
    this.#heap = heap;
    this.#observe(heap);
    return super.kernels(direct, heap);
  }

  /**
   * Follows what the heap does for calls: every write of the engine's (copied to the replicas with the next call),
   * the results an async call copies out and the blocks it takes (what comes back is decided from them).
   */
  #observe(heap: Heap): void {
    const { write, readF32, alloc } = heap;
    heap.write = (ptr, arg) => {
      write.call(heap, ptr, arg);
      this.#note([ptr >>> 0, arg.data.byteLength]);
    };
    heap.readF32 = (ptr, length) => {
      recordingOn(heap)?.kept.push([ptr >>> 0, length * 4]);
      return readF32.call(heap, ptr, length, this.#results.take(length));
    };
    heap.alloc = (bytes) => {
      const ptr = alloc.call(heap, bytes);
      recordingOn(heap)?.own.push([ptr, bytes]);
      return ptr;
    };
  }

  /** The last replica makes the arrays (the first has the most to send back). */
  #askArray(length: number): boolean {
    const maker = this.#replicas[this.#replicas.length - 1];
    if (!maker || this.#broken) return false;
    if (this.#heap && recordingOn(this.#heap)) this.#asks.push(length);
    else maker.post({ make: [length] });
    return true;
  }

  protected threadsFor(heap: Heap): number {
    return recordingOn(heap) && !this.#broken ? this.#wanted : 1;
  }

  protected beforeRun(name: string, args: readonly number[]): void {
    const desc = (ptr: number) => new Int32Array(this.memory.buffer, ptr, DESC_FIELDS);
    const writes: Runs = [];
    try {
      kernelWrites(writes, name, args, desc, this.#direct!.f32_gemm_packed_floats);
    } catch {
      writes.push(0, 2 ** 32);
      this.#allDirty = true;
    }
    // What pending calls write for later (a cache's rows) is on the replicas, not here yet, and this thread cannot
    // wait for it: a sync call that reads or writes it fails instead of computing with stale rows.
    if (this.#pending.size > 0) {
      const touched = kernelReads(name, args, desc);
      for (let i = 0; i < writes.length; i += 2) touched.push([writes[i], writes[i] + writes[i + 1]]);
      for (const { outlives } of this.#pending.values()) {
        for (let i = 0; i < outlives.length; i += 2) {
          if (touched.some(([from, to]) => from < outlives[i] + outlives[i + 1] && outlives[i] < to)) {
            throw new this.errors(
              'BAD_ARGUMENT',
              "a sync call reads what async calls still pending on this engine write (a KV cache's rows), and in a page without cross-origin isolation it cannot wait for them: await them first",
            );
          }
        }
      }
    }
    this.#note(writes);
  }

  /** Marks runs the replicas must get; past a point, all of memory is cheaper to send than the list. */
  #note(runs: Runs): void {
    if (this.#allDirty) return;
    if (this.#dirty.length + runs.length > 1 << 16) {
      [this.#dirty, this.#allDirty] = [[], true];
      return;
    }
    for (const r of runs) this.#dirty.push(r);
  }

  protected run(): void {
    throw new Error('a sync call is never shared between replicas');
  }

  #stop(): void {
    const old = this.#replicas;
    this.#replicas = [];
    for (const r of old) r?.terminate();
    // New replicas have nothing of the engine's memory yet, and were asked for no arrays.
    this.#allDirty = true;
    this.#asks = [];
    this.#results.lost();
  }

  #restart(): void {
    this.#stop();
    if (this.#broken) return;
    const n = this.#wanted;
    const ports: MessagePort[][] = Array.from({ length: n }, () => []);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const { port1, port2 } = new MessageChannel();
        ports[i][j] = port1;
        ports[j][i] = port2;
      }
    }
    for (let i = 0; i < n; i++) {
      const replica: Thread = this.start(
        { role: 'replica', module: this.module, index: i, pages: this.pages },
        {
          message: (data) => this.#heard(data as Answer),
          gone: (e) => {
            if (this.#replicas[i] !== replica) return;
            this.#replicas[i] = undefined;
            if (this.#started) return this.#fail(e instanceof Error ? e.message : 'a worker ended');
            // A replica that never started (its script did not load): none will. Calls run on the caller, those
            // pending too (nothing of theirs has run).
            this.#broken = true;
            this.#stop();
            const pending = [...this.#pending.values()];
            this.#pending.clear();
            for (const call of pending) this.#runHere(call.steps).then(call.resolve, call.reject);
          },
        },
      );
      this.#replicas[i] = replica;
      replica.post({ peers: ports[i] }, ports[i].filter(Boolean));
    }
  }

  #heard(m: Answer): void {
    if (m.ready) return void (this.#started = true);
    if (m.made !== undefined) return this.#results.accept(m.made);
    const call = this.#pending.get(m.id);
    if (!call) return;
    if (m.error !== undefined) return this.#fail(m.error);
    call.heard.push(m);
    if (call.heard.length < call.answers) return;
    // The first replica's copy of what the call leaves holds stale rows of a last job: the others' rows go over it.
    for (const h of call.heard) if (h.back) scatter(this.memory.buffer, call.back, h.back);
    for (const h of call.heard) if (h.final) scatter(this.memory.buffer, h.final.runs, h.final.data);
    for (const h of call.heard) [h.back, h.final?.data, h.gift].forEach((b) => this.#spares.keep(b));
    this.#settled(m.id);
    this.workerUnits += call.units;
    for (const h of call.heard) this.stolenUnits += h.stolen ?? 0;
    call.resolve();
  }

  /** Rejects every pending call and ends the replicas (they may have diverged): the next call starts new ones. */
  #fail(why: string): void {
    const failed = [...this.#pending];
    this.#pending.clear();
    this.#stop();
    for (const [, call] of failed) call.reject(new this.errors('WORKER_FAILED', `${why}; the engine goes on`));
  }

  #settled(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size > 0) return;
    for (const r of this.#replicas) r?.keepAlive(false);
    if (this.#replicas.length > 0 && this.#outOfShape()) this.#restart();
  }

  /** Whether the replicas are not the ones asked for: a different count, or one has ended. */
  #outOfShape(): boolean {
    return this.#replicas.length !== this.#wanted || this.#replicas.some((r) => !r);
  }

  submit(steps: readonly Step[], rec: Recording): Promise<void> {
    if (this.#broken) return this.#runHere(steps);
    if (this.#pending.size === 0 && this.#outOfShape()) this.#restart();
    const id = ++this.#submitted;
    const buffer = this.memory.buffer;
    const base = this.#direct!.heap_base() >>> 0;
    const runs = this.#allDirty ? [base, buffer.byteLength - base] : this.#dirty;
    [this.#dirty, this.#allDirty] = [[], false];
    // What the steps write outside the call's own blocks outlives the call (a cache's rows): it comes back too.
    const outlives: Runs = [];
    const mine = (at: number) => rec.own.some(([p, n]) => at >= p && at < p + n);
    const packed = this.#direct!.f32_gemm_packed_floats;
    let units = 0;
    let last: Runs = [];
    for (const s of steps) {
      const writes: Runs = [];
      const desc = () => s.desc![1];
      if ('job' in s) {
        units += s.job[1];
        jobWrites(writes, s.job, 0, s.job[1], desc);
      } else kernelWrites(writes, s.kernel, s.args, desc, packed);
      for (let i = 0; i < writes.length; i += 2) if (!mine(writes[i])) outlives.push(writes[i], writes[i + 1]);
      last = writes;
    }
    const replicas = this.#replicas as Thread[];
    // A last job that writes only the call's own blocks: every replica sends its rows here, and the first replica
    // sends the rest of what the call leaves.
    const final =
      replicas.length > 1 && 'job' in steps[steps.length - 1] && last.every((v, i) => i % 2 === 1 || mine(v));
    const back = without([...rec.kept.flat(), ...outlives], final ? last : []);
    const answers = final ? replicas.length : 1;
    const arrays = this.#asks;
    this.#asks = [];
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, units, back, steps, outlives, answers, heard: [] });
      replicas.forEach((r, i) => {
        const data = gather(buffer, runs, this.#spares);
        const call: ReplicaCall = {
          id,
          bytes: buffer.byteLength,
          runs,
          data,
          steps,
          replicas: replicas.length,
          back: i === 0 ? back : undefined,
          final,
          arrays: i === replicas.length - 1 ? arrays : undefined,
        };
        r.keepAlive(true);
        r.post(call, data);
      });
    });
  }

  /** Without replicas: the steps on the calling thread, after the sync call that recorded them. */
  async #runHere(steps: readonly Step[]): Promise<void> {
    const ctl = new Int32Array(CONTROL_SLOTS);
    for (const s of steps) runStep(this.#direct!, ctl, this.memory, s);
  }
}

/** The parts of `runs` that `cut` does not cover. */
export function without(runs: Runs, cut: Runs): Runs {
  if (cut.length === 0) return runs;
  const holes: Array<[number, number]> = [];
  for (let i = 0; i < cut.length; i += 2) holes.push([cut[i], cut[i] + cut[i + 1]]);
  holes.sort((a, b) => a[0] - b[0]);
  const out: Runs = [];
  for (let i = 0; i < runs.length; i += 2) {
    let from = runs[i];
    const to = runs[i] + runs[i + 1];
    for (const [a, b] of holes) {
      if (b <= from || a >= to) continue;
      if (a > from) out.push(from, a - from);
      from = Math.max(from, b);
      if (from >= to) break;
    }
    if (from < to) out.push(from, to - from);
  }
  return out;
}

/** The engine's module (compiled once, sent to every replica), a memory of its own, and a pool of replicas. */
export function replicaPool(
  bytes: ArrayBuffer | ArrayBufferView,
  maximumPages: number,
  start: StartThread,
  errors: Errors,
) {
  const module = new WebAssembly.Module(bytes as BufferSource);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: maximumPages });
  return { module, memory, pool: new ReplicaPool(module, memory, maximumPages, start, errors) };
}
