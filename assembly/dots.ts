// Dot products of one query row with rows of K read in place (a decode step's scores): four keys at a time, since each
// key's sum is one chain of dependent madds and four chains side by side keep the vector units busy where one waits
// on each madd's latency. Every key's dot product comes out bit for bit as dot1 gives it alone.
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
  // Lane i: key i's four partial sums added as hsum adds them.
  const t0 = v128.shuffle<f32>(a0, a1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(a0, a1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(a2, a3, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(a2, a3, 2, 6, 3, 7);
  let s = f32x4.add(
    f32x4.add(v128.shuffle<f32>(t0, t2, 0, 1, 4, 5), v128.shuffle<f32>(t0, t2, 2, 3, 6, 7)),
    f32x4.add(v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), v128.shuffle<f32>(t1, t3, 2, 3, 6, 7)),
  );
  for (let c = dk4; c < dk; c++) {
    const at = <usize>c << 2;
    const kc = f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(
      f32x4.splat(load<f32>(k0 + at)), 1, load<f32>(k1 + at)), 2, load<f32>(k2 + at)), 3, load<f32>(k3 + at));
    s = f32x4.add(s, f32x4.mul(f32x4.splat(load<f32>(q + at)), kc));
  }
  return s;
}
