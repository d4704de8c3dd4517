// The books service, by job: fields and completeness (./fields.ts), answers (./json.ts), reads
// (./search.ts), writes of one book (./writes.ts) and the bulk import (./import.ts).
export {
  type BookCreateInput,
  type BookFields,
  type BookImportRow,
  type BookStatus,
  type BookUpdateInput,
  completenessOf,
  METADATA_FIELDS,
  type MetadataField,
  missingFieldsOf,
} from "./fields";
export { importBooks } from "./import";
export { bookJson, bookSummaryJson, incompleteBookJson } from "./json";
export { type BookListQuery, bookMetadataHistory, booksInSeries, getBook, incompleteBooks, listBooks, searchBooks } from "./search";
export { archiveBook, completionStatements, createBook, setMetadataSource, updateBook } from "./writes";
