export declare function contractChanges(sql: string): { line: number; change: string }[];
export declare function statesContract(sql: string): boolean;
export declare function expandContractProblems(dir: string): string[];
