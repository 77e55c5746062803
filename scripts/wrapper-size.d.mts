export function wrapperSize(): Promise<{ main: number; heatmap: number }>;
