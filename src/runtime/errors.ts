// The error class (its own file, so each heatmap bundle can take it from its main entry) and the codes checks raise
// most, one short call each (`throw badArgument(…)`).
import { AttentionError } from './attention-error.js';

export { AttentionError, type AttentionErrorCode } from './attention-error.js';
export const badArgument = (message: string) => new AttentionError('BAD_ARGUMENT', message);
export const shapeMismatch = (message: string) => new AttentionError('SHAPE_MISMATCH', message);
export const outOfMemory = (message: string) => new AttentionError('OUT_OF_MEMORY', message);
