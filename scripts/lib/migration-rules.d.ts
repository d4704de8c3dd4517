export declare function contractChanges(sql: string): { line: number; change: string }[];
export declare function statesContract(sql: string): boolean;
export declare function expandContractProblems(dir: string): string[];
export declare function isDataOnly(sql: string): boolean;
export declare function dataOnlyProblems(dir: string): string[];
