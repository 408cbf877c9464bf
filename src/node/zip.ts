/**
 * ZIP archives on disk: the isomorphic reader of util/zip.ts over a file handle (one entry
 * at a time, whatever the archive's size), with zlib's inflate and CRC-32.
 *
 * @module
 * @internal
 */
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import { crc32, inflateRawSync } from "node:zlib";
import { type ZipEntry, listZipEntries, readZipEntryData } from "../util/zip.js";
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
