// A small ZIP writer for the tests: stored and deflated entries, names flagged UTF-8 or not,
// ZIP64 records, and the damage the reader must refuse (a wrong CRC, encryption, another method).
import { crc32, deflateRawSync } from "node:zlib";

export interface ZipFile {
  /** The entry's name; bytes for a name that is not UTF-8. */
  name: string | Uint8Array;
  data: Uint8Array | string;
  /** 0 stored, 8 deflated (default), or any other method id (written stored). */
  method?: number;
  /** Set the UTF-8 name flag (default: for a string name). */
  utf8?: boolean;
  /** Set the encryption flag. */
  encrypted?: boolean;
  /** Write a CRC-32 that does not match. */
  badCrc?: boolean;
}

/** A ZIP64 extra field (id 1) holding these 64-bit values, in order. */
function zip64Extra(...values: number[]): Buffer {
  const extra = Buffer.alloc(4 + 8 * values.length);
  extra.writeUInt16LE(1, 0);
  extra.writeUInt16LE(8 * values.length, 2);
  values.forEach((v, i) => extra.writeBigUInt64LE(BigInt(v), 4 + 8 * i));
  return extra;
}

export function makeZip(files: readonly ZipFile[], options: { zip64?: boolean } = {}): Buffer {
  const zip64 = options.zip64 === true;
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = typeof f.name === "string" ? Buffer.from(f.name, "utf8") : Buffer.from(f.name);
    const data = typeof f.data === "string" ? Buffer.from(f.data, "latin1") : Buffer.from(f.data);
    const method = f.method ?? 8;
    const body = method === 8 ? deflateRawSync(data) : data;
    const crc = (crc32(data) ^ (f.badCrc ? 1 : 0)) >>> 0;
    const flags = ((f.utf8 ?? typeof f.name === "string") ? 0x800 : 0) | (f.encrypted ? 1 : 0);
    const localExtra = zip64 ? zip64Extra(data.length, body.length) : Buffer.alloc(0);
    // The fields both headers share, from "version needed" to the extra field's length.
    const common = (header: Buffer, at: number, extraLength: number): void => {
      header.writeUInt16LE(zip64 ? 45 : 20, at);
      header.writeUInt16LE(flags, at + 2);
      header.writeUInt16LE(method, at + 4);
      header.writeUInt16LE(0x21, at + 8); // 1980-01-01
      header.writeUInt32LE(crc, at + 10);
      header.writeUInt32LE(zip64 ? 0xffffffff : body.length, at + 14);
      header.writeUInt32LE(zip64 ? 0xffffffff : data.length, at + 18);
      header.writeUInt16LE(name.length, at + 22);
      header.writeUInt16LE(extraLength, at + 24);
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    common(local, 4, localExtra.length);
    parts.push(local, name, localExtra, body);

    const extra = zip64 ? zip64Extra(data.length, body.length, offset) : Buffer.alloc(0);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(45, 4); // version made by
    common(c, 6, extra.length);
    c.writeUInt32LE(zip64 ? 0xffffffff : offset, 42);
    central.push(c, name, extra);
    offset += local.length + name.length + localExtra.length + body.length;
  }
  const dir = Buffer.concat(central);
  const tail: Buffer[] = [];
  if (zip64) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(45, 12);
    record.writeUInt16LE(45, 14);
    record.writeBigUInt64LE(BigInt(files.length), 24);
    record.writeBigUInt64LE(BigInt(files.length), 32);
    record.writeBigUInt64LE(BigInt(dir.length), 40);
    record.writeBigUInt64LE(BigInt(offset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(offset + dir.length), 8);
    locator.writeUInt32LE(1, 16);
    tail.push(record, locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(zip64 ? 0xffff : files.length, 8);
  end.writeUInt16LE(zip64 ? 0xffff : files.length, 10);
  end.writeUInt32LE(zip64 ? 0xffffffff : dir.length, 12);
  end.writeUInt32LE(zip64 ? 0xffffffff : offset, 16);
  return Buffer.concat([...parts, dir, ...tail, end]);
}
