/**
 * The download queue: answers and the gap a download serves (./json.ts), reads (./reads.ts),
 * writes (./writes.ts). Every change goes through the state machine in
 * ../download-states.ts, and is written in one batch with the gap (missing_books row) it serves,
 * so a gap always shows the state of its latest download.
 */

export { createGapDownloads, type GapDownloadInput, type GapDownloadResult } from "./create-many";
export { type AbsImportStatus, type DownloadCreateInput, downloadJson, syncGap } from "./json";
export { failedDownloads, getDownload, listDownloads, pendingDownloads, retryDueDownloads } from "./reads";
export { createDownload, deleteDownload, markComplete, markFailed, retryDownload, setStatus } from "./writes";
