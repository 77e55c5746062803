// What a thread of the shared-memory pool does, in Node and in browsers alike: its own instance of the engine's
// module over the engine's shared memory. A helper waits for jobs in the control block and claims their units; the
// driver runs recorded (async) calls' steps as they arrive, sharing their jobs with the helpers (thread-jobs.ts).
import type { Step } from '../recording.js';
import { arrayServer } from './result-arrays.js';
import { type JobKernels, noteFailure, runSteps, seeMemory, SLOT, waitWhile, work } from './thread-jobs.js';
import type { ThreadInit } from './worker-pool.js';

/** Runs the thread described by `init`; a driver takes calls through `listen` and answers through `post`. */
export function threadBody(
  init: ThreadInit,
  listen: (handler: (data: unknown) => void) => void,
  post: (message: unknown) => void,
): void {
  const { role, module, memory, control, index } = init;
  const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as JobKernels;
  const ctl = new Int32Array(control);
  if (role === 'driver') {
    // After a failure, calls recorded before the caller heard of it may read what the failed one left unwritten (a
    // cache's rows): they fail too, until the caller says it has heard (`heard`).
    let failed = false;
    listen((data) => {
      const { id, steps, bytes, heard } = data as { id: number; steps: Step[]; bytes: number; heard?: true };
      if (heard) return void (failed = false);
      let error: string | undefined;
      try {
        if (failed) throw new Error('an async call before this one failed');
        seeMemory(memory, bytes);
        runSteps(kernels, ctl, memory, steps);
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
        failed = true;
        Atomics.add(ctl, SLOT.stepsFailed, 1);
      }
      Atomics.add(ctl, SLOT.stepsRun, 1);
      Atomics.notify(ctl, SLOT.stepsRun);
      post({ id, error });
    });
    return;
  }
  let seen = Atomics.load(ctl, SLOT.epoch);
  Atomics.add(ctl, SLOT.awake, 1);
  // Between jobs, a helper makes the result arrays the calling thread asks for.
  const idle = init.arrays && arrayServer(ctl, init.arrays);
  for (;;) {
    waitWhile(ctl, SLOT.epoch, seen, true, idle);
    const epoch = Atomics.load(ctl, SLOT.epoch);
    seen = epoch;
    if (epoch & 1) continue;
    Atomics.add(ctl, SLOT.inFlight, 1);
    try {
      // Still the job that woke us (not closed meanwhile), and one with scratch for this thread.
      if (Atomics.load(ctl, SLOT.epoch) === epoch && index < ctl[SLOT.threads]) {
        seeMemory(memory, ctl[SLOT.pages] * 65536);
        work(kernels, ctl, index, init.stallForTests);
      }
    } catch (e) {
      noteFailure(ctl, e);
      Atomics.notify(ctl, SLOT.done);
    } finally {
      Atomics.sub(ctl, SLOT.inFlight, 1);
      Atomics.notify(ctl, SLOT.inFlight);
    }
  }
}
