export declare const USERNAME: RegExp;
export declare const EMAIL: RegExp;
export declare function firstAdminSql(input: { username: string; email: string; passwordHash: string }): string;
