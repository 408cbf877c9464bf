/**
 * The one error class of postacert, with a stable, discriminated `code`.
 *
 * Parsers throw it for input they cannot read; builders throw it for input they
 * refuse to write; verification returns issues instead and throws only for misuse.
 *
 * @module
 */

/**
 * Stable error codes. Programs may switch on them; they never change meaning.
 *
 * - `ERR_MIME_MALFORMED`: the bytes are not a MIME message postacert can read.
 * - `ERR_TOO_LARGE`: an input exceeds a configured size limit.
 * - `ERR_TOO_DEEP`: MIME or ASN.1 nesting exceeds the configured depth.
 * - `ERR_TOO_MANY_PARTS`: a message has more MIME parts than allowed.
 * - `ERR_NOT_PEC`: a PEC-only operation was given a message that is not PEC.
 * - `ERR_DATICERT_MALFORMED`: `daticert.xml` cannot be read (carries a position).
 * - `ERR_CMS_MALFORMED`: a CMS / PKCS#7 structure cannot be decoded.
 * - `ERR_CERT_MALFORMED`: an X.509 certificate or CRL cannot be decoded.
 * - `ERR_TRUST_MALFORMED`: a trust source (PEM, DER, LDIF) cannot be read.
 * - `ERR_HEADER_INJECTION`: a header value would contain CR, LF or NUL.
 * - `ERR_UNSUPPORTED`: a feature or algorithm postacert does not implement.
 * - `ERR_INVALID_ARGUMENT`: the API was called with arguments of the wrong shape.
 * - `ERR_SOURCE`: a message source (an IMAP server) cannot be reached, refuses the login, or fails.
 */
export type PecErrorCode =
  | "ERR_MIME_MALFORMED"
  | "ERR_TOO_LARGE"
  | "ERR_TOO_DEEP"
  | "ERR_TOO_MANY_PARTS"
  | "ERR_NOT_PEC"
  | "ERR_DATICERT_MALFORMED"
  | "ERR_CMS_MALFORMED"
  | "ERR_CERT_MALFORMED"
  | "ERR_TRUST_MALFORMED"
  | "ERR_HEADER_INJECTION"
  | "ERR_UNSUPPORTED"
  | "ERR_INVALID_ARGUMENT"
  | "ERR_SOURCE";

/** Extra, code-specific facts attached to a {@link PecError}. */
export interface PecErrorDetails {
  /** Byte offset in the input where the problem was found, when known. */
  offset?: number;
  /** Line (1-based) in a text input (XML, LDIF), when known. */
  line?: number;
  /** Column (1-based) in a text input, when known. */
  column?: number;
  /** The limit that was exceeded, for `ERR_TOO_*` codes. */
  limit?: number;
}

/**
 * The error postacert throws.
 *
 * @example
 * ```ts
 * try {
 *   parseMime(bytes, { maxSize: 1024 });
 * } catch (e) {
 *   if (e instanceof PecError && e.code === "ERR_TOO_LARGE") console.log(e.details.limit);
 * }
 * ```
 */
export class PecError extends Error {
  /** The stable error code. */
  readonly code: PecErrorCode;
  /** Position or limit information, when the code has any. */
  readonly details: PecErrorDetails;

  /**
   * @param code - stable error code
   * @param message - human-readable explanation
   * @param details - position or limit information
   * @param options - standard `ErrorOptions` (for `cause`)
   */
  constructor(code: PecErrorCode, message: string, details: PecErrorDetails = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = "PecError";
    this.code = code;
    this.details = details;
  }
}

/**
 * Type guard for {@link PecError}, optionally of one code.
 *
 * @example
 * ```ts
 * try {
 *   readPec(bytes);
 * } catch (e) {
 *   if (isPecError(e, "ERR_TOO_DEEP")) console.log("nested deeper than", e.details.limit);
 *   else throw e;
 * }
 * ```
 */
export function isPecError(value: unknown, code?: PecErrorCode): value is PecError {
  return value instanceof PecError && (code === undefined || value.code === code);
}
