export interface PolicyRow {
  tier: string;
  access: string;
  rule?: string;
}
export declare const BEGIN: string;
export declare const END: string;
export declare function tierTables(input: {
  policies: Record<string, PolicyRow>;
  limits: Record<string, string>;
  failClosed: string[];
}): string;
export declare function withTables(document: string, generated: string): string;
export declare function currentTables(document: string): string | null;
