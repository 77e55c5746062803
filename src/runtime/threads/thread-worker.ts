// The entry of a Node worker thread of a pool (dist/thread-worker.js): started with its init as workerData, a
// thread of the shared-memory pool or a replica (the workers' pool, which tests run in Node too).
import { parentPort, workerData } from 'node:worker_threads';
import { type ReplicaInit, replicaBody } from './replica-body.js';
import { threadBody } from './thread-body.js';
import type { ThreadInit } from './worker-pool.js';

const init = workerData as ThreadInit | ReplicaInit;
const listen = (handler: (data: unknown) => void) => parentPort!.on('message', handler);
const post = (m: unknown, transfer?: Transferable[]) => parentPort!.postMessage(m, transfer as never);
if (init.role === 'replica') replicaBody(init, listen, post);
else threadBody(init, listen, post);
