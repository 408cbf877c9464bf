/**
 * What a value passed where bytes belong is, for an `ERR_INVALID_ARGUMENT` message, with
 * the fix for the usual near-misses: text where the signed bytes are needed, an
 * ArrayBuffer or a Blob not yet wrapped or read, a Promise not awaited.
 *
 * @internal
 */
export function got(value: unknown): string {
  if (value === null || value === undefined) return `got ${String(value)}`;
  if (typeof value === "string") return "got a string: a signature covers bytes, so read the file as bytes (readFile without an encoding, Blob.arrayBuffer())";
  if (typeof value !== "object" && typeof value !== "function") return `got a ${typeof value}`;
  if (value instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && value instanceof SharedArrayBuffer)) {
    return "got an ArrayBuffer: wrap it, new Uint8Array(buffer)";
  }
  if (ArrayBuffer.isView(value)) return `got a ${value.constructor.name}: pass new Uint8Array(view.buffer, view.byteOffset, view.byteLength)`;
  if (typeof Blob !== "undefined" && value instanceof Blob) return "got a Blob: read it first, new Uint8Array(await blob.arrayBuffer())";
  if (typeof (value as { then?: unknown }).then === "function") return "got a Promise: await it first";
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" && name !== "" && name !== "Object" ? `got a ${name}` : "got an object";
}
