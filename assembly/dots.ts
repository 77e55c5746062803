// Dot products of query rows with rows of K read in place (a decode step's scores): four at a time, since each sum is
// one chain of dependent madds and four chains side by side keep the vector units busy where one waits on each madd's
// latency. Every dot product comes out bit for bit as dot1 gives it alone.
import { hsum, madd } from "./simd";

/** q·k over dk floats: four lanes of madds, their hsum, then the dk % 4 tail one product at a time. */
@inline export function dot1(q: usize, k: usize, dk: i32): f32 {
  const dk4 = dk & ~3;
  let acc = f32x4.splat(0);
  for (let c = 0; c < dk4; c += 4) acc = madd(v128.load(q + (<usize>c << 2)), v128.load(k + (<usize>c << 2)), acc);
  let s = hsum(acc);
  for (let c = dk4; c < dk; c++) s += load<f32>(q + (<usize>c << 2)) * load<f32>(k + (<usize>c << 2));
  return s;
}

/** Lane i: q·k_i for the four keys k0 + i·kRow (bytes), each as dot1 computes it. */
@inline export function dots4(q: usize, k0: usize, kRow: usize, dk: i32): v128 {
  const dk4 = dk & ~3;
  const k1 = k0 + kRow, k2 = k1 + kRow, k3 = k2 + kRow;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  for (let c = 0; c < dk4; c += 4) {
    const at = <usize>c << 2;
    const qv = v128.load(q + at);
    a0 = madd(qv, v128.load(k0 + at), a0);
    a1 = madd(qv, v128.load(k1 + at), a1);
    a2 = madd(qv, v128.load(k2 + at), a2);
    a3 = madd(qv, v128.load(k3 + at), a3);
  }
  let s = laneSums(a0, a1, a2, a3);
  for (let c = dk4; c < dk; c++) {
    const at = <usize>c << 2;
    const kc = f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(
      f32x4.splat(load<f32>(k0 + at)), 1, load<f32>(k1 + at)), 2, load<f32>(k2 + at)), 3, load<f32>(k3 + at));
    s = f32x4.add(s, f32x4.mul(f32x4.splat(load<f32>(q + at)), kc));
  }
  return s;
}

/** Lane i: q_i·k for the four query rows q0…q3, each as dot1 computes it; each of k's floats is loaded once. */
@inline export function dotsOfQueries(q0: usize, q1: usize, q2: usize, q3: usize, k: usize, dk: i32): v128 {
  const dk4 = dk & ~3;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  for (let c = 0; c < dk4; c += 4) {
    const at = <usize>c << 2;
    const kv = v128.load(k + at);
    a0 = madd(v128.load(q0 + at), kv, a0);
    a1 = madd(v128.load(q1 + at), kv, a1);
    a2 = madd(v128.load(q2 + at), kv, a2);
    a3 = madd(v128.load(q3 + at), kv, a3);
  }
  let s = laneSums(a0, a1, a2, a3);
  for (let c = dk4; c < dk; c++) {
    const at = <usize>c << 2;
    const qc = f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(
      f32x4.splat(load<f32>(q0 + at)), 1, load<f32>(q1 + at)), 2, load<f32>(q2 + at)), 3, load<f32>(q3 + at));
    s = f32x4.add(s, f32x4.mul(qc, f32x4.splat(load<f32>(k + at))));
  }
  return s;
}

/** Lane i: a_i's four lanes added as hsum adds them. */
@inline function laneSums(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const t0 = v128.shuffle<f32>(a0, a1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(a0, a1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(a2, a3, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(a2, a3, 2, 6, 3, 7);
  return f32x4.add(
    f32x4.add(v128.shuffle<f32>(t0, t2, 0, 1, 4, 5), v128.shuffle<f32>(t0, t2, 2, 3, 6, 7)),
    f32x4.add(v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), v128.shuffle<f32>(t1, t3, 2, 3, 6, 7)),
  );
}
