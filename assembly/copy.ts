// Copies between layouts: a step's new keys and values, from the projection's rows into the cache's heads.

/**
 * Appends t rows to each of items × heads blocks of maxLength rows of hd floats (a KV cache's heads: block (i, j) at
 * dst + (i·heads + j)·maxLength·hd floats), after their first `at` rows. Block (i, j)'s new rows are columns
 * [j·hd, (j + 1)·hd) of item i's t rows of heads·hd floats at src. The source and the blocks must not overlap.
 */
export function f32_append_rows(
  items: i32, heads: i32, t: i32, hd: i32, src: usize, dst: usize, maxLength: i32, at: i32,
): void {
  const rowBytes = <usize>hd << 2;
  const srcRow = <usize>heads * rowBytes;
  for (let i = 0; i < items; i++) {
    for (let j = 0; j < heads; j++) {
      let s = src + <usize>i * t * srcRow + <usize>j * rowBytes;
      let d = dst + ((<usize>i * heads + j) * maxLength + at) * rowBytes;
      for (let r = 0; r < t; r++) {
        memory.copy(d, s, rowBytes);
        s += srcRow;
        d += rowBytes;
      }
    }
  }
}
