export function wrapperSize(): Promise<{ main: number; withLoader: number; heatmap: number }>;
