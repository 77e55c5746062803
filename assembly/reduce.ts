// Reductions across whole matrices.

/**
 * For each of `batch` items: dst = the mean of `count` consecutive blocks of n floats at src (item b's
 * blocks start at src + b·count·n floats; its mean goes to dst + b·n). Averages per-head attention weights.
 */
export function f32_mean_blocks(batch: i32, count: i32, n: i32, src: usize, dst: usize): void {
  const inv = f32x4.splat(<f32>1.0 / <f32>count);
  const blockBytes = <usize>n << 2;
  for (let b = 0; b < batch; b++) {
    const s0 = src + <usize>b * <usize>count * blockBytes;
    const d = dst + <usize>b * blockBytes;
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      let acc = f32x4.splat(0);
      for (let c = 0; c < count; c++) acc = f32x4.add(acc, v128.load(s0 + <usize>c * blockBytes + (<usize>i << 2)));
      v128.store(d + (<usize>i << 2), f32x4.mul(acc, inv));
    }
    for (; i < n; i++) {
      let acc: f32 = 0;
      for (let c = 0; c < count; c++) acc += load<f32>(s0 + <usize>c * blockBytes + (<usize>i << 2));
      store<f32>(d + (<usize>i << 2), acc * f32x4.extract_lane(inv, 0));
    }
  }
}
