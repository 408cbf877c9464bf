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

/** A ustar archive of `files` (names under 100 bytes), in bytes: what `tar` writes for them. */
function tarOf(files: [string | Uint8Array, string | Uint8Array][]): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const [name, content] of files) {
    const data = typeof content === "string" ? enc.encode(content) : content;
    const h = new Uint8Array(512);
    const put = (text: string, at: number): void => h.set(enc.encode(text), at);
    h.set(typeof name === "string" ? enc.encode(name) : name, 0);
    put("0000644\0", 100);
    put(`${data.length.toString(8).padStart(11, "0")}\0`, 124);
    put("14712345670\0", 136);
    put("0", 156);
    put("ustar\0" + "00", 257);
    h.fill(0x20, 148, 156);
    const sum = h.reduce((a, b) => a + b, 0);
    put(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
    const body = new Uint8Array(Math.ceil(data.length / 512) * 512);
    body.set(data);
    blocks.push(h, body);
  }
  blocks.push(new Uint8Array(1024));
  return concat(blocks);
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await new Response(new Blob([new Uint8Array(bytes)]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
}

describe("the inspector's unpack of a dropped tar archive", () => {
  const text = (b: Uint8Array): string => new TextDecoder().decode(b);
  const a = "From: a@example.test\r\nSubject: uno\r\n\r\nbody\r\n";
  const mbox = `${FROM}${text(msg("due"))}\r\n${FROM}${text(msg("tre"))}\r\n`;
  const files: [string, string][] = [
    ["export/a.eml", a],
    ["export/.hidden.eml", a],
    ["export/Inbox", mbox],
    ["export/notes.txt", "not a message\n"],
    ["export/inner.zip", "PK"],
  ];

  it("gives its messages named file#name, an mbox in it by message, also as .tgz", async () => {
    for (const [name, bytes] of [["export.tar", tarOf(files)], ["export.tgz", await gzip(tarOf(files))]] as const) {
      const out = await unpack(name, bytes);
      expect(out.map((e) => e.name)).toEqual([`${name}#export/a.eml`, `${name}#export/Inbox#0`, `${name}#export/Inbox#${FROM.length + msg("due").length + 2}`, `${name}#export/inner.zip`]);
      expect(out.slice(0, 3).map((e) => ("bytes" in e ? text(e.bytes) : e.error.code))).toEqual([a, text(msg("due")), text(msg("tre"))]);
      expect("error" in out[3]! && out[3].error.code).toBe("ERR_UNSUPPORTED");
    }
  });

  it("a name that is not UTF-8 is read byte for byte, the same in every runtime", async () => {
    // 0x85 is "…" in windows-1252, which browsers' TextDecoder("latin1") is; Node's is not.
    const out = await unpack("old.tar", tarOf([[Uint8Array.of(0x85, ...enc.encode(".eml")), a]]));
    expect(out.map((e) => e.name)).toEqual(["old.tar#\u0085.eml"]);
  });

  it("an archive inside an archive is not opened, as the CLI does not open it", async () => {
    // Each level an entry named a.eml holding the next archive: it was unpacked level after
    // level (6,000 levels of ZIP took 10 s), and a ZIP that holds itself would never end.
    let inner = tarOf([["a.eml", a]]);
    for (let i = 0; i < 3; i++) inner = tarOf([["a.eml", inner]]);
    const out = await unpack("nested.tar", tarOf([["a.eml", inner]]));
    expect(out).toEqual([{ name: "nested.tar#a.eml", bytes: inner }]);
  });

  it("a damaged archive gives the files before the damage, and the damage", async () => {
    const bytes = tarOf(files);
    bytes[1024 + 148] = bytes[1024 + 148]! ^ 1; // the second header's checksum
    const out = await unpack("bad.tar", bytes);
    expect(out.map((e) => e.name)).toEqual(["bad.tar#export/a.eml", "bad.tar"]);
    expect("error" in out[1]! && out[1].error.message).toBe("bad.tar: not a readable tar archive: a header's checksum does not match");
    // Cut inside a file it reads: that file's failure, named once.
    const cut = await unpack("cut.tar", tarOf(files).subarray(0, 2600));
    expect(cut.map((e) => e.name)).toEqual(["cut.tar#export/a.eml", "cut.tar#export/Inbox"]);
    expect("error" in cut[1]! && cut[1].error.message).toBe("cut.tar: not a readable tar archive: export/Inbox is cut short");
  });
});


describe("the inspector's unpack of a message compressed as Dovecot may store it", () => {
  const zstd = Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0);
  const bzip2 = Uint8Array.of(...enc.encode("BZh9"), 0x31, 0x41, 0x59, 0x26, 0x53, 0x59, 0, 0);
  const unsupported = (what: string): string => `the file is ${what}-compressed; decompress it first (or store it gzip-compressed)`;
  const outcome = (out: Awaited<ReturnType<typeof unpack>>): string[] => out.map((e) => `${e.name} ${"error" in e ? `${e.error.code}: ${e.error.message}` : "read"}`);

  it("names bzip2, xz and zstd as unsupported, dropped as they are or inside an archive, where the CLI names them too", async () => {
    expect(outcome(await unpack("1.M1.host:2,SZ", zstd))).toEqual([`1.M1.host:2,SZ ERR_UNSUPPORTED: ${unsupported("zstd")}`]);
    expect(outcome(await unpack("a.eml", bzip2))).toEqual([`a.eml ERR_UNSUPPORTED: ${unsupported("bzip2")}`]);
    expect(outcome(await unpack("a.eml.gz", await gzip(Uint8Array.of(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0, 1))))).toEqual([`a.eml.gz ERR_UNSUPPORTED: ${unsupported("xz")}`]);
    // In an archive, an entry whose name says nothing was skipped as "not a message".
    const tar = tarOf([
      ["Maildir/cur/1.M1.host:2,SZ", zstd],
      ["Maildir/cur/2.M2.host:2,S", msg("due")],
      ["notes.txt", "not a message\n"],
    ]);
    expect(outcome(await unpack("box.tar", tar))).toEqual([`box.tar#Maildir/cur/1.M1.host:2,SZ ERR_UNSUPPORTED: ${unsupported("zstd")}`, "box.tar#Maildir/cur/2.M2.host:2,S read"]);
  });

  it("takes a header field that begins with BZh for a header, not for bzip2", async () => {
    const odd = enc.encode("BZh: odd but a header\r\n\r\nbody\r\n");
    expect(await unpack("odd.txt", odd, true)).toEqual([{ name: "odd.txt", bytes: odd }]);
  });
});
