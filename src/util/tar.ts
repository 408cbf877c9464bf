/**
 * tar archives (POSIX ustar, pax and GNU, as `tar` and Google Takeout's `.tgz` write them),
 * read as a stream: each file's content comes as chunks, whatever its size, and the archive
 * is never held whole. Isomorphic: Node reads a file through gunzip, a browser could read a
 * DecompressionStream. Not part of the public API.
 *
 * @module
 * @internal
 */
import { PecError } from "../errors.js";
import { concatBytes, latin1, utf8OrLatin1 } from "./bytes.js";

/** One file of a tar archive. */
export interface TarFile {
  /** Its path in the archive (`/` separated), UTF-8 when it is, else read as Latin-1. */
  readonly name: string;
  readonly size: number;
  /**
   * Its content, as it is read. Read it, or not, before asking for the next file: what is
   * left unread is skipped.
   */
  readonly content: AsyncGenerator<Uint8Array>;
}

const BLOCK = 512;
/** The largest pax header or GNU long name read: a name, not a file. */
const MAX_META = 1024 * 1024;

/** The zeros after `size` bytes of content, up to the next 512-byte block. */
function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** Whether bytes begin as a tar archive does: `ustar` at offset 257 (POSIX and GNU). */
export function isTarStart(head: Uint8Array): boolean {
  return head.length >= 262 && head[257] === 0x75 && head[258] === 0x73 && head[259] === 0x74 && head[260] === 0x61 && head[261] === 0x72;
}

/** Reads exact byte counts from chunks as they come. */
class Pull {
  readonly #it: AsyncIterator<Uint8Array>;
  #chunk: Uint8Array = new Uint8Array(0);
  #at = 0;
  #done = false;

  constructor(chunks: AsyncIterable<Uint8Array>) {
    this.#it = chunks[Symbol.asyncIterator]();
  }

  /** Some of the next bytes, at most `max`; empty at the end. */
  async some(max: number): Promise<Uint8Array> {
    while (this.#at >= this.#chunk.length) {
      if (this.#done) return new Uint8Array(0);
      const r = await this.#it.next();
      if (r.done) {
        this.#done = true;
        return new Uint8Array(0);
      }
      this.#chunk = r.value;
      this.#at = 0;
    }
    const n = Math.min(max, this.#chunk.length - this.#at);
    const out = this.#chunk.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }

  /** The next `n` bytes, fewer at the end. */
  async exactly(n: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let got = 0;
    while (got < n) {
      const p = await this.some(n - got);
      if (p.length === 0) break;
      parts.push(p);
      got += p.length;
    }
    return parts.length === 1 ? parts[0]! : concatBytes(parts);
  }

  /** Skips `n` bytes; false when the archive ends first. */
  async skip(n: number): Promise<boolean> {
    while (n > 0) {
      const p = await this.some(n);
      if (p.length === 0) return false;
      n -= p.length;
    }
    return true;
  }

  async close(): Promise<void> {
    if (!this.#done) await this.#it.return?.();
  }
}

/** A NUL-terminated field as text: UTF-8 when it is, else byte for byte (older tars wrote the local code page). */
function text(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return utf8OrLatin1(end < 0 ? bytes : bytes.subarray(0, end));
}

/** An octal number field, or GNU's base-256 (first byte 0x80) for sizes of 8 GiB and more; NaN when neither. */
function number(field: Uint8Array): number {
  if (field[0] === 0x80) {
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const s = latin1(field).replace(/[\0 ]+$/, "").trim();
  return /^[0-7]+$/.test(s) ? parseInt(s, 8) : s === "" ? 0 : NaN;
}

/** The records of a pax extended header: `length key=value\n`. */
function paxRecords(bytes: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < bytes.length) {
    const space = bytes.indexOf(0x20, at);
    if (space < 0) break;
    const length = Number(latin1(bytes.subarray(at, space)));
    if (!Number.isInteger(length) || length <= space - at || at + length > bytes.length) break;
    const record = bytes.subarray(space + 1, at + length - 1);
    const eq = record.indexOf(0x3d);
    if (eq > 0) out.set(latin1(record.subarray(0, eq)), text(record.subarray(eq + 1)));
    at += length;
  }
  return out;
}

/**
 * The files of a tar archive, in its order: regular files only (folders, links and devices
 * are skipped), with GNU long names and pax `path`/`size` records applied.
 *
 * @param path - the archive's name, for messages
 * @throws PecError `ERR_SOURCE` for a damaged archive (a header whose checksum fails, an
 * archive cut short), after the files before the damage
 */
export async function* tarFiles(chunks: AsyncIterable<Uint8Array>, path: string): AsyncGenerator<TarFile> {
  const pull = new Pull(chunks);
  const damaged = (why: string): PecError => new PecError("ERR_SOURCE", `${path}: not a readable tar archive: ${why}`);
  let longName: string | undefined;
  let pax = new Map<string, string>();
  try {
    for (;;) {
      const header = await pull.exactly(BLOCK);
      if (header.length === 0) return; // no end-of-archive blocks: tolerated
      if (header.length < BLOCK) throw damaged("cut short");
      if (header.every((b) => b === 0)) return;
      // The checksum of the header with its own field as spaces; old tars summed signed bytes.
      let sum = 0;
      let signed = 0;
      for (let i = 0; i < BLOCK; i++) {
        const b = i >= 148 && i < 156 ? 0x20 : header[i]!;
        sum += b;
        signed += b < 128 ? b : b - 256;
      }
      const stored = number(header.subarray(148, 156));
      if (stored !== sum && stored !== signed) throw damaged("a header's checksum does not match");
      const type = header[156]!;
      let size = number(header.subarray(124, 136));
      if (Number.isNaN(size)) throw damaged("a header's size is not a number");
      // Meta entries describe the next one.
      if (type === 0x4c /* L */ || type === 0x78 /* x */ || type === 0x67 /* g */) {
        if (size > MAX_META) throw damaged("an extended header is too large");
        const data = await pull.exactly(size);
        if (data.length < size || !(await pull.skip(padding(size)))) throw damaged("cut short");
        if (type === 0x4c) longName = text(data);
        else if (type === 0x78) pax = paxRecords(data);
        continue;
      }
      let name = longName ?? text(header.subarray(0, 100));
      if (longName === undefined && isTarStart(header)) {
        const prefix = text(header.subarray(345, 500));
        if (prefix) name = `${prefix}/${name}`;
      }
      // `tar -C dir .` writes ./a/b: the same file as a/b, and "." is no hidden folder.
      name = (pax.get("path") ?? name).replace(/^(?:\.?\/)+/, "");
      const paxSize = pax.get("size");
      if (paxSize !== undefined && /^\d+$/.test(paxSize)) size = Number(paxSize);
      longName = undefined;
      pax = new Map();
      const regular = type === 0x30 || type === 0 || type === 0x37; // '0', NUL (old tars), '7' contiguous
      let left = size;
      if (regular) {
        let failed = false;
        const content = (async function* (): AsyncGenerator<Uint8Array> {
          try {
            while (left > 0) {
              const p = await pull.some(left);
              if (p.length === 0) throw damaged(`${name} is cut short`);
              left -= p.length;
              yield p;
            }
          } catch (err) {
            failed = true;
            throw err;
          }
        })();
        yield { name, size, content };
        // The archive cannot go on past a failure inside a file, which its reader was given:
        // it ends here, rather than naming the same failure again.
        if (failed) return;
        // What the reader left unread is skipped, then the block padding.
        await content.return(undefined);
      }
      if (!(await pull.skip(left + padding(size)))) {
        if (left > 0) throw damaged(`${name} is cut short`);
        return;
      }
    }
  } finally {
    await pull.close();
  }
}
