// The isomorphic ZIP reader (util/zip.ts), as the browser inspector uses it on a dropped
// file's bytes; test/transactions/zip.node.test.ts covers the files on disk.
import { describe, expect, it } from "vitest";
import { crc32, isZipStart, listZipEntries, readZipEntryData } from "../../src/util/zip.js";

const enc = new TextEncoder();

/** A ZIP archive of stored entries, written by hand (the reader is what is tested). */
function storedZip(files: { name: string; data: Uint8Array; crc?: number }[]): Uint8Array {
  const parts: number[] = [];
  const central: number[] = [];
  const u16 = (a: number[], v: number): void => void a.push(v & 0xff, (v >>> 8) & 0xff);
  const u32 = (a: number[], v: number): void => void a.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  for (const f of files) {
    const name = enc.encode(f.name);
    const crc = f.crc ?? crc32(f.data);
    const offset = parts.length;
    u32(parts, 0x04034b50); u16(parts, 20); u16(parts, 0x800); u16(parts, 0); u32(parts, 0x210000);
    u32(parts, crc); u32(parts, f.data.length); u32(parts, f.data.length); u16(parts, name.length); u16(parts, 0);
    parts.push(...name, ...f.data);
    u32(central, 0x02014b50); u16(central, 20); u16(central, 20); u16(central, 0x800); u16(central, 0); u32(central, 0x210000);
    u32(central, crc); u32(central, f.data.length); u32(central, f.data.length); u16(central, name.length); u16(central, 0); u16(central, 0);
    u16(central, 0); u16(central, 0); u32(central, 0); u32(central, offset);
    central.push(...name);
  }
  const end: number[] = [];
  u32(end, 0x06054b50); u16(end, 0); u16(end, 0); u16(end, files.length); u16(end, files.length);
  u32(end, central.length); u32(end, parts.length); u16(end, 0);
  return Uint8Array.from([...parts, ...central, ...end]);
}

describe("util/zip", () => {
  it("crc32 gives the standard check value", () => {
    expect(crc32(enc.encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it("lists and reads stored entries from bytes; a wrong CRC-32 is ERR_SOURCE", async () => {
    const zip = storedZip([
      { name: "a/1.eml", data: enc.encode("Subject: 1\r\n\r\nuno\r\n") },
      { name: "dir/", data: new Uint8Array(0) },
      { name: "città.eml", data: enc.encode("Subject: 2\r\n\r\ndue\r\n"), crc: 7 },
    ]);
    expect(isZipStart(zip)).toBe(true);
    const read = (offset: number, length: number): Promise<Uint8Array> => Promise.resolve(zip.subarray(offset, offset + length));
    const entries = await listZipEntries(read, zip.length, "x.zip");
    expect(entries.map((e) => e.name)).toEqual(["a/1.eml", "città.eml"]);
    const inflate = (): never => {
      throw new Error("stored entries are not inflated");
    };
    expect(new TextDecoder().decode(await readZipEntryData(read, zip.length, "x.zip", entries[0]!, 1000, inflate))).toBe("Subject: 1\r\n\r\nuno\r\n");
    await expect(readZipEntryData(read, zip.length, "x.zip", entries[1]!, 1000, inflate)).rejects.toMatchObject({ code: "ERR_SOURCE", message: "x.zip#città.eml is damaged: its size or CRC-32 does not match the archive's" });
    await expect(readZipEntryData(read, zip.length, "x.zip", entries[0]!, 10, inflate)).rejects.toMatchObject({ code: "ERR_TOO_LARGE" });
    await expect(listZipEntries(read, zip.length - 1, "x.zip")).rejects.toMatchObject({ code: "ERR_SOURCE" });
  });
});
