type Position = { line: number; column: number };
export declare function originalText(source: string, location: { start: Position; end: Position }, base: 0 | 1): string;
export declare function mutantKey(file: string, mutatorName: string, original: string, replacement: string): string;
export declare function inSample(key: string, rate: number, seed: string): boolean;
export declare function describe(original: string, replacement: string): string;
export declare function wilson(k: number, n: number): [number, number];
export declare function collapse(text: string): string;
