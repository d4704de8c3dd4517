/** The TypeScript types (`paths`, `components`, `operations`) of an OpenAPI 3.1 document, as source. */
export declare function clientTypes(document: object): Promise<string>;
