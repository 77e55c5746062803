// The self-contained file for a plain <script type="module"> (dist/wasm-attention.min.js): the whole API,
// heatmaps included, with both .wasm builds inside.
export * from './index.js';
export * from './heatmap.js';
