// splitMbox and MboxReader, in Node and in browsers: messages written as mboxrd come back
// exactly, however the bytes are cut into chunks.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MboxReader, isMbox, splitMbox, type MboxMessage, type MboxReaderOptions } from "../../src/mime/index.js";
import { concatBytes, latin1, latin1Bytes } from "../../src/util/bytes.js";

/** A message as an mbox can hold it: lines ending in LF or CRLF, the last one too. */
const line = fc.oneof(
  fc.stringMatching(/^[ -~]{0,40}$/),
  fc.constantFrom("From me, with love", ">From quoted", ">>From twice", "From", "From ", "", "Subject: x"),
);
const message = fc
  .record({ lines: fc.array(line, { minLength: 1, maxLength: 8 }), eol: fc.constantFrom("\n", "\r\n") })
  .map(({ lines, eol }) => latin1Bytes(`Subject: m${eol}${lines.map((l) => l + eol).join("")}`));

/** mboxrd: a From line before each message, `>` added to every `>*From ` line, a blank line after. */
function mboxrd(messages: Uint8Array[]): { bytes: Uint8Array; offsets: number[] } {
  const parts: Uint8Array[] = [];
  const offsets: number[] = [];
  let at = 0;
  for (const m of messages) {
    const text = `From MAILER-DAEMON Mon Jun 16 10:00:00 2025\n${latin1(m).replace(/^(>*From )/gm, ">$1")}\n`;
    offsets.push(at);
    parts.push(latin1Bytes(text));
    at += text.length;
  }
  return { bytes: concatBytes(parts), offsets };
}

function chunked(bytes: Uint8Array, cuts: number[], options: MboxReaderOptions = {}): MboxMessage[] {
  const reader = new MboxReader(options);
  const out: MboxMessage[] = [];
  let from = 0;
  for (const cut of [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)) {
    out.push(...reader.push(bytes.slice(from, cut)));
    from = cut;
  }
  out.push(...reader.push(bytes.slice(from)), ...reader.end());
  return out;
}

describe("splitMbox and MboxReader", () => {
  it("give back every message exactly, at the offset of its From line, in any chunks (property)", () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 5 }), fc.array(fc.nat(), { maxLength: 12 }), (messages, cuts) => {
        const { bytes, offsets } = mboxrd(messages);
        const expected = messages.map((m, i) => ({ offset: offsets[i]!, bytes: m }));
        expect(splitMbox(bytes)).toEqual(expected);
        expect(chunked(bytes, cuts)).toEqual(expected);
        expect(isMbox(bytes)).toBe(messages.length > 0);
      }),
      { numRuns: 300 },
    );
  });

  it("text before the first From line is no message; a message without a final line break keeps what it has", () => {
    const text = latin1Bytes("preamble\nFrom a Mon\nSubject: one\n\nbody\n\nFrom b Tue\r\nSubject: two\r\n\r\nno end");
    expect(splitMbox(text).map((m) => [m.offset, latin1(m.bytes)])).toEqual([
      [9, "Subject: one\n\nbody\n"],
      [40, "Subject: two\r\n\r\nno end"],
    ]);
    expect(splitMbox(new Uint8Array())).toEqual([]);
    expect(isMbox(text)).toBe(false);
  });

  it("refuses what is not bytes, and bytes after end()", () => {
    const reader = new MboxReader();
    // @ts-expect-error misuse on purpose
    expect(() => reader.push("From a\n")).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
    expect(reader.end()).toEqual([]);
    expect(() => reader.push(new Uint8Array(1))).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
    // @ts-expect-error misuse on purpose
    expect(() => splitMbox(null)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
    // @ts-expect-error misuse on purpose
    expect(() => isMbox(new ArrayBuffer(4))).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
  });
});

describe("maxMessageSize", () => {
  it("a larger message is given as tooLarge, without its bytes; the others and every offset are right (property)", () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 5 }), fc.nat({ max: 120 }), fc.array(fc.nat(), { maxLength: 12 }), (messages, max, cuts) => {
        const { bytes, offsets } = mboxrd(messages);
        const expected = messages.map((m, i) =>
          m.length > max ? { offset: offsets[i]!, bytes: new Uint8Array(0), tooLarge: true, size: expect.any(Number) } : { offset: offsets[i]!, bytes: m },
        );
        expect(splitMbox(bytes, { maxMessageSize: max })).toEqual(expected);
        expect(chunked(bytes, cuts, { maxMessageSize: max })).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it("a line longer than the limit is counted, never held, whatever the chunks", () => {
    const reader = new MboxReader({ maxMessageSize: 1000 });
    const out: MboxMessage[] = [...reader.push(latin1Bytes("From a\nSubject: big\n\n"))];
    // 50 chunks of 10 kB with no line break: one line of 500 kB, beyond the limit and its line margin.
    for (let i = 0; i < 50; i++) out.push(...reader.push(new Uint8Array(10_000).fill(0x41)));
    out.push(...reader.push(latin1Bytes("\nend\n\nFrom b\nSubject: small\n\nok\n")), ...reader.end());
    expect(out).toEqual([
      { offset: 0, bytes: new Uint8Array(0), tooLarge: true, size: 14 + 500_001 + 5 },
      { offset: 7 + 14 + 500_001 + 5, bytes: latin1Bytes("Subject: small\n\nok\n") },
    ]);
    expect(() => new MboxReader({ maxMessageSize: -1 })).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
  });
});
