// What a replica of the workers' pool does (src/replica-pool.ts): its own instance of the engine's module over a
// memory of its own, laid out as the engine's. It takes async calls in order: copies in what the engine sent,
// runs the recorded steps, computes its share of every job and sends the rows it wrote to the other replicas (taking
// theirs before the next step), and the first replica sends back what the call leaves behind.
import { type Runs, jobWrites } from './kernel-regions.js';
import { DESC_FIELDS } from './kernels.js';
import type { Step } from './recording.js';
import { CONTROL_SLOTS, type JobKernels, playStep, runUnits, SLOT } from './thread-jobs.js';

/** What a replica starts with: its module, its index among the replicas, the memory's maximum in pages. */
export interface ReplicaInit {
  readonly role: 'replica';
  readonly module: WebAssembly.Module;
  readonly index: number;
  readonly pages: number;
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

/** Chunks of a job's units this replica computes: every replicas-th chunk, so causal rows fall evenly. */
function* share(total: number, chunk: number, index: number, replicas: number): Generator<[number, number]> {
  for (let c = index; c * chunk < total; c += replicas) yield [c * chunk, Math.min(total, (c + 1) * chunk)];
}

/**
 * Runs one recorded step over `memory`: a kernel (every replica runs it whole), or the chunks of a job that are this
 * replica's (`index` of `replicas`); returns where those chunks wrote, for a job.
 */
export function runStep(
  kernels: JobKernels,
  ctl: Int32Array,
  memory: WebAssembly.Memory,
  s: Step,
  index: number,
  replicas: number,
): Runs | undefined {
  return playStep(kernels, memory, s, (job) => {
    const [kind, total, chunk, scratch, , , ...args] = job;
    ctl.set(args, SLOT.args);
    ctl[SLOT.kind] = kind;
    const runs: Runs = [];
    const desc = (ptr: number) => new Int32Array(memory.buffer, ptr, DESC_FIELDS);
    for (const [begin, end] of share(total, chunk, index, replicas)) {
      runUnits(kernels, ctl, begin, end, scratch >>> 0);
      jobWrites(runs, job, begin, end, desc);
    }
    return runs;
  });
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
  let peers: Array<MessagePort | undefined> = [];
  // What peers sent, by call and step; calls a peer failed in; the step waiting for peers.
  const inbox = new Map<string, Array<{ runs: Runs; data: ArrayBuffer[] }>>();
  const failed = new Set<number>();
  let wake: (() => void) | undefined;
  const deliver = (m: { id: number; step?: number; runs: Runs; data: ArrayBuffer[] }) => {
    if (m.step === undefined) failed.add(m.id);
    else {
      const key = `${m.id}:${m.step}`;
      inbox.set(key, [...(inbox.get(key) ?? []), m]);
    }
    wake?.();
  };
  const fromPeers = async (id: number, step: number, count: number) => {
    const key = `${id}:${step}`;
    while ((inbox.get(key)?.length ?? 0) < count) {
      if (failed.has(id)) throw new Error('another worker failed in this call');
      await new Promise<void>((w) => (wake = w));
    }
    const got = inbox.get(key)!;
    inbox.delete(key);
    return got;
  };

  async function run(call: ReplicaCall): Promise<void> {
    const { id, steps, replicas } = call;
    const grow = call.bytes - memory.buffer.byteLength;
    if (grow > 0) memory.grow(grow / 65536);
    scatter(memory.buffer, call.runs, call.data);
    spares.keep(call.data);
    let final: { runs: Runs; data: ArrayBuffer[] } | undefined;
    for (const [n, s] of steps.entries()) {
      const runs = runStep(kernels, ctl, memory, s, init.index, replicas);
      if (!runs || replicas < 2) continue;
      const data = gather(memory.buffer, runs, spares);
      // The last step's rows are read by no other step: they go to the engine, not to the other replicas.
      if (call.final && n === steps.length - 1) {
        final = { runs, data };
        break;
      }
      const live = peers.filter(Boolean) as MessagePort[];
      for (const p of live) p.postMessage({ id, step: n, runs, data }, live.length === 1 ? data : []);
      if (live.length > 1) spares.keep(data);
      for (const m of await fromPeers(id, n, replicas - 1)) {
        scatter(memory.buffer, m.runs, m.data);
        spares.keep(m.data);
      }
    }
    // The first replica answers for all (its rows of a last job aside, which every replica sends itself).
    const back = call.back && gather(memory.buffer, call.back, spares);
    // Spare buffers go back with the answer: the engine sends every replica the inputs and gets less back.
    const gift = spares.surplus(16);
    if (back || final) post({ id, back, final, gift }, [...(back ?? []), ...(final?.data ?? []), ...gift]);
    else spares.keep(gift);
  }

  let queue = Promise.resolve();
  const enqueue = (m: ReplicaCall) => {
    queue = queue.then(() =>
      run(m).catch((e: unknown) => {
        // Peers waiting for this replica's rows stop waiting; the pool ends every replica and starts afresh.
        for (const p of peers) p?.postMessage({ id: m.id });
        post({ id: m.id, error: e instanceof Error ? e.message : String(e) });
      }),
    );
  };
  listen((message) => {
    const m = message as { peers?: MessagePort[] } & ReplicaCall;
    if (!m.peers) return enqueue(m);
    peers = m.peers;
    for (const p of peers) if (p) p.onmessage = (e: MessageEvent) => deliver(e.data);
  });
  post({ ready: true });
}
