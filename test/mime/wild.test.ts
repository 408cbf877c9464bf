// Conformance on the real PEC samples in ../shared/wild (skipped when absent).
import { describe, expect, it } from "vitest";
import { findAllEntities, parseEmbedded, parseMime, walkEntities } from "../../src/mime/index.js";
import { equalBytes } from "../../src/util/bytes.js";
import { readWild, wildFiles } from "../support/wild.js";
import { checkInvariants, dec, reconstruct } from "./helpers.js";

const files = wildFiles ?? [];

describe.skipIf(wildFiles === null)("real PEC samples", () => {
  it.each(files)("%s: the tree reproduces the file byte for byte", async (name) => {
    const bytes = await readWild(name);
    const root = parseMime(bytes);
    checkInvariants(root);
    expect(equalBytes(reconstruct(root), bytes)).toBe(true);
    for (const e of walkEntities(root)) {
      expect(equalBytes(reconstruct(e), e.raw())).toBe(true);
      for (const h of e.headers) {
        expect(typeof h.value).toBe("string");
        expect(typeof h.decoded).toBe("string");
      }
      if (e.children.length === 0) {
        expect(e.decodedBody()).toBeInstanceOf(Uint8Array);
        expect(typeof e.text()).toBe("string");
      }
    }
  });

  it.each(files)("%s: each multipart/signed first part ends right before the line break that precedes the boundary", async (name) => {
    const bytes = await readWild(name);
    const root = parseMime(bytes);
    const signed = findAllEntities(root, (e) => e.contentType.mimeType === "multipart/signed");
    // The biagioT samples were truncated after the first part (their p7s was removed).
    for (const s of signed.filter((e) => e.children.length >= 2)) {
      const first = s.children[0]!;
      const src = s.source;
      const boundary = s.multipart!.boundary;
      // After the part: CRLF or LF, then "--boundary".
      let at = first.end;
      if (src[at] === 13) at++;
      expect(src[at]).toBe(10);
      const after = dec(src.subarray(at + 1, at + 3 + boundary.length));
      expect(after).toBe("--" + boundary);
      // Before the part: the end of the opening delimiter line.
      expect(src[first.start - 1]).toBe(10);
      expect(dec(src.subarray(s.multipart!.delimiters[0]!.start, first.start)).trim()).toBe("--" + boundary);
    }
  });

  it("finds the top-level signature structure of every busta", async () => {
    let signedCount = 0;
    for (const name of files) {
      const root = parseMime(await readWild(name));
      if (root.contentType.mimeType === "multipart/signed") {
        signedCount++;
        expect(root.children[0]!.contentType.mimeType).toBe("multipart/mixed");
        if (root.children.length < 2) continue; // truncated samples
        expect(root.children[1]!.contentType.mimeType).toMatch(/^application\/(x-)?pkcs7-signature$/);
      }
    }
    expect(signedCount).toBeGreaterThan(20);
  });

  it("opens the forwarded postacert.eml of the docway NoReply samples", async () => {
    for (const name of files.filter((f) => /NoReply0\d\.eml$/.test(f))) {
      const root = parseMime(await readWild(name));
      const att = findAllEntities(root, (e) => e.filename?.toLowerCase() === "postacert.eml");
      const forwarded = att.find((e) => e.contentType.mimeType === "application/octet-stream");
      expect(forwarded, name).toBeDefined();
      expect(forwarded!.children).toHaveLength(0);
      const inner = parseEmbedded(forwarded!);
      expect(inner.parent).toBe(forwarded);
      expect(inner.contentType.mimeType).toBe("multipart/signed");
      expect(inner.header("x-trasporto")?.toLowerCase()).toBe("posta-certificata");
      expect(equalBytes(reconstruct(inner), inner.raw())).toBe(true);
    }
  });

  it("decodes the utf-7 bodies of utf7.eml", async () => {
    const name = files.find((f) => f.endsWith("utf7.eml"));
    if (!name) return;
    const root = parseMime(await readWild(name));
    const parts = findAllEntities(root, (e) => e.contentType.params["charset"]?.toLowerCase() === "utf-7");
    expect(parts.length).toBeGreaterThan(0);
    for (const p of parts) {
      const t = p.text();
      expect(t).not.toMatch(/\+[A-Za-z0-9/]{4,}-/);
    }
  });

  it("decodes the encoded subjects seen in real PEC", async () => {
    const name = files.find((f) => f.endsWith("notWellFormed_2.eml"));
    if (!name) return;
    const root = parseMime(await readWild(name));
    expect(root.headers.find((h) => h.lname === "subject")!.decoded).toMatch(/^POSTA CERTIFICATA: /);
  });
});
