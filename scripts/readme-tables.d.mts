export function readmeWithTables(readme: string, results: string): string;
