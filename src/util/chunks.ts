/**
 * Bytes that come as chunks (a file read as a stream, standard input, an inflated ZIP entry):
 * looking at their start before choosing how to read them, and reading them whole within a
 * limit. Isomorphic. Not part of the public API.
 *
 * @module
 * @internal
 */
import { PecError } from "../errors.js";
import { DEFAULT_MAX_SIZE } from "../mime/parse.js";
import { concatBytes } from "./bytes.js";

/**
 * The first `n` bytes of `chunks` (fewer when there are fewer), and all of them again from
 * the start, to be read instead of `chunks`. A failure while the head is read is thrown by
 * `again`, after the chunks before it, as the source itself would have; `failed` says so
 * to a caller that would not read `again`. A caller that leaves `again` unread must still
 * start it (`for await (…) break`): a generator closed before it starts does not close the
 * source.
 */
export async function peek(chunks: AsyncIterable<Uint8Array>, n: number): Promise<[head: Uint8Array, again: AsyncGenerator<Uint8Array>, failed: boolean]> {
  const it = chunks[Symbol.asyncIterator]();
  const first: Uint8Array[] = [];
  let size = 0;
  let done = false;
  let failure: { error: unknown } | undefined;
  try {
    while (size < n) {
      const r = await it.next();
      if (r.done) {
        done = true;
        break;
      }
      first.push(r.value);
      size += r.value.length;
    }
  } catch (error) {
    failure = { error };
    done = true;
  }
  async function* again(): AsyncGenerator<Uint8Array> {
    try {
      yield* first;
      if (failure) throw failure.error;
      if (done) return;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    } finally {
      // Left early (a reader that stops), the source is closed as a for-await over it would.
      if (!done) await it.return?.();
    }
  }
  return [concatBytes(first).subarray(0, n), again(), failure !== undefined];
}

/** Bytes held whole, as chunks: one. */
export async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/**
 * All of `chunks`, up to `limit` bytes (default: readPec's): what is larger could not be
 * read as one message, and is not read further.
 *
 * @param what - what the bytes are, for the error
 * @throws PecError `ERR_TOO_LARGE` past `limit`
 */
export async function readAll(chunks: AsyncIterable<Uint8Array>, what: string, limit = DEFAULT_MAX_SIZE): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const c of chunks) {
    size += c.length;
    if (size > limit) throw new PecError("ERR_TOO_LARGE", `${what} is larger than the ${limit} bytes of a message read`, { limit });
    parts.push(c);
  }
  return concatBytes(parts);
}
