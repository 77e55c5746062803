// The entry of a browser Worker of the pool (dist/thread-worker.browser.js): its first message is its ThreadInit.
import { threadBody } from './thread-body.js';
import type { ThreadInit } from './worker-pool.js';

const scope = globalThis as unknown as { onmessage: ((e: MessageEvent) => void) | null; postMessage(m: unknown): void };
scope.onmessage = (first) => {
  scope.onmessage = null;
  threadBody(first.data as ThreadInit, (handler) => (scope.onmessage = (e) => handler(e.data)), (m) => scope.postMessage(m));
};
