import { describe, expect, it } from "vitest";
import { unpack } from "../../web/inspect.js";

const enc = new TextEncoder();
const FROM = "From MAILER-DAEMON Mon Jun 16 10:00:00 2025\r\n";
const msg = (subject: string): Uint8Array => enc.encode(`From: a@example.test\r\nSubject: ${subject}\r\n\r\nbody\r\n`);
const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const mboxOf = (messages: Uint8Array[]): Uint8Array => concat(messages.flatMap((m) => [enc.encode(FROM), m, enc.encode("\r\n")]));

describe("the inspector's unpack of a dropped mbox", () => {
  it("gives each message named file#offset", async () => {
    const [a, b] = [msg("uno"), msg("due")];
    const out = await unpack("box.mbox", mboxOf([a, b]));
    expect(out).toEqual([
      { name: "box.mbox#0", bytes: a },
      { name: `box.mbox#${FROM.length + a.length + 2}`, bytes: b },
    ]);
  });

  it("gives a message larger than readPec reads as ERR_TOO_LARGE, not as an empty message; the next is read", async () => {
    const a = msg("uno");
    // One line of 257 MiB: counted, none of it kept.
    const huge = new Uint8Array(257 * 2 ** 20).fill(0x61);
    const out = await unpack("box.mbox", mboxOf([a, huge, a]));
    const second = FROM.length + a.length + 2;
    expect(out.map((e) => e.name)).toEqual(["box.mbox#0", `box.mbox#${second}`, `box.mbox#${second + FROM.length + huge.length + 2}`]);
    const tooLarge = out[1]!;
    expect("error" in tooLarge && tooLarge.error.code).toBe("ERR_TOO_LARGE");
    expect("bytes" in out[2]! && out[2].bytes).toEqual(a);
  });
});
