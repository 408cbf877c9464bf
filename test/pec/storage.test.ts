// What storage does to a message before postacert reads it, and readPec undoes: a UTF-8 byte
// order mark and blank lines before the headers (editors, exports), and CR CR LF line ends (a
// CRLF file converted to CRLF once more), UTF-16 text (Windows PowerShell's > and Out-File).
// Properties over composed messages: the message read
// is exactly the message before the damage, and only the repair's issue is added.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { composeMessage } from "../../src/pec/build/index.js";
import { readPec } from "../../src/pec/read.js";
import type { PecIssue } from "../../src/pec/types.js";
import { concatBytes, equalBytes, latin1, latin1Bytes } from "../../src/util/bytes.js";

/** Header text composeMessage takes (no CR, LF or NUL). */
const line = fc.string({ maxLength: 60 }).filter((s) => !/[\r\n\0]/.test(s));
/** Body text: any line breaks, which composeMessage writes as CRLF. */
const body = fc.string({ maxLength: 400, unit: fc.constantFrom("a", "è", " ", "\n", "\r\n", "=", ".", "From ", "\t", "€") });
const message = fc.record({ subject: line, text: body, attach: fc.option(fc.uint8Array({ maxLength: 300 }), { nil: undefined }) }).map(({ subject, text, attach }) =>
  composeMessage({
    from: "mario@pec.alfa.test",
    to: ["anna@pec.beta.test"],
    subject,
    text,
    messageId: "<m1@client.test>",
    date: new Date("2025-06-16T10:00:00Z"),
    ...(attach && { attachments: [{ filename: "dati.bin", content: attach }] }),
  }),
);
// A message saved by mutt, or cut from an mbox, begins with its mbox "From " line.
const FROM_LINE = ["From MAILER-DAEMON Mon Jun 16 10:00:00 2025\r\n", "From mario@pec.alfa.test  Tue Mar 12 09:00:00 2024\n"];
const prefix = fc
  .record({ bom: fc.boolean(), blank: fc.array(fc.constantFrom("\r\n", "\n"), { maxLength: 3 }), from: fc.option(fc.constantFrom(...FROM_LINE), { nil: undefined }) })
  .filter((p) => p.bom || p.blank.length > 0 || p.from !== undefined);
const prefixText = (p: { bom: boolean; blank: string[]; from: string | undefined }): string => (p.bom ? "\xef\xbb\xbf" : "") + p.blank.join("") + (p.from ?? "");

const codes = (issues: readonly PecIssue[]): string[] => issues.map((i) => i.code);

describe("readPec undoes what storage did", () => {
  it("a BOM and blank lines before the headers: skipped, the rest read as it is (property)", () => {
    fc.assert(
      fc.property(message, prefix, (m, p) => {
        const head = latin1Bytes(prefixText(p));
        const pec = readPec(concatBytes([head, m]));
        expect(equalBytes(pec.root.raw(), m)).toBe(true);
        expect(codes(pec.issues)).toEqual(["LEADING_BYTES_SKIPPED", ...codes(readPec(m).issues)]);
        expect(pec.issues[0]!.message).toContain(`(${head.length} bytes)`);
      }),
      { numRuns: 150 },
    );
  });

  it("CR CR LF line ends: read as CRLF, which gives back the message exactly (property)", () => {
    fc.assert(
      fc.property(message, fc.option(prefix, { nil: undefined }), (m, p) => {
        const doubled = latin1Bytes(latin1(m).replace(/\r\n/g, "\r\r\n"));
        // The whole file was converted: its blank CRLF lines before the headers too.
        const head = latin1Bytes(p ? prefixText(p).replace(/\r\n/g, "\r\r\n") : "");
        const pec = readPec(concatBytes([head, doubled]));
        expect(equalBytes(pec.root.raw(), m)).toBe(true);
        const repairs = [...(p ? ["LEADING_BYTES_SKIPPED"] : []), "LINE_ENDINGS_REPAIRED"];
        expect(codes(pec.issues)).toEqual([...repairs, ...codes(readPec(m).issues)]);
      }),
      { numRuns: 150 },
    );
  });

  it("saved as UTF-16 text, with or without a byte order mark: read back to the message exactly (property)", () => {
    fc.assert(
      fc.property(message, fc.boolean(), fc.boolean(), (m, le, bom) => {
        const text = (bom ? "\ufeff" : "") + latin1(m);
        const saved = new Uint8Array(text.length * 2);
        for (let i = 0; i < text.length; i++) {
          const u = text.charCodeAt(i);
          saved[2 * i + (le ? 0 : 1)] = u & 0xff;
          saved[2 * i + (le ? 1 : 0)] = u >> 8;
        }
        const pec = readPec(saved);
        expect(equalBytes(pec.root.raw(), m)).toBe(true);
        expect(codes(pec.issues)).toEqual(["UTF16_DECODED", ...codes(readPec(m).issues)]);
      }),
      { numRuns: 100 },
    );
  });

  it("a message with none of it is read in place (no copy) and without a repair issue (property)", () => {
    fc.assert(
      fc.property(message, (m) => {
        const pec = readPec(m);
        expect(pec.root.source.buffer).toBe(m.buffer);
        expect(codes(pec.issues)).not.toContain("LEADING_BYTES_SKIPPED");
        expect(codes(pec.issues)).not.toContain("LINE_ENDINGS_REPAIRED");
        expect(codes(pec.issues)).not.toContain("UTF16_DECODED");
      }),
      { numRuns: 100 },
    );
  });
});
