import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_PARTS, DEFAULT_MAX_SIZE, parseEmbedded, parseMime } from "../../src/mime/index.js";
import type { ParseMimeOptions } from "../../src/mime/index.js";
import { enc } from "./helpers.js";
import { code } from "../support/outcome.js";


function nestedMultipart(levels: number): string {
  let s = "leaf";
  for (let i = levels - 1; i >= 0; i--) s = `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n${s}\r\n--b${i}--`;
  return s;
}

describe("limits", () => {
  it("has the documented defaults", () => {
    expect(DEFAULT_MAX_SIZE).toBe(256 * 1024 * 1024);
    expect(DEFAULT_MAX_DEPTH).toBe(32);
    expect(DEFAULT_MAX_PARTS).toBe(10_000);
  });

  it("refuses input larger than maxSize", () => {
    expect(code(() => parseMime(new Uint8Array(101), { maxSize: 100 }))).toBe("ERR_TOO_LARGE");
    expect(code(() => parseMime(new Uint8Array(100), { maxSize: 100 }))).toBeUndefined();
  });

  it("refuses nesting deeper than maxDepth", () => {
    expect(code(() => parseMime(enc(nestedMultipart(32))))).toBeUndefined();
    expect(code(() => parseMime(enc(nestedMultipart(33))))).toBe("ERR_TOO_DEEP");
    expect(code(() => parseMime(enc(nestedMultipart(5)), { maxDepth: 4 }))).toBe("ERR_TOO_DEEP");
    expect(code(() => parseMime(enc(nestedMultipart(40)), { maxDepth: 40 }))).toBeUndefined();
  });

  it("survives hostile nesting without recursion", () => {
    const levels = 100_000;
    const bytes = enc("Content-Type: message/rfc822\r\n\r\n".repeat(levels) + "Subject: bottom\r\n\r\nx");
    expect(code(() => parseMime(bytes))).toBe("ERR_TOO_DEEP");
    const root = parseMime(bytes, { maxDepth: Infinity, maxParts: Infinity });
    let e = root;
    while (e.children.length > 0) e = e.children[0]!;
    expect(e.depth).toBe(levels);
    expect(e.header("subject")).toBe("bottom");
    expect(e.path.length).toBe(levels);
  });

  it("refuses more parts than maxParts, early", () => {
    const many = "Content-Type: multipart/mixed; boundary=b\r\n\r\n" + "--b\r\n\r\nx\r\n".repeat(DEFAULT_MAX_PARTS) + "--b--\r\n";
    expect(code(() => parseMime(enc(many)))).toBe("ERR_TOO_MANY_PARTS");
    expect(code(() => parseMime(enc(many), { maxParts: DEFAULT_MAX_PARTS + 1 }))).toBeUndefined();
    expect(code(() => parseMime(enc(nestedMultipart(3)), { maxParts: 3 }))).toBe("ERR_TOO_MANY_PARTS");
    const t0 = performance.now();
    const flood = enc("Content-Type: multipart/mixed; boundary=b\r\n\r\n" + "--b\n".repeat(2_000_000));
    expect(code(() => parseMime(flood))).toBe("ERR_TOO_MANY_PARTS");
    expect(performance.now() - t0).toBeLessThan(3000);
  });

  it("refuses a header block larger than maxHeaderBytes", () => {
    const big = enc("Subject: " + "x".repeat(2 * 1024 * 1024) + "\r\n\r\nbody");
    expect(code(() => parseMime(big))).toBe("ERR_TOO_LARGE");
    expect(code(() => parseMime(enc("A: 1\r\nB: 2\r\n\r\n"), { maxHeaderBytes: 8 }))).toBe("ERR_TOO_LARGE");
    expect(code(() => parseMime(enc("A: 1\r\nB: 2\r\n\r\n"), { maxHeaderBytes: 14 }))).toBeUndefined();
  });

  it("parses a 10 MB header line in linear time", () => {
    const n = 10 * 1024 * 1024;
    const opts: ParseMimeOptions = { maxHeaderBytes: Infinity };
    for (const line of ["Subject: " + "=?".repeat(n / 2), "X: " + "a ".repeat(n / 2), "x".repeat(n), "Content-Type: multipart/mixed; boundary=\"" + "\\".repeat(n) + '"']) {
      const t0 = performance.now();
      const root = parseMime(enc(line + "\r\n\r\nbody"), opts);
      const h = root.headers[0]!;
      expect(h.value.length).toBeGreaterThan(n / 2);
      expect(typeof h.decoded).toBe("string");
      expect(performance.now() - t0).toBeLessThan(5000);
    }
  });

  it("keeps the delimiter search linear for hostile boundaries", () => {
    const b = "a".repeat(5000);
    const body = ("\n--" + "a".repeat(4999) + "b").repeat(400) + "\n" + "a".repeat(2_000_000);
    const t0 = performance.now();
    const root = parseMime(enc(`Content-Type: multipart/mixed; boundary="${b}"\r\n\r\n${body}`), { maxHeaderBytes: Infinity });
    expect(root.children).toHaveLength(0);
    expect(performance.now() - t0).toBeLessThan(3000);
    // A boundary with a line break (through RFC 2231) is ignored.
    expect(parseMime(enc("Content-Type: multipart/mixed; boundary*=''%0A\r\n\r\n--\n\n\r\nx")).children).toHaveLength(0);
  });

  it("validates arguments", () => {
    for (const bad of [{ maxSize: -1 }, { maxDepth: 1.5 }, { maxParts: Number.NaN }, { maxHeaderBytes: "1" }] as unknown as ParseMimeOptions[]) {
      expect(code(() => parseMime(new Uint8Array(0), bad))).toBe("ERR_INVALID_ARGUMENT");
    }
    expect(code(() => parseMime("text" as unknown as Uint8Array))).toBe("ERR_INVALID_ARGUMENT");
    expect(code(() => parseMime(new Uint8Array(0), null as unknown as ParseMimeOptions))).toBe("ERR_INVALID_ARGUMENT");
    expect(code(() => parseEmbedded({} as never))).toBe("ERR_INVALID_ARGUMENT");
    expect(code(() => parseMime(new Uint8Array(0), { maxSize: Infinity, maxDepth: 0, maxParts: 1 }))).toBeUndefined();
  });

  it("applies limits in parseEmbedded", () => {
    const root = parseMime(enc("Content-Type: application/octet-stream\r\n\r\n" + nestedMultipart(3)));
    expect(code(() => parseEmbedded(root, { maxDepth: 3 }))).toBe("ERR_TOO_DEEP");
    expect(parseEmbedded(root, { maxDepth: 4 }).depth).toBe(1);
    expect(code(() => parseEmbedded(root, { maxSize: 10 }))).toBe("ERR_TOO_LARGE");
  });
});
