// What a replica of the workers' pool does (src/runtime/threads/replica-pool.ts): its own instance of the engine's
// module over a memory of its own, laid out as the engine's. It takes async calls in order: copies in what the engine
// sent, runs the recorded steps, computes its share of every job (and chunks a slower replica has not started) and
// sends the rows it wrote to the other replicas (taking theirs before the next step), and the first replica sends back
// what the call leaves behind.
import { type Runs, jobWrites } from './kernel-regions.js';
import { DESC_FIELDS } from '../kernels.js';
import type { Step } from '../recording.js';
import { sendArray } from './result-arrays.js';
import {
  CONTROL_SLOTS,
  type Job,
  JOB,
  type JobKernels,
  playStep,
  runUnits,
  SLOT,
  unitsPerRowBlock,
} from './thread-jobs.js';

/** What a replica starts with: its module, its index among the replicas, the memory's maximum in pages. */
export interface ReplicaInit {
  readonly role: 'replica';
  readonly module: WebAssembly.Module;
  readonly index: number;
  readonly pages: number;
  /** Tests: ms this replica waits before each of its own chunks, so that its peers run out first and take some. */
  readonly slowForTests?: number;
}

/** An async call as a replica gets it: memory to copy in, the steps, how many replicas share its jobs. */
export interface ReplicaCall {
  readonly id: number;
  /** The engine's memory size: the replica grows to it. */
  readonly bytes: number;
  readonly runs: Runs;
  readonly data: ArrayBuffer[];
  readonly steps: readonly Step[];
  readonly replicas: number;
  /** What to send back (the first replica only). */
  readonly back?: Runs;
  /** Whether the last step's rows go to the engine from every replica rather than to the other replicas. */
  readonly final: boolean;
  /** Lengths of result arrays to make for the engine once no call is waiting (also sent alone, as `make`). */
  readonly arrays?: readonly number[];
}

/**
 * What replicas send one another during a call: a step's rows (runs, data), a request for chunks of a step's job
 * (steal), the chunks given in answer (given), or, with no step, that the sender failed in the call.
 */
interface PeerMessage {
  readonly id: number;
  readonly step?: number;
  readonly runs?: Runs;
  readonly data?: ArrayBuffer[];
  readonly steal?: true;
  readonly given?: Array<[number, number]>;
}

/**
 * Data moves between threads in buffers of this many bytes: one size, so that every buffer that arrives can carry the
 * next.
 */
const CHUNK = 1 << 18;

/**
 * Buffers that came in messages, kept to carry the next ones: a fresh buffer costs more than the copy into it (its
 * pages are faulted in), and buffers move between threads with every call.
 */
export class Spares {
  readonly #free: ArrayBuffer[] = [];

  take(): ArrayBuffer {
    return this.#free.pop() ?? new ArrayBuffer(CHUNK);
  }

  keep(buffers: readonly ArrayBuffer[] | undefined): void {
    for (const b of buffers ?? []) if (b.byteLength === CHUNK && this.#free.length < 64) this.#free.push(b);
  }

  /**
   * Spares past `over`, to hand to a thread that sends more than it gets (the engine sends every replica the inputs).
   */
  surplus(over: number): ArrayBuffer[] {
    return this.#free.splice(over);
  }
}

/** Walks `runs` of `memory` and the chunks that hold them back to back, calling `copy` for each piece. */
function walk(
  runs: Runs,
  chunk: (i: number) => ArrayBuffer,
  copy: (inMemory: number, buffer: ArrayBuffer, at: number, bytes: number) => void,
): void {
  let [c, at] = [0, 0];
  for (let i = 0; i < runs.length; i += 2) {
    for (let [p, n] = [runs[i], runs[i + 1]]; n > 0;) {
      if (at === CHUNK) [c, at] = [c + 1, 0];
      const k = Math.min(n, CHUNK - at);
      copy(p, chunk(c), at, k);
      [p, n, at] = [p + k, n - k, at + k];
    }
  }
}

/** Copies of `runs` of `memory`, back to back, in buffers from `spares`. */
export function gather(memory: ArrayBuffer, runs: Runs, spares: Spares): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const from = new Uint8Array(memory);
  walk(
    runs,
    (c) => (out[c] ??= spares.take()),
    (p, buffer, at, k) => new Uint8Array(buffer, at, k).set(from.subarray(p, p + k)),
  );
  return out;
}

/** Writes what gather() took back into `memory`, run by run. */
export function scatter(memory: ArrayBuffer, runs: Runs, data: readonly ArrayBuffer[]): void {
  const to = new Uint8Array(memory);
  walk(
    runs,
    (c) => data[c],
    (p, buffer, at, k) => to.set(new Uint8Array(buffer, at, k), p),
  );
}

/**
 * Chunks of a job's units this replica starts with: every replicas-th group of `group` chunks, so causal rows fall
 * evenly.
 */
export function* share(
  total: number,
  chunk: number,
  index: number,
  replicas: number,
  group = 1,
): Generator<[number, number]> {
  for (let g = index; g * group * chunk < total; g += replicas) {
    for (let c = g * group; c < (g + 1) * group && c * chunk < total; c++) {
      yield [c * chunk, Math.min(total, (c + 1) * chunk)];
    }
  }
}

/**
 * Chunks that run as one: a prepacked GEMM's units of one block of rows (its column blocks), which then pack those rows
 * of A once, as a thread of the shared-memory pool does with the units it claims at once.
 */
function groupOf(job: Job): number {
  const [kind, , , , , , ...a] = job;
  return kind === JOB.gemmPrepacked ? unitsPerRowBlock((i) => a[i]) : 1;
}

/**
 * The next run of units from `left` (this replica's chunks not started, in order): its first chunk and those right
 * after it of the same group that no peer has taken, removed from `left`.
 */
export function nextRun(left: Array<[number, number]>, chunk: number, group: number): [number, number] | undefined {
  const first = left.shift();
  if (!first) return undefined;
  let end = first[1];
  const g = Math.floor(first[0] / chunk / group);
  while (left.length > 0 && left[0][0] === end && Math.floor(end / chunk / group) === g) end = left.shift()![1];
  return [first[0], end];
}

/** A job as this replica computes it: `run` computes a chunk of units [begin, end) and notes where it wrote. */
function jobRunner(
  kernels: JobKernels,
  ctl: Int32Array,
  memory: WebAssembly.Memory,
  job: Job,
): { runs: Runs; run(chunk: readonly [number, number]): void } {
  const [kind, , , scratch, , , ...args] = job;
  ctl.set(args, SLOT.args);
  ctl[SLOT.kind] = kind;
  const runs: Runs = [];
  const desc = (ptr: number) => new Int32Array(memory.buffer, ptr, DESC_FIELDS);
  return {
    runs,
    run: ([begin, end]) => {
      runUnits(kernels, ctl, begin, end, scratch >>> 0);
      jobWrites(runs, job, begin, end, desc);
    },
  };
}

/**
 * Runs one recorded step over `memory` on one thread: a kernel, or every unit of a job; returns where a job wrote. A
 * job's units run a chunk at a time, as a thread claims them: its scratch holds what a chunk needs, not all of them.
 */
export function runStep(kernels: JobKernels, ctl: Int32Array, memory: WebAssembly.Memory, s: Step): Runs | undefined {
  return playStep(kernels, memory, s, (job) => {
    const r = jobRunner(kernels, ctl, memory, job);
    for (const chunk of share(job[1], job[2], 0, 1)) r.run(chunk);
    return r.runs;
  });
}

/**
 * A turn of this thread's event loop, so that the messages already in are handled first: Node's setImmediate runs
 * after them (a message on a channel of one's own may come before them there); a browser's Worker, which has no
 * setImmediate, takes messages in the order they came.
 */
function eventLoopTurn(): () => Promise<void> {
  if (typeof setImmediate === 'function') return () => new Promise((r) => setImmediate(r));
  const tick = new MessageChannel();
  let resume: (() => void) | undefined;
  tick.port1.onmessage = () => resume?.();
  return () => new Promise((r) => ((resume = r), tick.port2.postMessage(0)));
}

/** Runs the replica: calls from the pool through `listen`, answers through `post`; peers' ports come first. */
export function replicaBody(
  init: ReplicaInit,
  listen: (handler: (data: unknown) => void) => void,
  post: (message: unknown, transfer?: Transferable[]) => void,
): void {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: init.pages });
  const kernels = new WebAssembly.Instance(init.module, { env: { memory } }).exports as unknown as JobKernels;
  const ctl = new Int32Array(CONTROL_SLOTS);
  const spares = new Spares();
  // The other replicas' ports.
  let peers: MessagePort[] = [];
  // What peers sent, by call and step; calls a peer failed in; the step waiting for peers.
  const inbox = new Map<string, PeerMessage[]>();
  const failed = new Set<number>();
  let wake: (() => void) | undefined;
  // The chunks of the job in progress this replica has not started: a peer that has run out takes the later half.
  let running: { id: number; step: number; left: Array<[number, number]> } | undefined;
  // The peers that asked for chunks of a step, by call and step: they have none left to give, so are not asked.
  const asked = new Map<string, Set<MessagePort>>();
  const deliver = (m: PeerMessage, from: MessagePort) => {
    if (m.steal) {
      const key = `${m.id}:${m.step}`;
      asked.set(key, (asked.get(key) ?? new Set()).add(from));
      const left = running?.id === m.id && running.step === m.step ? running.left : [];
      from.postMessage({ id: m.id, step: m.step, given: left.splice(Math.floor(left.length / 2)) });
      return;
    }
    if (m.step === undefined) failed.add(m.id);
    else {
      const key = `${m.id}:${m.step}${m.given ? ':given' : ''}`;
      inbox.set(key, [...(inbox.get(key) ?? []), m]);
    }
    wake?.();
  };
  const fromPeers = async (id: number, key: string, count: number) => {
    while ((inbox.get(key)?.length ?? 0) < count) {
      if (failed.has(id)) throw new Error('another worker failed in this call');
      await new Promise<void>((w) => (wake = w));
    }
    const got = inbox.get(key)!;
    inbox.delete(key);
    return got;
  };
  const turn = eventLoopTurn();
  // Units this replica took from its peers in the call in progress (calls run one at a time).
  let stolen = 0;

  /**
   * Step n's job: this replica's chunks (every replicas-th), then, once they are done, the chunks its peers have not
   * started and give up. A replica on a core that runs slow for a while (a busy host, a shared CPU) then holds the
   * others up by at most a chunk; every unit is computed the same way whoever takes it.
   */
  async function work(id: number, n: number, job: Job, replicas: number): Promise<Runs> {
    const r = jobRunner(kernels, ctl, memory, job);
    const group = groupOf(job);
    const mine = { id, step: n, left: [...share(job[1], job[2], init.index, replicas, group)] };
    running = mine;
    try {
      for (let c, lastTurn = performance.now(); (c = nextRun(mine.left, job[2], group));) {
        if (init.slowForTests) await new Promise((w) => setTimeout(w, init.slowForTests));
        r.run(c);
        // A turn costs tens of µs: at most one a ms.
        if (mine.left.length > 0 && peers.length > 0 && performance.now() - lastTurn > 1) {
          await turn();
          lastTurn = performance.now();
        }
      }
    } finally {
      running = undefined;
    }
    if (peers.length === 0) return r.runs;
    // Requests that came during the last chunk are heard (and answered: nothing) before asking those peers in turn.
    await turn();
    const busy = peers.filter((p) => !asked.get(`${id}:${n}`)?.has(p));
    if (busy.length === 0) return r.runs;
    for (const p of busy) p.postMessage({ id, step: n, steal: true });
    for (const m of await fromPeers(id, `${id}:${n}:given`, busy.length)) {
      for (const c of m.given!) {
        r.run(c);
        stolen += c[1] - c[0];
      }
    }
    return r.runs;
  }

  async function run(call: ReplicaCall): Promise<void> {
    const { id, steps, replicas } = call;
    stolen = 0;
    // Earlier calls' requests are of no more use.
    for (const key of asked.keys()) if (Number(key.split(':')[0]) < id) asked.delete(key);
    const grow = call.bytes - memory.buffer.byteLength;
    if (grow > 0) memory.grow(grow / 65536);
    scatter(memory.buffer, call.runs, call.data);
    spares.keep(call.data);
    let final: { runs: Runs; data: ArrayBuffer[] } | undefined;
    for (const [n, s] of steps.entries()) {
      const job = playStep(kernels, memory, s, (j) => j);
      if (!job) continue;
      const runs = await work(id, n, job, replicas);
      if (replicas < 2) continue;
      const data = gather(memory.buffer, runs, spares);
      // The last step's rows are read by no other step: they go to the engine, not to the other replicas.
      if (call.final && n === steps.length - 1) {
        final = { runs, data };
        break;
      }
      for (const p of peers) p.postMessage({ id, step: n, runs, data }, peers.length === 1 ? data : []);
      if (peers.length > 1) spares.keep(data);
      for (const m of await fromPeers(id, `${id}:${n}`, replicas - 1)) {
        scatter(memory.buffer, m.runs!, m.data!);
        spares.keep(m.data);
      }
    }
    // The first replica answers for all (its rows of a last job aside, which every replica sends itself).
    const back = call.back && gather(memory.buffer, call.back, spares);
    // Spare buffers go back with the answer: the engine sends every replica the inputs and gets less back.
    const gift = spares.surplus(16);
    if (back || final) post({ id, back, final, gift, stolen }, [...(back ?? []), ...(final?.data ?? []), ...gift]);
    else spares.keep(gift);
  }

  // Result arrays the engine asked for, and the calls queued or running: the arrays wait for those.
  const toMake: number[] = [];
  let calls = 0;
  const makeArrays = async () => {
    while (toMake.length > 0) {
      // Calls already sent are heard first.
      await turn();
      if (calls > 0) return;
      sendArray(toMake.shift()!, (made, transfer) => post({ made }, transfer));
    }
  };
  let queue = Promise.resolve();
  const enqueue = (m: ReplicaCall) => {
    calls++;
    queue = queue
      .then(() =>
        run(m).catch((e: unknown) => {
          // Peers waiting for this replica's rows stop waiting; the pool ends every replica and starts afresh.
          for (const p of peers) p.postMessage({ id: m.id });
          post({ id: m.id, error: e instanceof Error ? e.message : String(e) });
        }),
      )
      .then(() => {
        calls--;
        toMake.push(...(m.arrays ?? []));
        return makeArrays();
      });
  };
  listen((message) => {
    const m = message as { peers?: Array<MessagePort | undefined>; make?: number[] } & ReplicaCall;
    if (m.make) {
      toMake.push(...m.make);
      queue = queue.then(makeArrays);
      return;
    }
    if (!m.peers) return enqueue(m);
    peers = m.peers.filter((p) => p !== undefined);
    for (const p of peers) p.onmessage = (e: MessageEvent) => deliver(e.data, p);
  });
  post({ ready: true });
}
