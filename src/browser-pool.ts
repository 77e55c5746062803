// Threads in a cross-origin-isolated page: a pool of module Workers over the engine's shared memory, and the
// recording that lets async calls run on it. A file of its own (dist/browser-pool.js) with no imports, loaded by
// the browser entry only when an engine first asks for threads: pages that never do never download it.
import { type Errors, sharedPool, type StartThread } from './worker-pool.js';

export * as recording from './recording.js';

/** Workers made by `newWorker` (module Workers running dist/thread-worker.browser.js). */
const startWorkers = (newWorker: () => Worker): StartThread => (init, events) => {
  const worker = newWorker();
  let ended = false;
  const gone = (e?: unknown) => {
    if (!ended) events.gone(e);
    ended = true;
  };
  worker.onmessage = (e) => events.message(e.data);
  // A script that does not load (a bundler that did not emit it) or that throws: the pool goes on without it.
  worker.onerror = (e) => gone(new Error(`a worker failed: ${e.message || 'its script did not load'}`));
  worker.postMessage(init);
  return {
    post: (m) => worker.postMessage(m),
    terminate: () => {
      worker.terminate();
      gone();
    },
    keepAlive: () => {},
  };
};

/** The engine's module and memory made shareable, and a pool of Workers over them (see sharedPool). */
export const threaded = (bytes: ArrayBuffer | ArrayBufferView, maximumPages: number, newWorker: () => Worker, errors: Errors) =>
  sharedPool(bytes, maximumPages, startWorkers(newWorker), errors);
