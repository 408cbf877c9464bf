/**
 * Public types of the MIME layer.
 *
 * @module
 */

/** A half-open byte range `[start, end)` in an entity's {@link MimeEntity.source}. */
export interface ByteRange {
  /** First byte. */
  readonly start: number;
  /** One past the last byte. */
  readonly end: number;
}

/** One header field, as written. */
export interface MimeHeader {
  /** The field name as written (case kept, trailing white space before `:` removed); `""` for a line without a colon. */
  readonly name: string;
  /** {@link name} in lower case. */
  readonly lname: string;
  /** Start of the field in the entity's `source`. */
  readonly start: number;
  /** End of the field in the entity's `source`, after the line break that ends its last line. */
  readonly end: number;
  /** The exact bytes of the field, continuation lines and final line break included (zero copy). */
  readonly raw: Uint8Array;
  /**
   * The value: everything after the colon, unfolded (line breaks of continuation lines
   * removed, their white space kept), trimmed of SP/HT, decoded from UTF-8 when the bytes
   * are valid UTF-8 and as Latin-1 otherwise. RFC 2047 words are not decoded (see {@link decoded}).
   * For a line without a colon, the whole line.
   */
  readonly value: string;
  /** {@link value} with RFC 2047 encoded words decoded ({@link decodeHeaderValue}). */
  readonly decoded: string;
}

/** A parsed `Content-Type`. */
export interface MimeContentType {
  /** Lower-case top-level type, e.g. `"multipart"`. */
  readonly type: string;
  /** Lower-case subtype, e.g. `"signed"`. */
  readonly subtype: string;
  /** Lower-case `type/subtype`. */
  readonly mimeType: string;
  /**
   * Parameters by lower-case name, RFC 2231 continuations joined and decoded (no
   * prototype). Read-only: entities whose field has the same value may share one frozen
   * object.
   */
  readonly params: Readonly<Record<string, string>>;
}

/** A parsed `Content-Disposition`. */
export interface MimeDisposition {
  /** Lower-case disposition type, e.g. `"attachment"` or `"inline"`. */
  readonly type: string;
  /** Parameters by lower-case name, RFC 2231 decoded (no prototype). Read-only, as {@link MimeContentType.params}. */
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Where the structure bytes of a multipart body are. Concatenating, in order, the
 * preamble, `delimiters[0]`, `children[0]`, `delimiters[1]`, `children[1]`, …, the last
 * child, the close delimiter (when {@link closed}) and the epilogue gives back the body
 * exactly.
 */
export interface MimeMultipartLayout {
  /** The boundary parameter. */
  readonly boundary: string;
  /** Text before the first delimiter (without the line break that precedes the delimiter). Empty when absent. */
  readonly preamble: ByteRange;
  /**
   * The delimiter lines: each one starts with the line break that precedes it (it belongs
   * to the delimiter, RFC 2046) and ends after its own line break. `delimiters[i]` opens
   * `children[i]`; when {@link closed}, the last one is the close delimiter.
   */
  readonly delimiters: readonly ByteRange[];
  /** Whether a close delimiter (`--boundary--`) was found. */
  readonly closed: boolean;
  /** Text after the close delimiter line. An empty range at the body end when absent. */
  readonly epilogue: ByteRange;
}

/**
 * One MIME entity (a message or a body part), with the exact byte ranges it occupies.
 *
 * The header block runs from {@link headerStart} (= {@link start}) to {@link headerEnd}
 * and includes the blank line that ends it, so {@link headerEnd} always equals
 * {@link bodyStart}, and header bytes followed by body bytes are exactly {@link raw}.
 * When there is no blank line, the header block runs to the end and the body is empty.
 */
export interface MimeEntity {
  /**
   * The buffer the ranges index: the parsed input, or, for the message inside a base64
   * or quoted-printable `message/rfc822` part (or one opened with {@link parseEmbedded}),
   * the decoded bytes of that part.
   */
  readonly source: Uint8Array;
  /** Start of the entity. */
  readonly start: number;
  /** End of the entity (for a body part: before the line break that precedes the next delimiter). */
  readonly end: number;
  /** Start of the header block (= {@link start}). */
  readonly headerStart: number;
  /** End of the header block, after its terminating blank line (= {@link bodyStart}). */
  readonly headerEnd: number;
  /** Start of the body. */
  readonly bodyStart: number;
  /** End of the body (= {@link end}). */
  readonly bodyEnd: number;
  /** The whole entity (zero copy). */
  raw(): Uint8Array;
  /** The header block, blank line included (zero copy). */
  headerBytes(): Uint8Array;
  /** The body, still transfer-encoded (zero copy). */
  bodyBytes(): Uint8Array;
  /** Header fields in order, duplicates kept. */
  readonly headers: readonly MimeHeader[];
  /** Value of the first field with this name (case-insensitive), unfolded but not RFC 2047 decoded. */
  header(name: string): string | undefined;
  /** Values of every field with this name, in order. */
  headerAll(name: string): string[];
  /**
   * The content type. Missing or unparsable: `text/plain` (`message/rfc822` inside
   * `multipart/digest`), parameters kept. Entities with the same Content-Type value may
   * share one frozen object.
   */
  readonly contentType: MimeContentType;
  /** `Content-Disposition`, when present (may be shared and frozen, as {@link contentType}). */
  readonly disposition: MimeDisposition | undefined;
  /** Lower-case `Content-Transfer-Encoding`, `"7bit"` when absent. */
  readonly transferEncoding: string;
  /** The `Content-Disposition` `filename`, else the `Content-Type` `name`, RFC 2231 and RFC 2047 decoded. */
  readonly filename: string | undefined;
  /** Body parts of a multipart; for `message/rfc822` and `message/global` the one embedded message. */
  readonly children: readonly MimeEntity[];
  /** The structure of a multipart body, when this entity was split as one. */
  readonly multipart: MimeMultipartLayout | undefined;
  /** The enclosing entity. */
  readonly parent: MimeEntity | undefined;
  /** 0 for the root, parent's depth + 1 below. */
  readonly depth: number;
  /** Child indexes from the root (`[]` for the root; the embedded message of a `message/rfc822` is index 0). */
  readonly path: readonly number[];
  /** The body with the transfer encoding undone (base64 and quoted-printable copy; others are zero copy). */
  decodedBody(): Uint8Array;
  /** {@link decodedBody} decoded with the `charset` parameter ({@link decodeCharset}; none: UTF-8 if valid, else windows-1252). */
  text(): string;
}

/** Limits for {@link parseMime} and {@link parseEmbedded}. Each must be a non-negative integer or `Infinity`. */
export interface ParseMimeOptions {
  /**
   * Largest input in bytes (`ERR_TOO_LARGE`). Default 256 MiB: real PEC messages reach
   * about 100 MB of attachments, which base64 grows by a third, and a forwarded busta
   * nests one message inside another.
   */
  maxSize?: number;
  /** Deepest nesting, the root being depth 0 (`ERR_TOO_DEEP`). Default 32. */
  maxDepth?: number;
  /** Most entities in the tree, the root included (`ERR_TOO_MANY_PARTS`). Default 10 000. */
  maxParts?: number;
  /** Largest header block of one entity, in bytes (`ERR_TOO_LARGE`). Default 1 MiB. */
  maxHeaderBytes?: number;
}
