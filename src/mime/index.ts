/**
 * `postacert/mime`: a byte-exact MIME parser and a MIME builder.
 *
 * The parser keeps, for every entity, the exact byte ranges of its header block, body and
 * whole in the original input, so signatures can be checked on exactly the bytes that
 * were signed. The builder writes canonical MIME (CRLF, base64 at 76 columns,
 * quoted-printable, RFC 2047 headers) and refuses header injection. mbox files are split
 * into their messages from bytes (`splitMbox`, `MboxReader`).
 *
 * @example
 * ```ts
 * import { parseMime, decodeHeaderValue, buildMime } from "postacert/mime";
 *
 * const root = parseMime(bytes);
 * console.log(decodeHeaderValue(root.header("subject") ?? ""));
 * for (const part of root.children) console.log(part.contentType.mimeType, part.filename);
 * ```
 *
 * @module postacert/mime
 */
export { parseMime, parseEmbedded, DEFAULT_MAX_SIZE, DEFAULT_MAX_DEPTH, DEFAULT_MAX_PARTS, DEFAULT_MAX_HEADER_BYTES } from "./parse.js";
export { buildMime, formatHeader } from "./build.js";
export type { MimeNode, MimeHeaderField, MimeTransferEncoding } from "./build.js";
export { decodeHeaderValue } from "./words.js";
export { decodeCharset } from "./charset.js";
export { parseParams, formatParams, sanitizeFileName } from "./params.js";
export type { ParsedParams } from "./params.js";
export { decodeQuotedPrintable, encodeQuotedPrintable } from "./transfer.js";
export { walkEntities, findEntity, findAllEntities } from "./walk.js";
export { MboxReader, isMbox, splitMbox } from "./mbox.js";
export type { MboxMessage, MboxReaderOptions } from "./mbox.js";
export type { WalkOptions } from "./walk.js";
export type {
  ByteRange,
  MimeContentType,
  MimeDisposition,
  MimeEntity,
  MimeHeader,
  MimeMultipartLayout,
  ParseMimeOptions,
} from "./types.js";
