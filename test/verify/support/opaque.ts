// Test-only: the CMS of an opaque S/MIME message (application/pkcs7-mime, base64 body).
import { decodeBase64Bytes } from "../../../src/util/base64.js";
import { latin1 } from "../../../src/util/bytes.js";

/** The decoded body of a top-level `application/(x-)pkcs7-mime` message, or undefined. */
export function opaqueCms(bytes: Uint8Array): Uint8Array | undefined {
  const text = latin1(bytes);
  const blank = /\r?\n\r?\n/.exec(text);
  if (!blank) return undefined;
  const header = text.slice(0, blank.index);
  if (!/^content-type:[ \t]*application\/(x-)?pkcs7-mime/im.test(header)) return undefined;
  return decodeBase64Bytes(bytes, blank.index + blank[0].length);
}
