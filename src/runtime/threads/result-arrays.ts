// The new arrays a call's results are copied into, made before the call reads them. The first touch of a new array's
// pages costs many times the copy into it (`node --import tsx bench/result-arrays.ts`: 30–50× on this VM), so the pool
// makes arrays of the lengths calls have lately read: another thread, when it has nothing to compute, makes and touches
// them and hands them over (a transfer moves the pages, in place, to the calling thread). The shared-memory pool asks
// its helpers through the control block (askRing), and its calling thread makes the lengths no helper brings in time
// while its helpers start on a sync call's first job; in worker mode the last replica is asked
// (src/runtime/threads/replica-pool.ts). Every array is given out once and filled whole: only where its pages are
// touched changes.
import { touchPages } from '../recording.js';
import { ARRAY_RING, SLOT } from './thread-jobs.js';

/**
 * Results from this many floats (64 KiB) to MAX_HELPER_ARRAY_FLOATS (4 MiB) are asked of the helpers. Smaller ones
 * cost less to touch than a message; larger ones would sit made between calls (a few are kept, at most 16 MiB then),
 * and the calling thread makes those itself, during the call.
 */
export const HELPER_ARRAY_FLOATS = 1 << 14;
export const MAX_HELPER_ARRAY_FLOATS = 1 << 20;

/** Arrays kept ready (a call reads at most two today: output and weights). */
const KEPT = 4;

/** A sync receive of the next message on a port (Node's receiveMessageOnPort); where there is none, ports listen. */
export type Receive = (port: MessagePort) => { message: unknown } | undefined;

/**
 * Makes an array of `length`, touches its pages and sends its buffer (transferred); a length it cannot make is sent
 * back as that number.
 */
export function sendArray(length: number, send: (data: ArrayBuffer | number, transfer?: Transferable[]) => void): void {
  let a: Float32Array<ArrayBuffer>;
  try {
    a = new Float32Array(length);
    touchPages(a);
  } catch {
    return send(length);
  }
  send(a.buffer, [a.buffer]);
}

/**
 * A helper's part: a function that makes an array for each length asked and not yet taken by another helper, sends
 * it over `port` and returns whether it made any. A helper calls it on every turn of its spin, so it allocates nothing
 * while nothing is asked (a closure made inside it gave each call a context on the heap: a minor garbage collection
 * every few ms of spinning, which made the helper start jobs late).
 */
export function arrayServer(ctl: Int32Array, port: MessagePort): () => boolean {
  const send = (data: ArrayBuffer | number, transfer?: Transferable[]) => port.postMessage(data, transfer ?? []);
  return () => {
    let made = false;
    for (let taken; (taken = Atomics.load(ctl, SLOT.arraysTaken)) < Atomics.load(ctl, SLOT.arraysAsked);) {
      if (Atomics.compareExchange(ctl, SLOT.arraysTaken, taken, taken + 1) !== taken) continue;
      sendArray(ctl[SLOT.arrayLengths + (taken % ARRAY_RING)], send);
      made = true;
    }
    return made;
  };
}

/** Asks a thread to make an array of `length`; says whether it asked (false: none can be asked now). */
export type Ask = (length: number) => boolean;

/**
 * The shared-memory pool's asking, while `helpers()` says it has any: a ring of lengths in the control block, which
 * they serve between jobs (arrayServer).
 */
export function askRing(ctl: Int32Array, helpers: () => boolean): Ask {
  return (length) => {
    const asked = Atomics.load(ctl, SLOT.arraysAsked);
    if (!helpers() || asked - Atomics.load(ctl, SLOT.arraysTaken) >= ARRAY_RING) return false;
    ctl[SLOT.arrayLengths + (asked % ARRAY_RING)] = length;
    Atomics.store(ctl, SLOT.arraysAsked, asked + 1);
    // A helper that spins sees it; when every one sleeps, one is woken (it finds no job open and serves it).
    if (Atomics.load(ctl, SLOT.awake) === 0) Atomics.notify(ctl, SLOT.epoch, 1);
    return true;
  };
}

/** The calling thread's part: the arrays ready, those asked of other threads, and the lengths calls read. */
export class ResultArrays {
  readonly #ready: Float32Array[] = [];
  readonly #madeByHelpers = new WeakSet<Float32Array>();
  /** Arrays asked of the helpers and not yet here, by length. */
  readonly #asked = new Map<number, number>();
  /** The calling thread's end of each helper's channel, by the helper's end. */
  readonly #ports = new Map<MessagePort, MessagePort>();
  /** Lengths read since the last call's first job. */
  #lastReads: number[] = [];
  /** Arrays helpers made that a read gave out (tests and benchmarks read it). */
  fromHelpers = 0;

  constructor(
    private readonly ask: Ask,
    private readonly receive: Receive | undefined,
  ) {}

  /** The helpers' channels open (see channel). */
  get channels(): number {
    return this.#ports.size;
  }

  /** A channel for a new helper: its end, to send with the helper's init. */
  channel(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    this.#ports.set(port2, port1);
    // Node takes messages at once and needs no listener (which would keep the process alive).
    if (!this.receive) port1.onmessage = (e) => this.accept(e.data as ArrayBuffer | number);
    return port2;
  }

  /** A helper has ended with its channel (`theirs`): what it was asked for will not come. */
  forget(theirs: MessagePort): void {
    this.#ports.get(theirs)?.close();
    if (this.#ports.delete(theirs)) this.lost();
  }

  /** What was asked will not come (the threads asked have ended). */
  lost(): void {
    this.#asked.clear();
  }

  /** An array a thread made (its buffer), or the length it could not make. */
  accept(data: ArrayBuffer | number): void {
    const length = typeof data === 'number' ? data : data.byteLength / 4;
    const asked = this.#asked.get(length) ?? 0;
    if (asked > 1) this.#asked.set(length, asked - 1);
    else this.#asked.delete(length);
    if (typeof data === 'number') return;
    const a = new Float32Array(data);
    this.#madeByHelpers.add(a);
    this.#keep(a);
  }

  /** Ready for a read; the oldest goes where more than KEPT are. */
  #keep(a: Float32Array): void {
    if (this.#ready.push(a) > KEPT) this.#ready.shift();
  }

  #drain(): void {
    if (!this.receive) return;
    for (const port of this.#ports.values()) {
      for (let m; (m = this.receive(port));) this.accept(m.message as ArrayBuffer | number);
    }
  }

  /** Whether an array of `length` is ready or, where the calling thread can take it at once, coming. */
  #coming(length: number, ready: Float32Array[]): boolean {
    const i = ready.findIndex((a) => a.length === length);
    if (i >= 0) return ready.splice(i, 1).length > 0;
    return this.receive !== undefined && (this.#asked.get(length) ?? 0) > 0;
  }

  /**
   * At a call's first job, while the helpers start on it: arrays for the lengths last read that are neither ready nor
   * coming from a helper, made and touched here.
   */
  makeAhead(): void {
    if (this.#lastReads.length === 0) return;
    this.#drain();
    const lengths = this.#lastReads;
    this.#lastReads = [];
    const ready = [...this.#ready];
    try {
      for (const n of lengths) {
        if (this.#coming(n, ready)) continue;
        const a = new Float32Array(n);
        touchPages(a);
        this.#keep(a);
      }
    } catch {
      // Out of memory for an array ahead: the read makes it itself, and fails there if it must.
    }
  }

  /**
   * An array of `length` for a read, if one is ready; the helpers are asked for the next of that length (a loop's
   * calls repeat their shapes).
   */
  take(length: number): Float32Array | undefined {
    this.#drain();
    // The last few lengths only: calls too small to share (no job) would otherwise pile them up.
    if (this.#lastReads.push(length) > KEPT) this.#lastReads.shift();
    const i = this.#ready.findIndex((a) => a.length === length);
    const out = i < 0 ? undefined : this.#ready.splice(i, 1)[0];
    if (out && this.#madeByHelpers.has(out)) this.fromHelpers++;
    this.#ask(length);
    return out;
  }

  #ask(length: number): void {
    if (length < HELPER_ARRAY_FLOATS || length > MAX_HELPER_ARRAY_FLOATS) return;
    if (this.#ready.some((a) => a.length === length) || this.#asked.has(length)) return;
    if (this.ask(length)) this.#asked.set(length, 1);
  }

  /** Nothing ready or asked any more (the pool's threads have ended). */
  clear(): void {
    this.#ready.length = 0;
    this.#lastReads = [];
    this.#asked.clear();
    for (const port of this.#ports.values()) port.close();
    this.#ports.clear();
  }
}
