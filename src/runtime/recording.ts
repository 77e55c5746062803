// Async calls run the sync calls' own code: once, on the calling thread, with every kernel call recorded
// instead of run. What the wrapper does around the kernels (checks, allocation, copying inputs in) happens then;
// what must wait for the kernels (copying results out, releasing memory, a cache counting its tokens for good)
// is deferred to after them. A thread of the engine's pool then runs the recorded steps, in order, and the call's
// promise settles. One code path for both, so an async call's results are the sync call's, bit for bit.
import type { Heap } from './memory.js';

/**
 * A recorded kernel call (by export name), or a job shared by threads: [kind, total, chunk, scratch, stride,
 * threads, ...args]. An attention step carries its descriptor as it was when recorded ([pointer, fields]): the
 * next run of the same call writes its own to the same place before this one runs.
 */
export type Step = (
  { readonly kernel: string; readonly args: readonly number[] } | { readonly job: readonly number[] }
) & { readonly desc?: readonly [number, Int32Array] };

/** Runs recorded steps off the calling thread; resolves once they have all run, or rejects WORKER_FAILED. */
export interface StepRunner {
  submit(steps: readonly Step[], rec: Recording): Promise<void>;
}

/** One async call's recording. */
export class Recording {
  readonly steps: Step[] = [];
  /** Once the steps have run (or failed): copies out, then releases, in the order the call made them. */
  readonly after: Array<() => void> = [];
  /** If the steps failed: what the call changed in the wrapper's own state, to undo (before `after`). */
  readonly undo: Array<() => void> = [];
  /** Where the call leaves results in memory for later ([byte pointer, bytes] each): what it copies out. */
  readonly kept: Array<[number, number]> = [];
  /** The new arrays those results are copied into once the steps have run. */
  readonly results: Float32Array[] = [];
  /**
   * The blocks the call takes ([byte pointer, bytes] each): anything it writes outside them outlives it (a cache's
   * rows).
   */
  readonly own: Array<[number, number]> = [];
  /** The heap of the engine the call runs on, once it has chosen one that can run recordings. */
  heap?: Heap;
  runner?: StepRunner;
}

let current: Recording | undefined;

/** The recording in progress, if the call runs on this heap (a call that runs elsewhere is not recorded). */
export const recordingOn = (heap: Heap): Recording | undefined => (current?.heap === heap ? current : undefined);

/**
 * Runs user code (a getter, a proxy trap) outside the recording in progress: an op it calls is its own call, run or
 * recorded on its own, never steps of this one.
 */
export function outside<T>(fn: () => T): T {
  const saved = current;
  current = undefined;
  try {
    return fn();
  } finally {
    current = saved;
  }
}

/** Runs `fn` now, or after the recorded steps of the call in progress on `heap`. */
export function afterSteps(heap: Heap, fn: () => void): void {
  const r = recordingOn(heap);
  if (r) r.after.push(fn);
  else fn();
}

/** Where a call runs: an engine's heap, and its pool if it has threads to run recorded steps on. */
export interface Place {
  readonly heap: Heap;
  readonly pool?: StepRunner;
}

/**
 * Tells the recording in progress which engine the call runs on (the first one it chooses). Without a pool
 * nothing is recorded: the call computes on the calling thread.
 */
export function recordOn(at: Place): void {
  if (current && !current.heap && at.pool) {
    current.heap = at.heap;
    current.runner = at.pool;
  }
}

/**
 * The async twin of a sync call: `body` is the sync call (it chooses its engine, which binds the recording), run
 * now with its kernels recorded; the result is returned once the steps have run off this thread.
 */
export async function recorded<T>(body: () => T, on?: Place): Promise<T> {
  const rec = new Recording();
  const outer = current;
  current = rec;
  let value: T;
  try {
    if (on) recordOn(on);
    value = body();
  } catch (e) {
    settle(rec, false);
    throw e;
  } finally {
    current = outer;
  }
  if (!rec.runner || rec.steps.length === 0) {
    settle(rec, true);
    return value;
  }
  // The first write to a new array's pages maps them, which can cost more than the copy: done while the threads
  // compute, not after them (the calling thread waits anyway). Never once the call has settled: the results are in.
  let running = true;
  try {
    const done = rec.runner.submit(rec.steps, rec);
    setTimeout(() => running && rec.results.forEach(touchPages));
    await done;
  } catch (e) {
    running = false;
    settle(rec, false);
    throw e;
  }
  running = false;
  settle(rec, true);
  return value;
}

/** Writes a 0 on each 4 KiB page of a new array, so that its pages are mapped before it is filled. */
export function touchPages(a: Float32Array): void {
  for (let i = 0; i < a.length; i += 1024) a[i] = 0;
}

function settle(rec: Recording, ok: boolean): void {
  if (!ok) for (const fn of rec.undo.reverse()) fn();
  for (const fn of rec.after) fn();
}
