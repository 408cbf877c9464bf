/**
 * ZIP archives on disk: the isomorphic reader of util/zip.ts over a file handle (one entry
 * at a time, whatever the archive's size), with zlib's inflate and CRC-32.
 *
 * @module
 * @internal
 */
import { createReadStream } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import { pipeline } from "node:stream";
import { crc32, createInflateRaw, inflateRawSync } from "node:zlib";
import { PecError } from "../errors.js";
import { type ZipEntry, listZipEntries, readZipEntryData, zipEntryMismatch, zipEntryStart } from "../util/zip.js";
import { fsPath } from "./fs-names.js";

export { isZipStart, type ZipEntry } from "../util/zip.js";

function reader(fh: FileHandle): (offset: number, length: number) => Promise<Uint8Array> {
  return async (offset, length) => {
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buf.subarray(0, done);
  };
}

/** The entries of a ZIP archive on disk that hold files (see {@link listZipEntries}). */
export async function listZip(path: string): Promise<ZipEntry[]> {
  const fh = await open(fsPath(path), "r");
  try {
    return await listZipEntries(reader(fh), (await fh.stat()).size, path);
  } finally {
    await fh.close();
  }
}

/** An entry's content (see {@link readZipEntryData}). */
export async function readZipEntry(path: string, entry: ZipEntry, max: number): Promise<Uint8Array> {
  const fh = await open(fsPath(path), "r");
  try {
    return await readZipEntryData(reader(fh), (await fh.stat()).size, path, entry, max, (data, limit) => {
      const out = inflateRawSync(data, { maxOutputLength: limit });
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    }, crc32);
  } finally {
    await fh.close();
  }
}

/**
 * An entry's content as it is inflated, chunk by chunk, whatever its size (the mbox of a
 * mail export holds gigabytes): checked against its size as it comes, and against its
 * CRC-32 at its end, where a mismatch is thrown after the chunks already given.
 *
 * @throws PecError `ERR_UNSUPPORTED` for an encrypted entry or a compression other than
 * deflate; `ERR_SOURCE` for damaged data
 */
export async function* streamZipEntry(path: string, entry: ZipEntry, chunkSize = 256 * 1024): AsyncGenerator<Uint8Array> {
  const fh = await open(fsPath(path), "r");
  let start: number;
  try {
    start = await zipEntryStart(reader(fh), (await fh.stat()).size, path, entry);
  } finally {
    await fh.close();
  }
  if (entry.compressedSize === 0) {
    if (entry.size !== 0 || entry.crc !== 0) throw zipEntryMismatch(path, entry);
    return;
  }
  const raw = createReadStream(fsPath(path), { start, end: start + entry.compressedSize - 1, highWaterMark: chunkSize });
  const chunks: AsyncIterable<Uint8Array> = entry.method === 8 ? pipeline(raw, createInflateRaw({ chunkSize }), () => undefined) : raw;
  let size = 0;
  let crc = 0;
  try {
    for await (const chunk of chunks) {
      size += chunk.length;
      // More than the archive says: damaged, or a bomb; not read further.
      if (size > entry.size) throw zipEntryMismatch(path, entry);
      crc = crc32(chunk, crc);
      yield chunk;
    }
  } catch (err) {
    if (err instanceof PecError) throw err;
    throw new PecError("ERR_SOURCE", `${path}#${entry.name} is damaged: ${(err as Error).message}`, {}, { cause: err });
  }
  if (size !== entry.size || crc !== entry.crc) throw zipEntryMismatch(path, entry);
}
