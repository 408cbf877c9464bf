// The CLI against hostile input and hostile surroundings: control characters in what messages
// say, long non-ASCII attachment names, bad --crl files, stdout that fails, folders that hold
// files that are not messages.
import { spawn } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { safeFileName } from "../../src/cli/extract.js";
import { EXIT_EPIPE, onStdoutError } from "../../src/cli/io.js";
import { printable } from "../../src/util/text.js";
import { main } from "../../src/cli/main.js";
import { buildAccettazione, buildBusta, composeMessage } from "../../src/pec/build/index.js";
import { createCrl, createGestore, createTestCa } from "../../src/simulator/index.js";
import { capture, jsonLines, writeMaildir } from "./scan-fixtures.js";

/** The subject the finder of the bug used: a forged verdict line, then "conceal" (ESC [8m). */
const FORGED_SUBJECT = "Offerta\n  signature: valid and trusted; signer C=IT, O=Aruba PEC S.p.A.\n\u001b[8m";
/** Attachment names that set the window title (OSC), clear the screen, use C1 CSI, reverse text. */
const HOSTILE_NAMES = ["\u001b]0;pwned\u0007\u001b[2J\u001b[H.pdf", "\u009b2Jc1.txt", "evil\u202efdp.exe"];
const EMOJI_NAME = "😀".repeat(120) + ".pdf";
const CJK_NAME = "日".repeat(190) + ".txt";

/** C0 (but the line feeds that end lines), DEL, C1 and the bidi controls. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

let dir: string;
let caPem: string;
let hostile: string;
let longNames: string;
let good: string;
let separators: string;
let cases: string;
const SEPARATED_SUBJECT = "riga1\u2028riga2\u0085riga3\u2029riga4";

/** RFC 2231 encoding of a parameter value (every byte outside a few safe ones escaped). */
function rfc2231(value: string): string {
  return "UTF-8''" + [...new TextEncoder().encode(value)].map((b) => (/[A-Za-z0-9.]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : "%" + b.toString(16).toUpperCase().padStart(2, "0"))).join("");
}

/**
 * An original message as a hostile client writes it: composeMessage refuses controls in
 * headers, so placeholders are put back by hand, the subject as an RFC 2047 encoded word,
 * the attachment names as RFC 2231 parameters.
 */
function hostileOriginal(subject: string | undefined, names: string[], date: Date): Uint8Array {
  const composed = composeMessage({
    from: "mario@pec.alfa.test",
    to: ["anna@pec.beta.test"],
    subject: "SUBJECT-PLACEHOLDER",
    text: "Ciao",
    messageId: "<safety@client>",
    date,
    attachments: names.map((_, i) => ({ filename: `name${i}.bin`, contentType: "application/octet-stream", content: new TextEncoder().encode(`x${i}`) })),
  });
  let text = new TextDecoder().decode(composed);
  if (subject !== undefined) text = text.replace("Subject: SUBJECT-PLACEHOLDER", `Subject: =?UTF-8?B?${Buffer.from(subject).toString("base64")}?=`);
  names.forEach((name, i) => {
    text = text.replaceAll(`filename=name${i}.bin`, `filename*=${rfc2231(name)}`).replaceAll(`filename="name${i}.bin"`, `filename*=${rfc2231(name)}`);
    text = text.replaceAll(`name=name${i}.bin`, `name*=${rfc2231(name)}`).replaceAll(`name="name${i}.bin"`, `name*=${rfc2231(name)}`);
  });
  names.forEach((_, i) => expect(text).not.toContain(`name${i}.bin`));
  return new TextEncoder().encode(text);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "postacert-cli-safety-"));
  const validity = { notBefore: new Date("2024-01-01T00:00:00Z"), notAfter: new Date("2030-01-01T00:00:00Z"), keyAlgorithm: "ECDSA-P256" as const };
  const ca = await createTestCa(validity);
  const alfa = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, ...validity });
  caPem = join(dir, "ca.pem");
  await writeFile(caPem, ca.pem());
  await writeFile(join(dir, "empty.crl"), await createCrl(ca, { revoked: [], thisUpdate: new Date("2024-12-01T00:00:00Z"), nextUpdate: new Date("2025-12-01T00:00:00Z"), crlNumber: 1 }));
  const other = await createTestCa({ ...validity, commonName: "Another CA" });
  await writeFile(join(dir, "other.crl"), await createCrl(other, { revoked: [], thisUpdate: new Date("2024-12-01T00:00:00Z") }));
  const date = new Date("2025-05-02T08:00:00Z");
  const tx = {
    sender: "mario@pec.alfa.test",
    recipients: [{ address: "anna@pec.beta.test", tipo: "certificato" as const, field: "to" as const }],
    subject: "Offerta",
    identificativo: "opec9.20250502100000.1.1.1@pec.alfa.test",
    msgid: "<safety@client>",
  };
  hostile = join(dir, "hostile.eml");
  await writeFile(hostile, (await buildBusta(alfa, tx, { original: hostileOriginal(FORGED_SUBJECT, HOSTILE_NAMES, date), date })).bytes);
  longNames = join(dir, "long-names.eml");
  await writeFile(longNames, (await buildBusta(alfa, tx, { original: hostileOriginal(undefined, [EMOJI_NAME, CJK_NAME, EMOJI_NAME, "after.txt"], date), date })).bytes);
  cases = join(dir, "cases.eml");
  await writeFile(cases, (await buildBusta(alfa, tx, { original: hostileOriginal(undefined, ["invoice.pdf", "INVOICE.pdf", "Invoice.PDF"], date), date })).bytes);
  separators = join(dir, "separators.eml");
  await writeFile(separators, (await buildBusta(alfa, { ...tx, subject: SEPARATED_SUBJECT }, { original: hostileOriginal(SEPARATED_SUBJECT, [], date), date })).bytes);
  good = join(dir, "accettazione.eml");
  await writeFile(good, (await buildAccettazione(alfa, tx, { date })).bytes);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("control characters from messages", () => {
  it("printable() turns C0, C1 and bidi controls into spaces, and leaves other text alone", () => {
    expect(printable("a\nb\u001b[2Jc\u009bd\u202ee\u2066f")).toBe("a b [2Jc d e f");
    expect(printable("Offerta n. 12/2026 — città, 日本, 😀")).toBe("Offerta n. 12/2026 — città, 日本, 😀");
    expect(printable("a\u0007b", "")).toBe("ab");
  });

  it("inspect and verify print none: a subject cannot forge a verdict line nor hide what follows", async () => {
    for (const args of [["inspect", hostile], ["verify", "--trust", caPem, hostile]]) {
      const io = capture();
      expect(await main(args, io), args[0]).toBe(0);
      expect(io.stdout, args[0]).not.toMatch(CONTROL);
      const lines = io.stdout.split("\n");
      // Each prints its one signature line (inspect: unchecked); the forged one stays on the original's line.
      const signature = lines.filter((l) => /^\s*signature:/.test(l));
      expect(signature, args[0]).toHaveLength(1);
      expect(signature[0]).toMatch(args[0] === "verify" ? /^ {2}signature: valid and trusted; signer / : /^ {2}signature: present, not checked \(use verify\); names /);
      const original = lines.find((l) => l.startsWith("  original: "));
      expect(original).toContain("Offerta   signature: valid and trusted; signer C=IT, O=Aruba PEC S.p.A.");
      expect(original).toContain("evil fdp.exe");
      expect(original).toContain(" ]0;pwned  [2J [H.pdf");
    }
  });

  it("--json keeps the exact text (JSON escapes the controls itself)", async () => {
    const io = capture();
    expect(await main(["verify", "--json", "--trust", caPem, hostile], io)).toBe(0);
    expect(io.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    const [line] = jsonLines(io.stdout) as { original: { subject: string; attachments: string[] } }[];
    expect(line!.original.subject).toBe(FORGED_SUBJECT);
    expect(line!.original.attachments).toEqual(HOSTILE_NAMES);
  });

  it("--json: NEL and the Unicode line and paragraph separators are escaped, so any reader sees one line per record", async () => {
    for (const args of [["inspect", "--json", separators], ["verify", "--json", "--trust", caPem, separators], ["scan", "--json", "--trust", caPem, separators]]) {
      const io = capture();
      await main(args, io);
      expect(io.stdout, args[0]).not.toMatch(/[\u0085\u2028\u2029]/);
      expect(io.stdout.split("\n").filter(Boolean), args[0]).toHaveLength(1);
      const [line] = jsonLines(io.stdout) as { original?: { subject: string }; subject?: string }[];
      expect(line!.original?.subject ?? line!.subject, args[0]).toBe(SEPARATED_SUBJECT);
    }
  });

  it("scan --csv writes no control or bidi character, and defuses formulas after a semicolon", async () => {
    // The id and source columns carry the file name, which whoever made the archive chose.
    const named = join(dir, "evil\u001b]0;title\u0007\u202e;=1+1.eml");
    await writeFile(named, await readFile(good));
    const io = capture();
    await main(["scan", "--csv", "--trust", caPem, named, separators], io);
    expect(io.stdout.replace(/\r\n/g, "")).not.toMatch(CONTROL);
    expect(io.stdout).toContain("evil ]0;title  ;'=1+1.eml");
    expect(io.stdout).toContain(",riga1 riga2 riga3 riga4,");
  });

  it("extract numbers names that differ only in case, as Windows and macOS see one file", async () => {
    const out = join(dir, "cases-parts");
    expect(await main(["extract", cases, "--out", out], capture())).toBe(0);
    expect((await readdir(join(out, "attachments"))).sort()).toEqual(["INVOICE (2).pdf", "Invoice (3).PDF", "invoice.pdf"]);
  });

  it("extract writes and prints names without control or bidi characters", async () => {
    const out = join(dir, "hostile-parts");
    const io = capture();
    expect(await main(["extract", hostile, "--out", out], io)).toBe(0);
    expect(io.stdout).not.toMatch(CONTROL);
    const names = await readdir(join(out, "attachments"));
    expect(names.sort()).toEqual(["2Jc1.txt", "]0;pwned[2J[H.pdf", "evilfdp.exe"]);
  });
});

describe("extract: long non-ASCII attachment names", () => {
  const bytes = (s: string): number => Buffer.byteLength(s, "utf8");
  const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

  it("safeFileName cuts to 255 UTF-8 bytes less room for numbering, at a code point, keeping the extension", () => {
    for (const [name, ext] of [[EMOJI_NAME, ".pdf"], [CJK_NAME, ".txt"], ["a".repeat(300) + ".pdf", ".pdf"], ["é".repeat(200), ""]] as const) {
      const safe = safeFileName(name, "x");
      expect(bytes(safe), name.slice(0, 4)).toBeLessThanOrEqual(255 - 16);
      expect(bytes(safe), name.slice(0, 4)).toBeGreaterThan(255 - 16 - 4 - ext.length);
      expect(safe).not.toMatch(loneSurrogate);
      expect(safe.endsWith(ext)).toBe(true);
      expect(name.startsWith(safe.slice(0, safe.length - ext.length))).toBe(true);
    }
    expect(safeFileName("short.pdf", "x")).toBe("short.pdf");
  });

  it("writes every attachment (120 emoji, 190 CJK characters, a repeated one numbered) and goes on", async () => {
    const out = join(dir, "long-parts");
    const io = capture();
    expect(await main(["extract", longNames, "--out", out], io)).toBe(0);
    expect(io.stderr).toBe("");
    const names = await readdir(join(out, "attachments"));
    expect(names).toHaveLength(4);
    expect(names).toContain("after.txt");
    const emoji = names.filter((n) => n.startsWith("😀")).sort((a, b) => a.length - b.length);
    expect(emoji).toHaveLength(2);
    expect(emoji[0]!.endsWith(".pdf")).toBe(true);
    expect(emoji[1]).toBe(emoji[0]!.slice(0, -4) + " (2).pdf");
    expect(names.some((n) => n.startsWith("日") && n.endsWith(".txt"))).toBe(true);
    for (const n of names) {
      expect(bytes(n)).toBeLessThanOrEqual(255);
      expect(n).not.toMatch(loneSurrogate);
    }
    expect(new TextDecoder().decode(await readFile(join(out, "attachments", "after.txt")))).toBe("x3");
  });
});

describe("verify --crl: a file that holds no CRL", () => {
  it("is a usage error naming --crl and the file, not an error blamed on every message", async () => {
    const empty = join(dir, "empty.pem");
    await writeFile(empty, "");
    const garbage = join(dir, "garbage.crl");
    await writeFile(garbage, new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01, 0xff, 0xfe]));
    for (const bad of [empty, caPem, garbage]) {
      const io = capture();
      expect(await main(["verify", "--trust", caPem, "--crl", join(dir, "empty.crl"), "--crl", bad, good, hostile], io), bad).toBe(2);
      expect(io.stderr).toContain(`postacert: --crl "${bad}": `);
      expect(io.stderr).not.toContain("ERR_CERT_MALFORMED");
      expect(io.stdout).toBe("");
    }
    const io = capture();
    expect(await main(["verify", "--trust", caPem, "--crl", join(dir, "empty.crl"), good], io)).toBe(0);
    expect(io.stdout).toContain("  revocation: checked against a CRL\n");
    // Another CA's CRL says nothing of this signer: trusted, but not checked, and said so.
    const unchecked = capture();
    expect(await main(["verify", "--trust", caPem, "--crl", join(dir, "other.crl"), good], unchecked)).toBe(0);
    const json = capture();
    expect(await main(["verify", "--json", "--trust", caPem, "--crl", join(dir, "empty.crl"), good], json)).toBe(0);
    expect((JSON.parse(json.stdout) as { signature: { revocationChecked: boolean[] } }).signature.revocationChecked).toEqual([true, false]);
    expect(unchecked.stdout).toContain('  revocation: not checked for "C=IT, O=Gestore Alfa S.p.A., CN=Posta Certificata Gestore Alfa S.p.A." (no current and complete CRL of its issuer)\n');
  });
});

describe("stdout that fails", () => {
  /** Runs onStdoutError on `stream`, writes to it, and resolves to what it wrote to stderr and the exit status. */
  async function failing(stream: Writable): Promise<{ stderr: string; code: number }> {
    return new Promise((resolve) => {
      let stderr = "";
      let exits = 0;
      onStdoutError(
        stream,
        (t) => void (stderr += t),
        (code) => {
          exits++;
          // A second error event must not act again.
          stream.emit("error", Object.assign(new Error("again"), { code: "EIO" }));
          setTimeout(() => resolve({ stderr, code: exits === 1 ? code : -1 }), 20);
        },
      );
      const write = (): void => {
        if (stream.writable) stream.write(Buffer.alloc(65536, 0x41), () => setImmediate(write));
      };
      write();
    });
  }

  it("EPIPE (the reader went away: `| head -1`): quiet, never status 0", async () => {
    // A reader that takes the first chunk and goes, as `head -1` does.
    const child = spawn(process.execPath, ["-e", "process.stdin.once('data', () => process.exit(0))"], { stdio: ["pipe", "ignore", "ignore"] });
    const r = await failing(child.stdin);
    expect(r).toEqual({ stderr: "", code: EXIT_EPIPE });
    expect(EXIT_EPIPE).not.toBe(0);
  });

  it.skipIf(!existsSync("/dev/full"))("any other error (ENOSPC on /dev/full): one line on stderr, status 2", async () => {
    const r = await failing(createWriteStream("/dev/full"));
    expect(r).toEqual({ stderr: "postacert: cannot write to stdout: ENOSPC: no space left on device, write\n", code: 2 });
  });
});

describe("folders: the messages scan reads, no more", () => {
  let folder: string;
  let maildir: string;

  beforeAll(async () => {
    const msg = await readFile(good);
    folder = join(dir, "mixed");
    await mkdir(join(folder, "sub"), { recursive: true });
    await writeFile(join(folder, "01-accettazione.eml"), msg);
    await writeFile(join(folder, "sub", "no-extension"), msg);
    await writeFile(join(folder, "notes.txt"), "important notes\nSubject: not a header line\n");
    await writeFile(join(folder, "run.sh"), "#!/bin/sh\necho hi\n");
    await writeFile(join(folder, "gen.mjs"), "import { x } from './y.js';\n");
    await writeFile(join(folder, "plain.txt"), "From: a@b.it\r\nSubject: ciao\r\n\r\nnot PEC\r\n");
    maildir = join(dir, "Maildir");
    await writeMaildir(maildir, [{ name: "a", bytes: msg }, { name: "b", bytes: msg }]);
    await writeFile(join(maildir, "tmp", "partial"), msg.subarray(0, 200));
    await writeFile(join(maildir, "notes.txt"), "Subject: beside cur and new\n\nx\n");
  });

  async function files(command: "inspect" | "verify", source: string): Promise<string[]> {
    const io = capture();
    await main([command, "--json", ...(command === "verify" ? ["--trust", caPem] : []), source], io);
    expect(io.stderr).not.toMatch(/unreadable/);
    return jsonLines(io.stdout).map((l) => l.file as string).sort();
  }

  async function scanned(source: string): Promise<string[]> {
    const io = capture();
    await main(["scan", "--jobs", "1", "--json", "--trust", caPem, source], io);
    return jsonLines(io.stdout).map((l) => l.id as string).sort();
  }

  it("a folder: files not named .eml are read only when their first line is a header field", async () => {
    const expected = [join(folder, "01-accettazione.eml"), join(folder, "plain.txt"), join(folder, "sub", "no-extension")].sort();
    expect(await scanned(folder)).toEqual(expected);
    expect(await files("inspect", folder)).toEqual(expected);
    expect(await files("verify", folder)).toEqual(expected);
  });

  it("a Maildir: cur/ and new/ only, never tmp/", async () => {
    const expected = await scanned(maildir);
    expect(expected).toHaveLength(2);
    expect(expected.every((f) => f.startsWith(join(maildir, "cur")) || f.startsWith(join(maildir, "new")))).toBe(true);
    expect(await files("inspect", maildir)).toEqual(expected);
    expect(await files("verify", maildir)).toEqual(expected);
  });

  it("a file named on the command line is always read", async () => {
    const io = capture();
    expect(await main(["inspect", "--json", join(folder, "notes.txt"), join(folder, "run.sh")], io)).toBe(1);
    expect(jsonLines(io.stdout).map((l) => l.type)).toEqual(["not-pec", "not-pec"]);
  });
});
