// Shared helpers for the MIME suites.
import { concatBytes } from "../../src/util/bytes.js";
import type { MimeEntity } from "../../src/mime/index.js";

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
/** Bytes of a binary string (each code unit is one byte). */
export const bin = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
export const crlf = (s: string): string => s.replace(/\r?\n/g, "\r\n");

/**
 * Rebuilds an entity's bytes from its structure alone: header block, then for a
 * multipart preamble + delimiter lines + children + epilogue, for an in-place message its
 * child, else the body. Iterative, so it also exercises deep trees.
 */
export function reconstruct(root: MimeEntity): Uint8Array {
  const out: Uint8Array[] = [];
  type Item = MimeEntity | Uint8Array;
  const stack: Item[] = [root];
  while (stack.length > 0) {
    const it = stack.pop()!;
    if (it instanceof Uint8Array) {
      out.push(it);
      continue;
    }
    const e = it;
    const src = e.source;
    out.push(e.headerBytes());
    const items: Item[] = [];
    const mp = e.multipart;
    if (mp) {
      items.push(src.subarray(mp.preamble.start, mp.preamble.end));
      e.children.forEach((c, i) => {
        const d = mp.delimiters[i]!;
        items.push(src.subarray(d.start, d.end), c);
      });
      if (mp.closed) {
        const d = mp.delimiters[mp.delimiters.length - 1]!;
        items.push(src.subarray(d.start, d.end));
      }
      items.push(src.subarray(mp.epilogue.start, mp.epilogue.end));
    } else if (e.children.length === 1 && e.children[0]!.source === src) {
      items.push(e.children[0]!);
    } else {
      items.push(e.bodyBytes());
    }
    for (let i = items.length - 1; i >= 0; i--) stack.push(items[i]!);
  }
  return concatBytes(out);
}

/** Checks the range invariants of every entity; returns the number of entities. */
export function checkInvariants(root: MimeEntity): number {
  let n = 0;
  const stack = [root];
  while (stack.length > 0) {
    const e = stack.pop()!;
    n++;
    const ok =
      e.start === e.headerStart &&
      e.headerStart <= e.headerEnd &&
      e.headerEnd === e.bodyStart &&
      e.bodyStart <= e.bodyEnd &&
      e.bodyEnd === e.end &&
      e.end <= e.source.length;
    if (!ok) throw new Error(`bad ranges at ${e.path.join(".")}`);
    for (const h of e.headers) if (h.start < e.start || h.end > e.headerEnd) throw new Error("header outside block");
    e.children.forEach((c, i) => {
      if (c.parent !== e || c.depth !== e.depth + 1 || c.path[c.path.length - 1] !== i) throw new Error("bad links");
      if (c.source === e.source && (c.start < e.bodyStart || c.end > e.bodyEnd)) throw new Error("child outside body");
    });
    stack.push(...e.children);
  }
  return n;
}
