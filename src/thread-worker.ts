// A worker of the shared-memory pool (Node worker_threads): its own instance of the engine's module over the
// engine's shared memory; it waits for jobs in the control block and claims their units (src/thread-jobs.ts).
import { workerData } from 'node:worker_threads';
import { type JobKernels, SLOT, work } from './thread-jobs.js';

const { module, memory, control, index } = workerData as { module: WebAssembly.Module; memory: WebAssembly.Memory; control: SharedArrayBuffer; index: number };
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as JobKernels;
const ctl = new Int32Array(control);

let seen = Atomics.load(ctl, SLOT.epoch);
for (;;) {
  Atomics.wait(ctl, SLOT.epoch, seen);
  const epoch = Atomics.load(ctl, SLOT.epoch);
  seen = epoch;
  if (epoch & 1) continue;
  Atomics.add(ctl, SLOT.inFlight, 1);
  try {
    // Still the job that woke us (not closed meanwhile), and one with scratch for this thread.
    if (Atomics.load(ctl, SLOT.epoch) === epoch && index < ctl[SLOT.threads]) work(kernels, ctl, index);
  } catch {
    Atomics.store(ctl, SLOT.failed, 1);
    Atomics.notify(ctl, SLOT.done);
  } finally {
    Atomics.sub(ctl, SLOT.inFlight, 1);
    Atomics.notify(ctl, SLOT.inFlight);
  }
}
