// Node's built-in modules, loaded when first needed rather than with the package (worker_threads alone costs a few
// ms of an import, and most engines never start a worker). A require made for this module works on every Node ≥ 20
// (process.getBuiltinModule only exists from 20.16). Browser bundles take node-builtins.browser.ts instead.
import { createRequire } from 'node:module';

let nodeRequire: NodeJS.Require | undefined;

export const builtin: (<T>(id: string) => T) | undefined = <T>(id: string): T =>
  (nodeRequire ??= createRequire(import.meta.url))(id) as T;
