/** What went wrong, as a stable code callers can branch on. */
export type AttentionErrorCode =
  'SHAPE_MISMATCH' | 'BAD_ARGUMENT' | 'NOT_INITIALIZED' | 'OUT_OF_MEMORY' | 'DISPOSED' | 'WORKER_FAILED';

/** The one error type the library throws; the message names the argument, what was expected and what was given. */
export class AttentionError extends Error {
  readonly code: AttentionErrorCode;

  constructor(code: AttentionErrorCode, message: string) {
    super(message);
    this.name = 'AttentionError';
    this.code = code;
  }
}
