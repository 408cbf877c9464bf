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
import { type ZipEntry, type ZipRead, listZipEntries, readZipEntryData, zipEntryMismatch, zipEntryStart } from "../util/zip.js";
import { fsPath } from "./fs-names.js";

export { isZipStart, type ZipEntry } from "../util/zip.js";

/** How much is read at once: the entries of an export are small and stored one after another. */
const READ_AHEAD = 1024 * 1024;

/**
 * Reads the archive through a window of {@link READ_AHEAD} bytes: an export of thousands of
 * small messages costs one read per megabyte instead of two per entry (its local header, its
 * data). What it returns is a copy, never a view of the window: a message's bytes may be
 * moved to a worker.
 */
function reader(fh: FileHandle): ZipRead {
  let window: Uint8Array = new Uint8Array(0);
  let windowStart = 0;
  const direct = async (offset: number, length: number): Promise<Uint8Array> => {
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buf.subarray(0, done);
  };
  return async (offset, length) => {
    if (length > READ_AHEAD) return direct(offset, length);
    if (offset < windowStart || offset + length > windowStart + window.length) {
      window = await direct(offset, READ_AHEAD);
      windowStart = offset;
    }
    return window.slice(offset - windowStart, offset - windowStart + length);
  };
}

/** A ZIP archive on disk, open: its entries, and their contents read through one file handle. */
export interface OpenZip {
  /** The entries that hold files (see {@link listZipEntries}). */
  readonly entries: readonly ZipEntry[];
  /** An entry's content (see {@link readZipEntryData}). */
  read(entry: ZipEntry, max: number): Promise<Uint8Array>;
  /**
   * An entry's content as it is inflated, chunk by chunk, whatever its size (the mbox of a
   * mail export holds gigabytes): checked against its size as it comes, and against its
   * CRC-32 at its end, where a mismatch is thrown after the chunks already given.
   */
  stream(entry: ZipEntry, chunkSize?: number): AsyncGenerator<Uint8Array>;
  close(): Promise<void>;
}

/**
 * Opens a ZIP archive and reads its central directory. One handle serves every entry: an
 * export of thousands of small messages would otherwise pay an open and a close for each.
 *
 * @throws PecError `ERR_SOURCE` for a damaged archive, `ERR_UNSUPPORTED` for one split over several files
 */
export async function openZip(path: string): Promise<OpenZip> {
  const fh = await open(fsPath(path), "r");
  try {
    const size = (await fh.stat()).size;
    const read = reader(fh);
    const entries = await listZipEntries(read, size, path);
    return {
      entries,
      read: (entry, max) =>
        readZipEntryData(read, size, path, entry, max, (data, limit) => {
          const out = inflateRawSync(data, { maxOutputLength: limit });
          return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
        }, crc32),
      stream: (entry, chunkSize) => streamEntry(read, size, path, entry, chunkSize),
      close: () => fh.close(),
    };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

async function* streamEntry(read: ZipRead, size: number, path: string, entry: ZipEntry, chunkSize = 256 * 1024): AsyncGenerator<Uint8Array> {
  const start = await zipEntryStart(read, size, path, entry);
  if (entry.compressedSize === 0) {
    if (entry.size !== 0 || entry.crc !== 0) throw zipEntryMismatch(path, entry);
    return;
  }
  // A stream of its own (only large entries are streamed): destroying a stream made from the
  // archive's handle would close the handle the next entries are read through.
  const raw = createReadStream(fsPath(path), { start, end: start + entry.compressedSize - 1, highWaterMark: chunkSize });
  const chunks: AsyncIterable<Uint8Array> = entry.method === 8 ? pipeline(raw, createInflateRaw({ chunkSize }), () => undefined) : raw;
  let got = 0;
  let crc = 0;
  try {
    for await (const chunk of chunks) {
      got += chunk.length;
      // More than the archive says: damaged, or a bomb; not read further.
      if (got > entry.size) throw zipEntryMismatch(path, entry);
      crc = crc32(chunk, crc);
      yield chunk;
    }
  } catch (err) {
    if (err instanceof PecError) throw err;
    throw new PecError("ERR_SOURCE", `${path}#${entry.name} is damaged: ${(err as Error).message}`, {}, { cause: err });
  } finally {
    raw.destroy();
  }
  if (got !== entry.size || crc !== entry.crc) throw zipEntryMismatch(path, entry);
}
