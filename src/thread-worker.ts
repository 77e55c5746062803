// The entry of a Node worker thread of the pool (dist/thread-worker.js): started with its ThreadInit as workerData.
import { parentPort, workerData } from 'node:worker_threads';
import { threadBody } from './thread-body.js';
import type { ThreadInit } from './worker-pool.js';

threadBody(workerData as ThreadInit, (handler) => parentPort!.on('message', handler), (m) => parentPort!.postMessage(m));
