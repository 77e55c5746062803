// A thread of the shared-memory pool (Node worker_threads): its own instance of the engine's module over the
// engine's shared memory. A helper waits for jobs in the control block and claims their units; the driver runs
// recorded (async) calls' steps as they arrive, sharing their jobs with the helpers (src/thread-jobs.ts).
import { parentPort, workerData } from 'node:worker_threads';
import type { Step } from './recording.js';
import { type JobKernels, runSteps, SLOT, work } from './thread-jobs.js';

const { role, module, memory, control, index } = workerData as { role: 'helper' | 'driver'; module: WebAssembly.Module; memory: WebAssembly.Memory; control: SharedArrayBuffer; index: number };
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as JobKernels;
const ctl = new Int32Array(control);

if (role === 'driver') {
  parentPort!.on('message', ({ id, steps }: { id: number; steps: Step[] }) => {
    let error: string | undefined;
    try {
      runSteps(kernels, ctl, memory, steps);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    Atomics.add(ctl, SLOT.stepsRun, 1);
    Atomics.notify(ctl, SLOT.stepsRun);
    parentPort!.postMessage({ id, error });
  });
} else {
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
}
