import type { Server } from 'node:http';
export declare const CSP: string;
export declare const ISOLATION: Record<string, string>;
export declare function serve(
  dir: string,
  port?: number,
  options?: { isolated?: boolean },
): Promise<{ url: string; server: Server }>;
