// The entry of a browser Worker of a pool (dist/thread-worker.browser.js): its first message is its init, a thread
// of the shared-memory pool or a replica (the workers' pool, in pages without cross-origin isolation).
import { type ReplicaInit, replicaBody } from './replica-body.js';
import { threadBody } from './thread-body.js';
import type { ThreadInit } from './worker-pool.js';

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(m: unknown, transfer?: Transferable[]): void;
};
scope.onmessage = (first) => {
  scope.onmessage = null;
  const init = first.data as ThreadInit | ReplicaInit;
  const listen = (handler: (data: unknown) => void) => (scope.onmessage = (e) => handler(e.data));
  const post = (m: unknown, transfer?: Transferable[]) => scope.postMessage(m, transfer);
  if (init.role === 'replica') replicaBody(init, listen, post);
  else threadBody(init, listen, post);
};
