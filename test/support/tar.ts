// A small tar writer for the tests: ustar headers (a prefix for long paths), GNU long names
// ('L') and pax headers ('x'), folders and links, and the damage the reader must refuse.
import { gzipSync } from "node:zlib";

export interface TarFileSpec {
  name: string;
  data?: Uint8Array | string;
  /** '0' file (default), '5' folder, '2' symbolic link. */
  type?: "0" | "5" | "2";
  /** How a name too long for the header is written: GNU 'L' (default) or pax 'x'. */
  longName?: "gnu" | "pax";
  /** Write a checksum that does not match. */
  badChecksum?: boolean;
}

const enc = new TextEncoder();

function header(name: Uint8Array, size: number, type: string, badChecksum = false): Buffer {
  const h = Buffer.alloc(512);
  let prefix = Buffer.alloc(0);
  let base = Buffer.from(name);
  if (base.length > 100) {
    // ustar: split at a slash into a prefix (≤ 155) and a name (≤ 100).
    const slash = base.lastIndexOf(0x2f, base.length - 1);
    prefix = base.subarray(0, slash);
    base = base.subarray(slash + 1);
  }
  base.copy(h, 0, 0, Math.min(100, base.length));
  h.write("0000644\0", 100, "latin1");
  h.write("0001750\0", 108, "latin1");
  h.write("0001750\0", 116, "latin1");
  h.write(size.toString(8).padStart(11, "0") + "\0", 124, "latin1");
  h.write("14712345670\0", 136, "latin1");
  h.write(type, 156, "latin1");
  h.write("ustar\0", 257, "latin1");
  h.write("00", 263, "latin1");
  prefix.copy(h, 345, 0, Math.min(155, prefix.length));
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  if (badChecksum) sum += 1;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "latin1");
  return h;
}

function padded(data: Buffer): Buffer[] {
  const pad = (512 - (data.length % 512)) % 512;
  return [data, Buffer.alloc(pad)];
}

export function makeTar(files: readonly TarFileSpec[], options: { gzip?: boolean; end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    const data = f.data === undefined ? Buffer.alloc(0) : typeof f.data === "string" ? Buffer.from(f.data, "latin1") : Buffer.from(f.data);
    let name = enc.encode(f.name);
    if (name.length > 100 && (f.longName === "pax" || name.length > 255 || !name.subarray(0, name.length - 1).includes(0x2f))) {
      if (f.longName === "pax") {
        const body = (len: number): string => `${len} path=${f.name}\n`;
        let len = enc.encode(body(0)).length;
        while (enc.encode(body(len)).length !== len) len = enc.encode(body(len)).length;
        const pax = Buffer.from(enc.encode(body(len)));
        parts.push(header(enc.encode("PaxHeader"), pax.length, "x"), ...padded(pax));
      } else {
        const long = Buffer.concat([Buffer.from(name), Buffer.alloc(1)]);
        parts.push(header(enc.encode("././@LongLink"), long.length, "L"), ...padded(long));
      }
      name = name.subarray(0, 100);
    }
    const type = f.type ?? "0";
    parts.push(header(name, type === "0" ? data.length : 0, type, f.badChecksum));
    if (type === "0") parts.push(...padded(data));
  }
  if (options.end !== false) parts.push(Buffer.alloc(1024));
  const tar = Buffer.concat(parts);
  return options.gzip ? gzipSync(tar) : tar;
}
