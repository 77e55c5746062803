import type { Plugin } from 'esbuild';

export declare const browserThreads: Plugin;
export declare const embeddedWasm: Plugin;
