// Threads in a page: in a cross-origin-isolated one, a pool of module Workers over the engine's shared memory;
// elsewhere, Workers each with a memory of their own that run async calls (src/runtime/threads/replica-pool.ts); and
// the recording that lets async calls run on them. A file of its own (dist/browser-pool.js) with no imports, loaded by
// the browser entry only when an engine first asks for threads: pages that never do never download it.
import { replicaPool } from './replica-pool.js';
import { type Errors, sharedPool, type StartThread } from './worker-pool.js';

export * as recording from '../recording.js';

/** Workers made by `newWorker` (module Workers running dist/thread-worker.browser.js). */
const startWorkers =
  (newWorker: () => Worker): StartThread =>
  (init, events) => {
    const worker = newWorker();
    let ended = false;
    const gone = (e?: unknown) => {
      if (!ended) events.gone(e);
      ended = true;
    };
    worker.onmessage = (e) => events.message(e.data);
    // A script that does not load (a bundler that did not emit it) or that throws: the pool goes on without it.
    worker.onerror = (e) => gone(new Error(`a worker failed: ${e.message || 'its script did not load'}`));
    // A helper's channel for result arrays goes with its init (transferred: only one thread may hold it).
    worker.postMessage(init, 'arrays' in init && init.arrays ? [init.arrays] : []);
    return {
      post: (m, transfer) => worker.postMessage(m, transfer ?? []),
      terminate: () => {
        worker.terminate();
        gone();
      },
      keepAlive: () => {},
    };
  };

/**
 * The engine's module and memory made shareable from the start (this file loads when an engine asks for threads), and
 * a pool of Workers over them (see sharedPool); without cross-origin isolation, the module, a memory, and a pool of
 * replicas (see replicaPool).
 */
export const threaded = (
  bytes: ArrayBuffer | ArrayBufferView,
  maximumPages: number,
  newWorker: () => Worker,
  errors: Errors,
) =>
  self.crossOriginIsolated
    ? sharedPool(bytes, maximumPages, startWorkers(newWorker), errors, true)
    : replicaPool(bytes, maximumPages, startWorkers(newWorker), errors);
