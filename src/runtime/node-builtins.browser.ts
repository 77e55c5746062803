// Browser bundles have no Node built-ins (see node-builtins.ts).
export const builtin: (<T>(id: string) => T) | undefined = undefined;
