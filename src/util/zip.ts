/**
 * ZIP archives of messages (what webmail exports and preservation packages are), read through
 * a function that reads bytes at an offset: a file on disk in Node (one entry at a time,
 * whatever the archive's size), a dropped file's bytes in the browser. Stored and deflated
 * entries; ZIP64; every entry's CRC-32 checked. Not part of the public API.
 *
 * @module
 * @internal
 */
import { PecError } from "../errors.js";
import { utf8, utf8OrLatin1 } from "./bytes.js";

/** Reads `length` bytes at `offset` (fewer at the end of the archive). */
export type ZipRead = (offset: number, length: number) => Promise<Uint8Array>;

/** Inflates raw deflate data; more than `limit` bytes of output is an error. */
export type Inflate = (data: Uint8Array, limit: number) => Uint8Array | Promise<Uint8Array>;

/** One file of a ZIP archive, as its central directory describes it. */
export interface ZipEntry {
  /** Its path in the archive (`/` separated), UTF-8 when flagged, else read as Latin-1. */
  readonly name: string;
  readonly method: number;
  readonly flags: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localOffset: number;
}

const EOCD = 0x06054b50;
const EOCD64_LOCATOR = 0x07064b50;
const EOCD64 = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** The largest central directory read: ≈ 2 million entries of ordinary names. */
const MAX_DIRECTORY = 256 * 1024 * 1024;

/** Whether bytes begin as a ZIP archive does (a local file header, or the end record of an empty one). */
export function isZipStart(head: Uint8Array): boolean {
  return head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
}

function damaged(path: string, why: string): PecError {
  return new PecError("ERR_SOURCE", `${path}: not a readable ZIP archive: ${why}`);
}


/**
 * The entries that hold files (not folders), in the order of the central directory.
 *
 * @param path - the archive's name, for messages
 * @throws PecError `ERR_SOURCE` for a damaged archive, `ERR_UNSUPPORTED` for one split over several files
 */
export async function listZipEntries(read: ZipRead, size: number, path: string): Promise<ZipEntry[]> {
  const tailLength = Math.min(size, 22 + 65_535);
  const tail = await read(size - tailLength, tailLength);
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (view.getUint32(i, true) === EOCD && i + 22 + view.getUint16(i + 20, true) <= tail.length) {
      at = i;
      break;
    }
  }
  if (at < 0) throw damaged(path, "no end of central directory record");
  let disk = view.getUint16(at + 4, true);
  let count = view.getUint16(at + 10, true);
  let dirSize = view.getUint32(at + 12, true);
  let dirOffset = view.getUint32(at + 16, true);
  if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
    if (at < 20 || view.getUint32(at - 20, true) !== EOCD64_LOCATOR) throw damaged(path, "ZIP64 fields without a ZIP64 locator");
    const record = await read(Number(view.getBigUint64(at - 20 + 8, true)), 56);
    const r = new DataView(record.buffer, record.byteOffset, record.byteLength);
    if (record.length < 56 || r.getUint32(0, true) !== EOCD64) throw damaged(path, "no ZIP64 end of central directory record");
    disk = r.getUint32(16, true);
    count = Number(r.getBigUint64(32, true));
    dirSize = Number(r.getBigUint64(40, true));
    dirOffset = Number(r.getBigUint64(48, true));
  }
  if (disk !== 0) throw new PecError("ERR_UNSUPPORTED", `${path}: a ZIP archive split over several files; join them first`);
  if (dirSize > MAX_DIRECTORY || dirOffset + dirSize > size) throw damaged(path, "the central directory lies outside the file");
  const dir = await read(dirOffset, dirSize);
  const d = new DataView(dir.buffer, dir.byteOffset, dir.byteLength);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > dir.length || d.getUint32(p, true) !== CENTRAL) throw damaged(path, `central directory entry ${n + 1} of ${count} is missing`);
    const flags = d.getUint16(p + 8, true);
    const nameLength = d.getUint16(p + 28, true);
    const extraLength = d.getUint16(p + 30, true);
    const commentLength = d.getUint16(p + 32, true);
    const end = p + 46 + nameLength + extraLength + commentLength;
    if (end > dir.length) throw damaged(path, `central directory entry ${n + 1} runs past its end`);
    const rawName = dir.subarray(p + 46, p + 46 + nameLength);
    let compressedSize = d.getUint32(p + 20, true);
    let fileSize = d.getUint32(p + 24, true);
    let localOffset = d.getUint32(p + 42, true);
    // ZIP64 extra field: the 64-bit values of the fields set to all ones, in this order.
    for (let e = p + 46 + nameLength; e + 4 <= p + 46 + nameLength + extraLength; ) {
      const id = d.getUint16(e, true);
      const len = d.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        const next = (): number => {
          const v = q + 8 <= e + 4 + len ? Number(d.getBigUint64(q, true)) : NaN;
          q += 8;
          return v;
        };
        if (fileSize === 0xffffffff) fileSize = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localOffset === 0xffffffff) localOffset = next();
      }
      e += 4 + len;
    }
    if (![fileSize, compressedSize, localOffset].every(Number.isFinite)) throw damaged(path, `entry ${n + 1} has a short ZIP64 field`);
    const name = entryName(rawName, (flags & 0x800) !== 0);
    if (!name.endsWith("/")) entries.push({ name, method: d.getUint16(p + 10, true), flags, crc: d.getUint32(p + 16, true), compressedSize, size: fileSize, localOffset });
    p = end;
  }
  return entries;
}

/**
 * An entry's name. Without the UTF-8 flag the code page is unknown (Windows writes its OEM
 * page, 437 or 850): valid UTF-8 is taken as such (most tools write it unflagged), anything
 * else byte for byte, so that two names stay two ids.
 */
function entryName(raw: Uint8Array, flagged: boolean): string {
  return flagged ? utf8(raw) : utf8OrLatin1(raw);
}

/**
 * Where an entry's data begins in the archive, once it is known to be readable: neither
 * encrypted nor compressed otherwise than stored or deflated, its sizes consistent, and its
 * data within the archive.
 *
 * @param path - the archive's name, for messages
 * @throws PecError `ERR_UNSUPPORTED` for an encrypted entry or a compression other than
 * deflate; `ERR_SOURCE` for a damaged entry
 */
export async function zipEntryStart(read: ZipRead, size: number, path: string, entry: ZipEntry): Promise<number> {
  const where = `${path}#${entry.name}`;
  if (entry.flags & 1) throw new PecError("ERR_UNSUPPORTED", `${where} is encrypted; extract it with its password first`);
  if (entry.method !== 0 && entry.method !== 8) {
    throw new PecError("ERR_UNSUPPORTED", `${where} is compressed with ZIP method ${entry.method} (not deflate); extract it first`);
  }
  // Deflate never grows data by more than a few bytes per 16 KiB block: what a reader
  // allocates or inflates is bounded by the declared size.
  if (entry.method === 0 ? entry.compressedSize !== entry.size : entry.compressedSize > entry.size + (entry.size >>> 8) + 1024) {
    throw new PecError("ERR_SOURCE", `${where} is damaged: its compressed size does not fit its size`);
  }
  const local = await read(entry.localOffset, 30);
  const l = new DataView(local.buffer, local.byteOffset, local.byteLength);
  if (local.length < 30 || l.getUint32(0, true) !== LOCAL) throw damaged(path, `no local header for ${entry.name}`);
  const start = entry.localOffset + 30 + l.getUint16(26, true) + l.getUint16(28, true);
  if (start + entry.compressedSize > size) throw damaged(path, `${entry.name} is cut short`);
  return start;
}

/** The error for an entry whose content is not what the archive says (see {@link readZipEntryData}). */
export function zipEntryMismatch(path: string, entry: ZipEntry): PecError {
  return new PecError("ERR_SOURCE", `${path}#${entry.name} is damaged: its size or CRC-32 does not match the archive's`);
}

/**
 * An entry's content, checked against its CRC-32.
 *
 * @param path - the archive's name, for messages
 * @throws PecError `ERR_UNSUPPORTED` for an encrypted entry or a compression other than
 * deflate; `ERR_TOO_LARGE` past `max`; `ERR_SOURCE` for damaged data
 */
export async function readZipEntryData(read: ZipRead, size: number, path: string, entry: ZipEntry, max: number, inflate: Inflate, crc: (bytes: Uint8Array) => number = crc32): Promise<Uint8Array> {
  const where = `${path}#${entry.name}`;
  if (entry.size > max) {
    // Said after what makes the entry unreadable anyway (encrypted, another method).
    await zipEntryStart(read, size, path, entry);
    throw new PecError("ERR_TOO_LARGE", `${where} is ${entry.size} bytes, more than the ${max} read`, { limit: max });
  }
  const start = await zipEntryStart(read, size, path, entry);
  const data = await read(start, entry.compressedSize);
  if (data.length < entry.compressedSize) throw damaged(path, `${entry.name} is cut short`);
  let content = data;
  if (entry.method === 8) {
    try {
      content = await inflate(data, Math.min(max, entry.size) + 1);
    } catch (err) {
      throw new PecError("ERR_SOURCE", `${where} is damaged: ${(err as Error).message}`, {}, { cause: err });
    }
  }
  if (content.length !== entry.size || crc(content) !== entry.crc) throw zipEntryMismatch(path, entry);
  return content;
}

let table: Uint32Array | undefined;

/** CRC-32 (IEEE), as ZIP stores it. */
export function crc32(bytes: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
