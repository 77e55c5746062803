// The result arrays a pool makes ahead (src/runtime/threads/result-arrays.ts), both parts on this thread: what the
// calling thread asks for, a helper's making of it, and what the calling thread gives out.
import { receiveMessageOnPort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  HELPER_ARRAY_FLOATS,
  MAX_HELPER_ARRAY_FLOATS,
  askRing,
  ResultArrays,
  arrayServer,
} from '../src/runtime/threads/result-arrays.js';
import { ARRAY_RING, CONTROL_SLOTS, SLOT } from '../src/runtime/threads/thread-jobs.js';

const receive = (port: MessagePort) => receiveMessageOnPort(port as never);

function setUp() {
  const ctl = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * 4));
  // A helper counts itself awake: asking then wakes nobody.
  ctl[SLOT.awake] = 1;
  const arrays: ResultArrays = new ResultArrays(
    askRing(ctl, () => arrays.channels > 0),
    receive,
  );
  return { ctl, arrays, port: arrays.channel() };
}

describe('result arrays made ahead', () => {
  it('a read asks a helper for the next array of its length; the helper makes it, touched, and the next read takes it', () => {
    const { ctl, arrays, port } = setUp();
    const n = HELPER_ARRAY_FLOATS + 3;
    expect(arrays.take(n), 'nothing made yet').toBeUndefined();
    expect(Atomics.load(ctl, SLOT.arraysAsked)).toBe(1);
    // Asked once until it comes.
    expect(arrays.take(n)).toBeUndefined();
    expect(Atomics.load(ctl, SLOT.arraysAsked)).toBe(1);
    expect(arrayServer(ctl, port)()).toBe(true);
    expect(arrayServer(ctl, port)(), 'nothing left to make').toBe(false);
    const a = arrays.take(n)!;
    expect(a).toBeInstanceOf(Float32Array);
    expect(a.length).toBe(n);
    expect(a.every((x) => x === 0)).toBe(true);
    expect(arrays.fromHelpers).toBe(1);
    // Given out once: the next read of that length finds none, and asks again.
    expect(arrays.take(n)).toBeUndefined();
    expect(Atomics.load(ctl, SLOT.arraysAsked)).toBe(2);
    arrays.clear();
  });

  it('small and very large results are not asked for; the ring never overruns what helpers have taken', () => {
    const { ctl, arrays, port } = setUp();
    arrays.take(HELPER_ARRAY_FLOATS - 1);
    arrays.take(MAX_HELPER_ARRAY_FLOATS + 1);
    expect(Atomics.load(ctl, SLOT.arraysAsked)).toBe(0);
    for (let i = 0; i < ARRAY_RING + 3; i++) arrays.take(HELPER_ARRAY_FLOATS + i);
    expect(Atomics.load(ctl, SLOT.arraysAsked)).toBe(ARRAY_RING);
    arrayServer(ctl, port)();
    expect(Atomics.load(ctl, SLOT.arraysTaken)).toBe(ARRAY_RING);
    arrays.clear();
  });

  it('a helper that cannot make an array says so with a number and goes on; nothing is given out for it', () => {
    const { ctl, arrays, port } = setUp();
    arrays.take(HELPER_ARRAY_FLOATS);
    // A length no Float32Array can have: the helper's allocation throws.
    ctl[SLOT.arrayLengths] = -1;
    expect(arrayServer(ctl, port)()).toBe(true);
    expect(arrays.take(HELPER_ARRAY_FLOATS)).toBeUndefined();
    expect(arrays.fromHelpers).toBe(0);
    arrays.clear();
  });

  it('at a call’s first job the calling thread makes what no helper brings, and not what one is bringing', () => {
    const { ctl, arrays, port } = setUp();
    const [big, small] = [HELPER_ARRAY_FLOATS * 2, 100];
    arrays.take(big);
    arrays.take(small);
    // The helper has not made `big` yet: it is coming, and only `small` is made here.
    arrays.makeAhead();
    const s = arrays.take(small)!;
    expect(s.length).toBe(small);
    arrayServer(ctl, port)();
    expect(arrays.take(big)!.length).toBe(big);
    expect(arrays.fromHelpers).toBe(1);
    arrays.clear();
  });

  it('where the calling thread cannot take a message at once (a page), arrays come when its event loop turns, and until then it makes its own', async () => {
    const ctl = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * 4));
    ctl[SLOT.awake] = 1;
    const arrays: ResultArrays = new ResultArrays(
      askRing(ctl, () => arrays.channels > 0),
      undefined,
    );
    const port = arrays.channel();
    const n = HELPER_ARRAY_FLOATS;
    arrays.take(n);
    arrayServer(ctl, port)();
    // Asked and made, but not here yet: the call's first job makes one here, and the read takes that.
    arrays.makeAhead();
    expect(arrays.take(n)?.length).toBe(n);
    expect(arrays.fromHelpers).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(arrays.take(n)?.length, 'the helper’s array, come meanwhile').toBe(n);
    expect(arrays.fromHelpers).toBe(1);
    arrays.clear();
  });

  it('a helper that ends takes what it was asked with it: nothing counts as coming', () => {
    const { ctl, arrays, port } = setUp();
    const n = HELPER_ARRAY_FLOATS;
    arrays.take(n);
    arrays.forget(port);
    expect(arrays.take(n)).toBeUndefined();
    expect(Atomics.load(ctl, SLOT.arraysAsked), 'no helper left to ask').toBe(1);
    const p2 = arrays.channel();
    arrays.take(n);
    expect(Atomics.load(ctl, SLOT.arraysAsked)).toBe(2);
    // The request the ended helper never took is served by the next one, and comes in.
    arrayServer(ctl, p2)();
    expect(arrays.take(n)?.length).toBe(n);
    arrays.clear();
  });
});
