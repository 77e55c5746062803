// Node's built-in modules, loaded when first needed rather than with the package (worker_threads alone costs a few
// ms of an import, and most engines never start a worker). process.getBuiltinModule (Node 20.16 on) skips making a
// require for this module, which costs a share of init() of its own; older Node 20 releases use the require. Browser
// bundles take node-builtins.browser.ts instead.
import { createRequire } from 'node:module';

let nodeRequire: NodeJS.Require | undefined;

export const builtin: (<T>(id: string) => T) | undefined = <T>(id: string): T =>
  (process.getBuiltinModule?.(id) as T | undefined) ?? (nodeRequire ??= createRequire(import.meta.url))(id);
