/**
 * THE error table: every code the registry answers with, once, with its HTTP status and message.
 * Codes and statuses follow the OCI Distribution Specification v1.1 and distribution's registry
 * (`registry/api/errcode`, `registry/api/v2/errors.go`), so clients that branch on them keep working.
 *
 * Domain code throws `RegistryError(code, detail)`; only `http/errors.ts` turns one into the
 * `{"errors":[{code,message,detail}]}` envelope.
 */
export const ERROR_TABLE = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  TAG_INVALID: { status: 400, message: 'invalid tag' },
  PAGINATION_NUMBER_INVALID: { status: 400, message: 'invalid number of results requested' },
  RANGE_INVALID: { status: 416, message: 'invalid content range' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  NOT_FOUND: { status: 404, message: 'no such endpoint' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  UNAVAILABLE: { status: 503, message: 'service unavailable' },
  UNKNOWN: { status: 500, message: 'unknown error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_TABLE;

/** Optional details of an error: a payload for the client and, rarely, a status the spec fixes. */
export interface RegistryErrorOptions {
  /** The HTTP status when the spec fixes one other than the code's (413 for an oversized manifest). */
  readonly status?: number;
  /** Extra response headers (for example `Content-Range` on a 416, `Retry-After` on a 429). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The message to send instead of the table's, when the table's says too little. */
  readonly message?: string;
  readonly cause?: unknown;
}

/** A failure the client caused or should know about; carries a code from ERROR_TABLE. */
export class RegistryError extends Error {
  readonly code: ErrorCode;
  readonly detail: unknown;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, detail?: unknown, options: RegistryErrorOptions = {}) {
    super(options.message ?? ERROR_TABLE[code].message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RegistryError';
    this.code = code;
    this.detail = detail;
    this.status = options.status ?? ERROR_TABLE[code].status;
    this.headers = options.headers ?? {};
  }
}
