// What a replica of the workers' pool does (src/replica-pool.ts): its own instance of the engine's module over a
// memory of its own, laid out as the engine's. It takes async calls in order: copies in what the engine sent,
// runs the recorded steps, computes its share of every job and sends the rows it wrote to the other replicas (taking
// theirs before the next step), and the first replica sends back what the call leaves behind.
import { type Runs, jobWrites } from './kernel-regions.js';
import { DESC_FIELDS } from './kernels.js';
import type { Step } from './recording.js';
import { CONTROL_SLOTS, type JobKernels, runUnits, SLOT } from './thread-jobs.js';

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
  readonly data: ArrayBuffer;
  readonly steps: readonly Step[];
  readonly replicas: number;
  /** What to send back (the first replica only). */
  readonly back?: Runs;
}

/** Copies of `runs` of `memory`, back to back. */
export function gather(memory: ArrayBuffer, runs: Runs): ArrayBuffer {
  let total = 0;
  for (let i = 1; i < runs.length; i += 2) total += runs[i];
  const out = new Uint8Array(total);
  const from = new Uint8Array(memory);
  for (let i = 0, at = 0; i < runs.length; at += runs[i + 1], i += 2) out.set(from.subarray(runs[i], runs[i] + runs[i + 1]), at);
  return out.buffer;
}

/** Writes what gather() took back into `memory`, run by run. */
export function scatter(memory: ArrayBuffer, runs: Runs, data: ArrayBuffer): void {
  const to = new Uint8Array(memory);
  for (let i = 0, at = 0; i < runs.length; at += runs[i + 1], i += 2) to.set(new Uint8Array(data, at, runs[i + 1]), runs[i]);
}

/** Chunks of a job's units this replica computes: every replicas-th chunk, so causal rows fall evenly. */
function* share(total: number, chunk: number, index: number, replicas: number): Generator<[number, number]> {
  for (let c = index; c * chunk < total; c += replicas) yield [c * chunk, Math.min(total, (c + 1) * chunk)];
}

/** Runs the replica: calls from the pool through `listen`, answers through `post`; peers' ports come first. */
export function replicaBody(init: ReplicaInit, listen: (handler: (data: unknown) => void) => void, post: (message: unknown, transfer?: Transferable[]) => void): void {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: init.pages });
  const kernels = new WebAssembly.Instance(init.module, { env: { memory } }).exports as unknown as JobKernels & Record<string, (...a: number[]) => void>;
  const ctl = new Int32Array(CONTROL_SLOTS);
  let peers: Array<MessagePort | undefined> = [];
  // What peers sent, by call and step; calls a peer failed in; the step waiting for peers.
  const inbox = new Map<string, Array<{ runs: Runs; data: ArrayBuffer }>>();
  const failed = new Set<number>();
  let wake: (() => void) | undefined;
  const deliver = (m: { id: number; step?: number; runs: Runs; data: ArrayBuffer }) => {
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
  const desc = (ptr: number) => new Int32Array(memory.buffer, ptr, DESC_FIELDS);

  async function run(call: ReplicaCall): Promise<void> {
    const { id, steps, replicas } = call;
    const grow = call.bytes - memory.buffer.byteLength;
    if (grow > 0) memory.grow(grow / 65536);
    scatter(memory.buffer, call.runs, call.data);
    for (const [n, s] of steps.entries()) {
      if (s.desc) new Int32Array(memory.buffer).set(s.desc[1], s.desc[0] >>> 2);
      if (!('job' in s)) {
        kernels[s.kernel](...s.args);
        continue;
      }
      const [kind, total, chunk, scratch, , , ...args] = s.job;
      ctl.set(args, SLOT.args);
      ctl[SLOT.kind] = kind;
      const runs: Runs = [];
      for (const [begin, end] of share(total, chunk, init.index, replicas)) {
        runUnits(kernels, ctl, begin, end, scratch >>> 0);
        jobWrites(runs, s.job, begin, end, desc);
      }
      if (replicas < 2) continue;
      const data = gather(memory.buffer, runs);
      for (const p of peers) p?.postMessage({ id, step: n, runs, data });
      for (const m of await fromPeers(id, n, replicas - 1)) scatter(memory.buffer, m.runs, m.data);
    }
    // The first replica answers for all: it has every job's rows once its last exchange is done.
    if (call.back) {
      const back = gather(memory.buffer, call.back);
      post({ id, back }, [back]);
    }
  }

  let queue = Promise.resolve();
  listen((message) => {
    const m = message as { peers?: MessagePort[] } & ReplicaCall;
    if (m.peers) {
      peers = m.peers;
      for (const p of peers) if (p) p.onmessage = (e: MessageEvent) => deliver(e.data);
      return;
    }
    queue = queue.then(() =>
      run(m).catch((e: unknown) => {
        // Peers waiting for this replica's rows stop waiting; the pool ends every replica and starts afresh.
        for (const p of peers) p?.postMessage({ id: m.id });
        post({ id: m.id, error: e instanceof Error ? e.message : String(e) });
      }),
    );
  });
  post({ ready: true });
}
