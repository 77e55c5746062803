// A worker_threads job: its own engine, one attention call, the output posted back.
import { parentPort, workerData } from 'node:worker_threads';
import { init, scaledDotProductAttention } from '../dist/index.js';

const { build, q, k, v, causal } = workerData;
const engine = await init({ build });
const results = [];
for (let i = 0; i < 20; i++) results.push(scaledDotProductAttention(q, k, v, { causal }).output.data);
parentPort.postMessage({ build: engine.info.build, output: results[results.length - 1], same: results.every((r) => r.every((x, j) => x === results[0][j])) });
