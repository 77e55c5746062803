export declare const webDir: string;
export declare function buildDemo(): Promise<void>;
