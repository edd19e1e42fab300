export { createFileSource, type FileSource, type FileSourceDeps } from './file-source.js';
export type { FileOffsetValue } from './follower.js';
export { readStateDirOnce, readStateDirOnceWithStats, readTranscriptOnce } from './once.js';
