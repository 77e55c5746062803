import type { Server } from 'node:http';
export declare const CSP: string;
export declare function serve(dir: string, port?: number): Promise<{ url: string; server: Server }>;
