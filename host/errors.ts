/**
 * Every error kemihost raises to its own code carries a stable `code` (match on it, never on
 * the message). The table with the fix for each is docs/errors.md.
 *
 * Script-visible operational failures are NOT exceptions: a KSR function logs and returns a
 * negative int, as Kamailio does. These classes are for the host: bad config, a script that
 * does not load, a bad argument to a KSR function (which the engine turns into a script error).
 */
export type KemiErrorCode =
  | 'KEMI_ERR_CONFIG'
  | 'KEMI_ERR_SCRIPT_LOAD'
  | 'KEMI_ERR_SCRIPT_PROBE'
  | 'KEMI_ERR_SCRIPT_RUNTIME'
  | 'KEMI_ERR_CPU_LIMIT'
  | 'KEMI_ERR_MEMORY_LIMIT'
  | 'KEMI_ERR_BAD_ARGUMENT'
  | 'KEMI_ERR_UNKNOWN_FUNCTION'
  | 'KEMI_ERR_NO_CONTEXT'
  | 'KEMI_ERR_LISTEN'
  | 'KEMI_ERR_ENGINE'
  | 'KEMI_ERR_DB_URL'
  | 'KEMI_ERR_DB_UNREACHABLE'
  | 'KEMI_ERR_DB_TIMEOUT'
  | 'KEMI_ERR_DB_QUERY'
  | 'KEMI_ERR_DB_DUPLICATE'
  | 'KEMI_ERR_DB_NOT_FOUND'
  | 'KEMI_ERR_DB_SCHEMA'
  | 'KEMI_ERR_DB_DATA';

export class KemiError extends Error {
  readonly code: KemiErrorCode;
  /** `file:line` (or `file:line:column`) inside the user's script, when known. */
  readonly location: string | undefined;

  constructor(code: KemiErrorCode, message: string, options?: { location?: string | undefined; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KemiError';
    this.code = code;
    this.location = options?.location;
  }
}

export function isKemiError(e: unknown, code?: KemiErrorCode): e is KemiError {
  return e instanceof KemiError && (code === undefined || e.code === code);
}

/** A readable one-line description of anything thrown. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  try {
    const json = JSON.stringify(e) as string | undefined;
    return json ?? String(e);
  } catch {
    return String(e);
  }
}
