// The postacert CLI, run in-process with a capturing Io (exit statuses, JSON shape, help,
// batches, extract's safe file names).
import { lstat, mkdtemp, readFile, readdir, rm, symlink, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { gzipSync } from "node:zlib";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { capture, withUnreadableFolder } from "./scan-fixtures.js";
import { safeFileName } from "../../src/cli/extract.js";
import { buildAccettazione, buildBusta, composeMessage } from "../../src/pec/build/index.js";
import { createCrl, createGestore, createTestCa, buildIgpecLdif, toPem } from "../../src/simulator/index.js";
import { wildFiles, WILD } from "../support/wild.js";
import { makeZip } from "../support/zip.js";
import { latin1Id, latin1NamesUnsupported, latin1Title, writeLatin1 } from "../support/latin1-names.js";


let dir: string;
let caPem: string;
let ldifPath: string;
let good: string;
let tampered: string;
let busta: string;
let plain: string;
let crlDer: string;
let crlPem: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "postacert-cli-"));
  const validity = { notBefore: new Date("2024-01-01T00:00:00Z"), notAfter: new Date("2030-01-01T00:00:00Z"), keyAlgorithm: "ECDSA-P256" as const };
  const ca = await createTestCa(validity);
  const alfa = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, ...validity });
  caPem = join(dir, "ca.pem");
  await writeFile(caPem, ca.pem());
  // Alfa revoked before it signed anything below: one DER CRL, and a PEM bundle of an empty
  // CRL followed by that one.
  const revoked = await createCrl(ca, { revoked: [{ serialNumber: alfa.serialNumber, revocationDate: new Date("2025-01-01T00:00:00Z") }], thisUpdate: new Date("2025-01-02T00:00:00Z"), crlNumber: 2 });
  const empty = await createCrl(ca, { revoked: [], thisUpdate: new Date("2024-12-01T00:00:00Z"), crlNumber: 1 });
  crlDer = join(dir, "revoked.crl");
  await writeFile(crlDer, revoked);
  crlPem = join(dir, "crls.pem");
  await writeFile(crlPem, toPem(empty, "X509 CRL") + toPem(revoked, "X509 CRL"));
  ldifPath = join(dir, "gestori.ldif");
  await writeFile(ldifPath, await buildIgpecLdif([{ name: alfa.name, certificates: [alfa.certificate], mailReceipt: alfa.email, domains: [alfa.domain] }]));
  const date = new Date("2025-05-02T08:00:00Z");
  const tx = {
    sender: "mario@pec.alfa.test",
    recipients: [{ address: "anna@pec.beta.test", tipo: "certificato" as const, field: "to" as const }],
    subject: "Prova CLI",
    identificativo: "opec9.20250502100000.1.1.1@pec.alfa.test",
    msgid: "<cli@client>",
  };
  await mkdir(join(dir, "in", "sub"), { recursive: true });
  good = join(dir, "in", "accettazione.eml");
  const acc = (await buildAccettazione(alfa, tx, { date })).bytes;
  await writeFile(good, acc);
  tampered = join(dir, "in", "sub", "tampered.eml");
  const t = acc.slice();
  const at = Buffer.from(acc).indexOf("Ricevuta di accettazione");
  t[at] = "X".charCodeAt(0);
  await writeFile(tampered, t);
  // Our builder writes safe names; a hostile client does not: put the path back by hand.
  const composed = composeMessage({
    from: tx.sender,
    to: ["anna@pec.beta.test"],
    subject: "Prova CLI",
    text: "Ciao",
    messageId: "<cli@client>",
    date,
    attachments: [
      { filename: "../../evil.txt", contentType: "text/plain", content: new TextEncoder().encode("x") },
      { filename: "fattura.pdf", contentType: "application/pdf", content: new Uint8Array([37, 80, 68, 70]) },
    ],
  });
  const original = new TextEncoder().encode(new TextDecoder().decode(composed).replaceAll("name=evil.txt", 'name="../../evil.txt"'));
  expect(new TextDecoder().decode(original)).toContain('filename="../../evil.txt"');
  busta = join(dir, "busta.eml");
  await writeFile(busta, (await buildBusta(alfa, tx, { original, date })).bytes);
  plain = join(dir, "plain.eml");
  await writeFile(plain, "From: a@b.it\r\nTo: c@d.it\r\nSubject: ciao\r\n\r\nnot PEC\r\n");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("usage", () => {
  it("prints help, with examples for each command, and exits 0", async () => {
    for (const cmd of ["inspect", "verify", "extract", "simulate", "demo"]) {
      const io = capture();
      expect(await main([cmd, "--help"], io)).toBe(0);
      expect(io.stdout).toContain(`postacert ${cmd}`);
    }
    const io = capture();
    expect(await main(["--help"], io)).toBe(0);
    expect(io.stdout).toMatch(/Exit status/);
  });

  it("help <command> is that command's help; no command is an error on stderr; after -- a --help is a file", async () => {
    const io = capture();
    expect(await main(["help", "verify"], io)).toBe(0);
    expect(io.stdout).toMatch(/^postacert verify /);
    expect(await main(["help", "frobnicate"], capture())).toBe(2);
    const none = capture();
    expect(await main([], none)).toBe(2);
    expect(none.stdout).toBe("");
    expect(none.stderr).toMatch(/Exit status/);
    const dashed = capture();
    expect(await main(["verify", "--", "--help"], dashed)).toBe(2);
    expect(dashed.stdout).not.toContain("Options:");
    expect(dashed.stderr).toContain("--help: cannot read");
  });

  it("exits 2 on usage errors", async () => {
    for (const args of [[], ["frobnicate"], ["inspect"], ["inspect", "--nope", "x"], ["verify", "--at", "yesterday", "x"], ["inspect", join(dir, "missing.eml")]]) {
      const io = capture();
      expect(await main(args, io), args.join(" ")).toBe(2);
    }
  });

  it("a single-value option given twice with different values is a usage error; repeatable ones add up", async () => {
    const io = capture();
    expect(await main(["verify", "--at", "2026-03-01", good, "--at=2027-03-01"], io)).toBe(2);
    expect(io.stderr).toContain('postacert: --at given twice ("2026-03-01" and "2027-03-01"): give it once');
    const out = capture();
    expect(await main(["extract", good, "--out", join(dir, "a"), "--out", join(dir, "b")], out)).toBe(2);
    expect(out.stderr).toContain("--out given twice");
    expect(await main(["verify", "--at", "2026-03-01T10:00:00Z", "--at", "2026-03-01T10:00:00Z", "--trust", caPem, "--trust", caPem, "--json", "--json", good], capture())).toBeLessThan(2);
  });

  it("--at takes ISO 8601 times only, and no day that does not exist", async () => {
    for (const at of ["1", "Tue Nov 24 2026", "2026-02-30", "2026-02-29", "2026-13-01", "2026-03-01T24:00"]) {
      const io = capture();
      expect(await main(["verify", "--at", at, good], io), at).toBe(2);
      expect(io.stderr).toContain("is not an ISO 8601 time");
    }
    for (const at of ["2024-02-29", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00.5+01:00"]) {
      expect(await main(["verify", "--at", at, good], capture()), at).toBeLessThan(2);
    }
  });
});

describe("inspect", () => {
  it("prints a readable summary and exits 0 when every file is PEC", async () => {
    const io = capture();
    expect(await main(["inspect", good], io)).toBe(0);
    expect(io.stdout).toContain("accettazione");
    expect(io.stdout).toContain("Ricevuta di accettazione / Acceptance receipt");
    expect(io.stdout).toContain("identificativo: opec9.20250502100000.1.1.1@pec.alfa.test");
    expect(io.stdout).toMatch(/1 inspected, 0 failed, 0 not PEC/);
    expect(io.stdout).not.toMatch(/\x1b\[/);
  });

  it("--json prints one object per file with the design.md shape, no signature verdict", async () => {
    const io = capture();
    expect(await main(["inspect", "--json", good, plain], io)).toBe(1);
    const lines = io.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    const [acc, other] = lines as [Record<string, any>, Record<string, any>];
    expect(acc.file).toBe(good);
    expect(acc.type).toBe("accettazione");
    expect(acc.errore).toBe("nessuno");
    expect(acc.daticert).toMatchObject({
      tipo: "accettazione",
      mittente: "mario@pec.alfa.test",
      destinatari: [{ address: "anna@pec.beta.test", tipo: "certificato" }],
      gestoreEmittente: "Gestore Alfa S.p.A.",
      data: { zona: "+0200", giorno: "02/05/2025", ora: "10:00:00" },
      identificativo: "opec9.20250502100000.1.1.1@pec.alfa.test",
      msgid: "<cli@client>",
      erroreEsteso: null,
    });
    expect(acc.signature.present).toBe(true);
    expect("valid" in acc.signature).toBe(false);
    expect(acc.original.present).toBe(false);
    expect(other.type).toBe("not-pec");
    // The summary stays off stdout with --json.
    expect(io.stderr).toMatch(/1 inspected, 0 failed, 1 not PEC/);
  });

  it("names what the signature names, without checking it: the same as verify finds, a tampered file too", async () => {
    const verified = capture();
    await main(["verify", "--trust", caPem, "--json", good], verified);
    const { signer, signedAt, digestAlgorithm } = (JSON.parse(verified.stdout) as { signature: Record<string, string> }).signature;
    expect(signer).toContain("Gestore Alfa");
    const io = capture();
    await main(["inspect", "--json", good, tampered], io);
    for (const line of io.stdout.trim().split("\n")) {
      expect((JSON.parse(line) as { signature: unknown }).signature).toEqual({ present: true, signer, signedAt, digestAlgorithm, issues: [] });
    }
    const text = capture();
    await main(["inspect", tampered], text);
    expect(text.stdout).toContain(`  signature: present, not checked (use verify); names ${signer}; signingTime 2025-05-02T08:00:00Z; SHA-256\n`);
  });

  it("walks folders recursively and reads standard input", async () => {
    const io = capture();
    await main(["inspect", "--json", join(dir, "in")], io);
    expect(io.stdout.trim().split("\n")).toHaveLength(2);
    const stdin = capture(await readFile(good));
    expect(await main(["inspect", "-"], stdin)).toBe(0);
    expect(stdin.stdout).toContain("-: ");
  });

  it("one unreadable file does not stop the batch", async () => {
    const garbage = join(dir, "garbage.eml");
    await writeFile(garbage, new Uint8Array(0));
    const io = capture();
    const status = await main(["inspect", garbage, good], io);
    expect(io.stdout).toContain("accettazione");
    expect(status).toBeGreaterThan(0);
  });
});

describe("verify", () => {
  it("on a terminal, the progress line is cleared before a file's lines, not glued to them", async () => {
    const many = join(dir, "many");
    await mkdir(many, { recursive: true });
    for (let i = 0; i < 25; i++) await writeFile(join(many, `m${String(i).padStart(2, "0")}.eml`), await readFile(good));
    // One terminal for both streams, as a user sees it: "\r\x1b[2K" erases the line so far.
    let screen = "";
    const io = { ...capture(), progress: true, out: (t: string) => void (screen += t), err: (t: string) => void (screen += t) };
    expect(await main(["inspect", many], io)).toBe(0);
    const lines = screen.split("\n").map((l) => l.slice(l.lastIndexOf("\r\x1b[2K") + 1));
    expect(lines.some((l) => l.includes("files, ") && l.includes("accettazione"))).toBe(false);
    expect(screen).toContain("25/25 files");
  });

  it("a missing or unreadable input is reported beside the others, and the status is 2", async () => {
    const missing = join(dir, "no-such.eml");
    const io = capture();
    expect(await main(["verify", "--trust", caPem, good, missing], io)).toBe(2);
    expect(io.stdout).toContain("valid and trusted");
    expect(io.stderr).toContain(`${missing}: cannot read: ENOENT`);
    const json = capture();
    expect(await main(["verify", "--trust", caPem, "--json", missing, good], json)).toBe(2);
    expect(json.stdout.trim().split("\n")).toHaveLength(1);
    // A folder with no message in it is not a folder of verified messages.
    const empty = join(dir, "empty-folder");
    await mkdir(empty, { recursive: true });
    await writeFile(join(empty, "ca.pem"), await readFile(caPem));
    const none = capture();
    expect(await main(["verify", "--trust", caPem, empty], none)).toBe(2);
    expect(none.stderr).toContain("no messages in");
    // Nor one whose files all turn out not to be messages.
    await writeFile(join(empty, "notes"), "not a header line\n");
    const notes = capture();
    expect(await main(["verify", "--trust", caPem, empty], notes)).toBe(2);
    expect(notes.stderr).toContain("no messages in");
  });

  it("--trust ca.pem: good file valid and trusted (0), tampered one not valid (1)", async () => {
    const ok = capture();
    expect(await main(["verify", "--trust", caPem, good], ok)).toBe(0);
    expect(ok.stdout).toContain("valid and trusted");
    const bad = capture();
    expect(await main(["verify", "--trust", caPem, "--json", good, tampered], bad)).toBe(1);
    const [a, b] = bad.stdout.trim().split("\n").map((l) => JSON.parse(l) as { signature: { valid: boolean; trusted: boolean; signer: string; signedAt: string; digestAlgorithm: string; issues: { code: string }[] } });
    expect(a!.signature).toMatchObject({ valid: true, trusted: true, signedAt: "2025-05-02T08:00:00.000Z", digestAlgorithm: "SHA-256" });
    expect(a!.signature.signer).toContain("Gestore Alfa");
    expect(b!.signature.valid).toBe(false);
    expect(b!.signature.issues.map((i) => i.code)).toContain("SIGNATURE_MISMATCH");
  });

  it("--trust takes an IGPEC LDIF, and --at moves the validation time", async () => {
    const io = capture();
    expect(await main(["verify", "--trust", ldifPath, good], io)).toBe(0);
    const late = capture();
    expect(await main(["verify", "--trust", caPem, "--at", "2031-01-01T00:00:00Z", good], late)).toBe(1);
    expect(late.stdout).toContain("CERT_EXPIRED_AT_SIGNING");
  });

  it("--crl (DER, or PEM with several CRLs): a signer revoked before it signed is not trusted", async () => {
    for (const crl of [crlDer, crlPem]) {
      const io = capture();
      expect(await main(["verify", "--trust", caPem, "--crl", crl, good], io)).toBe(1);
      expect(io.stdout).toContain("CERT_REVOKED");
    }
    const plain = capture();
    expect(await main(["verify", "--trust", caPem, good], plain)).toBe(0);
    expect(plain.stdout).not.toContain("revocation:");
    const missing = capture();
    expect(await main(["verify", "--trust", caPem, "--crl", join(dir, "none.crl"), good], missing)).toBe(2);
    expect(missing.stderr).toContain('--crl: cannot read "');
  });

  it("without --trust, a test-CA message is not trusted (system roots require the PEC policy chain)", async () => {
    const io = capture();
    expect(await main(["verify", good], io)).toBe(1);
    expect(io.stdout).toContain("valid, not trusted");
  });

  it.skipIf(wildFiles === null)("without --trust, a real 2019 Sogei busta is trusted through AgID CA1 and Actalis", async () => {
    const io = capture();
    expect(await main(["verify", "--json", `${WILD}/3dinformatica__docway-msa/fattura_passiva_privati_1.eml`], io)).toBe(0);
    const r = JSON.parse(io.stdout) as { signature: { trusted: boolean; signer: string } };
    expect(r.signature.trusted).toBe(true);
    expect(r.signature.signer).toMatch(/Sogei/i);
  });
});

describe("stored forms: mbox, gzip", () => {
  const mboxOf = (messages: Uint8Array[]): Buffer =>
    Buffer.concat(messages.flatMap((m) => [Buffer.from("From MAILER-DAEMON Mon Jun 16 10:00:00 2025\r\n"), Buffer.from(m), Buffer.from("\r\n")]));

  it("inspect and verify read each message of an mbox (also gzip-compressed), named path#offset", async () => {
    const [acc, bad, env] = await Promise.all([readFile(good), readFile(tampered), readFile(busta)]);
    const mbox = join(dir, "archive.mbox");
    await writeFile(mbox, mboxOf([acc, bad, env]));
    await writeFile(mbox + ".gz", gzipSync(await readFile(mbox)));
    for (const source of [mbox, mbox + ".gz"]) {
      const io = capture();
      // The tampered one fails; read as one message, the file would have passed as the first.
      expect(await main(["verify", "--trust", caPem, "--json", source], io)).toBe(1);
      const lines = io.stdout.trim().split("\n").map((l) => JSON.parse(l) as { file: string; type: string; signature: { valid: boolean } });
      const offsets = [0, 45 + acc.length + 2, 2 * 45 + acc.length + bad.length + 4];
      expect(lines.map((l) => l.file)).toEqual(offsets.map((o) => `${source}#${o}`));
      expect(lines.map((l) => l.signature.valid)).toEqual([true, false, true]);
      expect(io.stderr).toContain("2 verified, 1 failed, 0 not PEC");
      const listed = capture();
      expect(await main(["inspect", source], listed)).toBe(0);
      expect(listed.stdout).toContain("3 inspected, 0 failed, 0 not PEC");
    }
    // In a folder too (a Thunderbird "Inbox" has no extension), as scan reads it.
    const profile = join(dir, "profile");
    await mkdir(profile, { recursive: true });
    await writeFile(join(profile, "Inbox"), await readFile(mbox));
    const inFolder = capture();
    expect(await main(["verify", "--trust", caPem, profile], inFolder)).toBe(1);
    expect(inFolder.stdout).toContain(`${join(profile, "Inbox")}#0: accettazione`);
    expect(inFolder.stdout).toContain("2 verified, 1 failed, 0 not PEC");
    // An mbox.gz cut short: unreadable (2), said on stderr; the messages before the damage are
    // read. The last message is text that does not compress, so the cut falls inside it.
    const cut = join(dir, "cut.mbox.gz");
    const noise = Buffer.from(`Subject: x\r\n\r\n${randomBytes(3000).toString("base64")}\r\n`);
    const whole = gzipSync(mboxOf([acc, bad, env, noise]));
    await writeFile(cut, whole.subarray(0, whole.length - 200));
    const io = capture();
    expect(await main(["inspect", cut], io)).toBe(2);
    expect(io.stdout).toMatch(/^3 inspected, 0 failed, 0 not PEC, 1 unreadable$/m);
    // Said once: not "cannot read: cannot read <path>: …".
    expect(io.stderr).toContain(`${cut}: cannot read: unexpected end of file\n`);
  });

  it("inspect and verify read each message of a ZIP archive, named file#entry, and name those they cannot read", async () => {
    const zip = join(dir, "export.zip");
    await writeFile(zip, makeZip([{ name: "a/acc.eml", data: await readFile(good) }, { name: "a/bad.eml", data: await readFile(tampered) }, { name: "secret.eml", data: "x", encrypted: true }]));
    const io = capture();
    expect(await main(["verify", "--trust", caPem, zip], io)).toBe(2);
    expect(io.stdout).toContain(`${zip}#a/acc.eml: accettazione`);
    expect(io.stdout).toContain("1 verified, 1 failed, 0 not PEC, 1 unreadable");
    expect(io.stderr).toContain(`${zip}#secret.eml: cannot read: ${zip}#secret.eml is encrypted; extract it with its password first`);
  });

  it("a gzip-compressed message is read decompressed by inspect, verify and extract; extract refuses an mbox", async () => {
    const gz = join(dir, "accettazione.eml.gz");
    await writeFile(gz, gzipSync(await readFile(good)));
    expect(await main(["verify", "--trust", caPem, gz], capture())).toBe(0);
    const out = join(dir, "gz-parts");
    expect(await main(["extract", gz, "--out", out], capture())).toBe(0);
    expect((await readdir(out)).sort()).toEqual(["daticert.xml", "smime.p7s"]);
    const xz = join(dir, "archived.eml");
    await writeFile(xz, Uint8Array.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0]));
    const io = capture();
    expect(await main(["verify", "--trust", caPem, xz], io)).toBe(2);
    expect(io.stderr).toContain("archived.eml: cannot read: the file is xz-compressed; decompress it first");
    const mbox = join(dir, "one.mbox");
    await writeFile(mbox, mboxOf([await readFile(good)]));
    const refused = capture();
    expect(await main(["extract", mbox], refused)).toBe(2);
    expect(refused.stderr).toContain(`"${mbox}" is an mbox, which holds several messages; extract takes one`);
    // On standard input: gzip is read, an mbox is each of its messages (named -#offset).
    expect(await main(["verify", "--trust", caPem, "-"], capture(gzipSync(await readFile(good))))).toBe(0);
    const two = Buffer.concat([await readFile(mbox), await readFile(mbox)]);
    const piped = capture(gzipSync(two));
    expect(await main(["verify", "--trust", caPem, "-"], piped)).toBe(0);
    expect(piped.stdout).toContain("-#0: accettazione");
    expect(piped.stdout).toContain(`-#${(await readFile(mbox)).length}: accettazione`);
    expect(piped.stdout).toContain("2 verified, 0 failed, 0 not PEC");
    expect(await main(["extract", "-"], capture(await readFile(mbox)))).toBe(2);
  });

  it("a named pipe or a device: read as standard input is, each message of an mbox, never past the size limit", async () => {
    const mbox = join(dir, "piped.mbox");
    await writeFile(mbox, mboxOf([await readFile(good), await readFile(good)]));
    const fifo = join(dir, "pipe");
    spawnSync("mkfifo", [fifo]);
    createWriteStream(fifo).end(gzipSync(await readFile(mbox)));
    const io = capture();
    // It read the pipe as one message: the first, and the rest as a TRAILING_MESSAGE warning.
    expect(await main(["verify", "--trust", caPem, fifo], io)).toBe(0);
    expect(io.stdout).toContain(`${fifo}#0: accettazione`);
    expect(io.stdout).toContain(`${fifo}#${(await readFile(mbox)).length / 2}: accettazione`);
    expect(io.stdout).toContain("2 verified, 0 failed, 0 not PEC");
    // /dev/zero has a size of 0 and no end: it was read until memory ran out.
    for (const command of ["inspect", "verify", "extract"]) {
      const zero = capture();
      expect(await main([command, "/dev/zero", ...(command === "extract" ? ["--out", join(dir, "zero")] : [])], zero), command).toBe(2);
      expect(zero.stderr, command).toMatch(/\/dev\/zero.*larger than .*268435456 bytes/);
    }
  });

  it("a message of an mbox on standard input larger than readPec reads is named unreadable, not read as empty; the others are read", async () => {
    const acc = await readFile(good);
    // One line of 257 MiB: the reader counts it and keeps none of it.
    const huge = Buffer.alloc(257 * 2 ** 20, 0x61);
    const mbox = mboxOf([acc, huge, acc]);
    // Gzip-compressed, it unpacks to more than one message may be: streamed, it is read all the same.
    for (const input of [mbox, gzipSync(mbox)]) {
      const piped = capture(input);
      expect(await main(["verify", "--trust", caPem, "-"], piped)).toBe(2);
      const second = 45 + acc.length + 2;
      expect(piped.stdout).toContain("-#0: accettazione");
      expect(piped.stdout).toContain(`-#${second + 45 + huge.length + 2}: accettazione`);
      expect(piped.stdout).toContain("2 verified, 0 failed, 0 not PEC, 1 unreadable");
      expect(piped.stderr).toContain(`-#${second}: cannot read: the message at -#${second} is ${huge.length + 2} bytes, more than the ${2 ** 28} read`);
    }
    // One message that large is refused without reading it whole, by extract too.
    const one = capture(huge);
    expect(await main(["inspect", "-"], one)).toBe(2);
    expect(one.stderr).toContain(`-: cannot read: standard input is larger than the ${2 ** 28} bytes of a message read`);
    const extracted = capture(huge);
    expect(await main(["extract", "-", "--out", join(dir, "never")], extracted)).toBe(2);
    expect(extracted.stderr).toContain("-: ERR_TOO_LARGE: standard input is larger");
  });

  it("an mbox piped to the process is read as it comes; a damaged gzip-compressed one gives the messages before the damage", async () => {
    const [acc, bad] = await Promise.all([readFile(good), readFile(tampered)]);
    const cli = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
    const mbox = mboxOf([acc, bad, acc]);
    const run = spawnSync(process.execPath, [cli, "verify", "--trust", caPem, "-"], { input: mbox, encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(`-#${45 + acc.length + 2 + 45 + bad.length + 2}: accettazione`);
    expect(run.stdout).toContain("2 verified, 1 failed, 0 not PEC");
    const noise = Buffer.from(`Subject: x\r\n\r\n${randomBytes(3000).toString("base64")}\r\n`);
    const whole = gzipSync(mboxOf([acc, bad, noise]));
    const cut = spawnSync(process.execPath, [cli, "inspect", "-"], { input: whole.subarray(0, whole.length - 200), encoding: "utf8" });
    expect(cut.status).toBe(2);
    expect(cut.stdout).toContain("2 inspected, 0 failed, 0 not PEC, 1 unreadable");
    expect(cut.stderr).toContain("-: cannot read: the gzip-compressed data is damaged: unexpected end of file");
  });
});

describe("extract", () => {
  it("writes postacert.eml, daticert.xml, smime.p7s and attachments with safe names", async () => {
    const out = join(dir, "parts");
    const io = capture();
    expect(await main(["extract", busta, "--out", out], io)).toBe(0);
    const files = (await readdir(out)).sort();
    expect(files).toEqual(["attachments", "daticert.xml", "postacert.eml", "smime.p7s"]);
    expect((await readdir(join(out, "attachments"))).sort()).toEqual(["_.._evil.txt", "fattura.pdf"]);
    expect(new TextDecoder().decode(await readFile(join(out, "daticert.xml")))).toContain("<postacert tipo=\"posta-certificata\"");
    // No overwrite without --force.
    const again = capture();
    expect(await main(["extract", busta, "--out", out], again)).toBe(2);
    expect(again.stderr).toMatch(/exists/);
    expect(await main(["extract", busta, "--out", out, "--force"], capture())).toBe(0);
  });

  it("an --out that is a file, or a part whose name is taken by a folder, is a usage error", async () => {
    const file = join(dir, "not-a-folder");
    await writeFile(file, "x");
    const io = capture();
    expect(await main(["extract", busta, "--out", file], io)).toBe(2);
    expect(io.stderr).toMatch(/cannot create the folder ".*not-a-folder": EEXIST/);
    const out = join(dir, "taken");
    await mkdir(join(out, "daticert.xml"), { recursive: true });
    const forced = capture();
    expect(await main(["extract", busta, "--out", out, "--force"], forced)).toBe(2);
    expect(forced.stderr).toMatch(/cannot write ".*daticert.xml": it is a folder/);
  });

  it("refuses an existing part before writing anything, and never writes through a symbolic link", async () => {
    const out = join(dir, "partial");
    await mkdir(out, { recursive: true });
    await writeFile(join(out, "smime.p7s"), "mine");
    const io = capture();
    expect(await main(["extract", busta, "--out", out], io)).toBe(2);
    expect(io.stderr).toMatch(/smime.p7s" exists/);
    expect((await readdir(out)).sort()).toEqual(["smime.p7s"]);
    // A link at a part's name is replaced by --force, its target left alone.
    const victim = join(dir, "victim.txt");
    await writeFile(victim, "precious");
    const linked = join(dir, "linked-out");
    await mkdir(linked, { recursive: true });
    await symlink(victim, join(linked, "postacert.eml"));
    expect(await main(["extract", busta, "--out", linked], capture())).toBe(2);
    expect(await main(["extract", busta, "--out", linked, "--force"], capture())).toBe(0);
    expect(await readFile(victim, "utf8")).toBe("precious");
    expect((await lstat(join(linked, "postacert.eml"))).isFile()).toBe(true);
    // An attachments/ that links elsewhere is not written through.
    const elsewhere = join(dir, "elsewhere");
    await mkdir(elsewhere, { recursive: true });
    const redirected = join(dir, "redirected-out");
    await mkdir(redirected, { recursive: true });
    await symlink(elsewhere, join(redirected, "attachments"));
    const r = capture();
    expect(await main(["extract", busta, "--out", redirected, "--force"], r)).toBe(2);
    expect(r.stderr).toContain("is a symbolic link");
    expect(await readdir(elsewhere)).toEqual([]);
  });

  it("makes any attachment name safe", () => {
    expect(safeFileName("../../etc/passwd", "x")).toBe("_.._etc_passwd");
    expect(safeFileName("..", "x")).toBe("x");
    expect(safeFileName("a\u0000b\nc.pdf", "x")).toBe("abc.pdf");
    expect(safeFileName("CON.txt", "x")).toBe("_CON.txt");
    // Windows also reserves these: spaces before the extension, the console names, superscript digits.
    for (const n of ["CON .txt", "conin$", "CONOUT$.log", "COM\u00b9.txt", "lpt\u00b2", "nul"]) expect(safeFileName(n, "x"), n).toBe("_" + n);
    expect(safeFileName("COM10.txt", "x")).toBe("COM10.txt");
    // Invisible characters would make one name look like another.
    expect(safeFileName("fat\u200btura\u00ad.pdf\ufeff", "x")).toBe("fattura.pdf");
    expect(safeFileName(".bashrc", "x")).toBe("bashrc");
    expect(safeFileName(undefined, "attachment-1")).toBe("attachment-1");
    expect(safeFileName("a".repeat(300) + ".pdf", "x")).toBe("a".repeat(235) + ".pdf");
  });

  it.skipIf(wildFiles === null)("extracts the inner PEC of a forwarded message", async () => {
    const out = join(dir, "noreply");
    expect(await main(["extract", `${WILD}/3dinformatica__docway-msa/NoReply01.eml`, "--out", out], capture())).toBe(0);
    expect(await readdir(out)).toContain("postacert.eml");
  });
});

describe("folders beside trust material", () => {
  it("skips .pem and .ldif files when expanding a folder, as simulate's output holds them, and what scan skips", async () => {
    const folder = join(dir, "mixed");
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, "01-accettazione.eml"), await readFile(good));
    await writeFile(join(folder, "ca.pem"), await readFile(caPem));
    await writeFile(join(folder, "gestori.ldif"), await readFile(ldifPath));
    await writeFile(join(folder, "fattura.pdf"), "%PDF-1.7\n");
    await writeFile(join(folder, "firmato.p7m"), new Uint8Array([0x30, 0x80, 0x06, 0x09]));
    const io = capture();
    expect(await main(["verify", "--trust", join(folder, "ca.pem"), folder], io)).toBe(0);
    expect(io.stdout).toMatch(/1 verified, 0 failed, 0 not PEC/);
  });

  it.skipIf(latin1NamesUnsupported !== undefined)(latin1Title("verify and inspect read files whose names are not UTF-8, in a folder and a Maildir"), async () => {
    const folder = join(dir, "latin1");
    const maildir = join(dir, "Latin1Maildir");
    for (const d of ["cur", "new", "tmp"]) await mkdir(join(maildir, d), { recursive: true });
    const bytes = await readFile(good);
    for (const n of ["Forl\xe0.eml", "Forl\xec.eml", "Citt\xe0/verbale"]) writeLatin1(folder, n, bytes);
    for (const n of ["cur/1.M1.Forl\xec:2,S", "new/2.M2.Forl\xe0"]) writeLatin1(maildir, n, bytes);
    for (const [source, count] of [[folder, 3], [maildir, 2]] as const) {
      const io = capture();
      expect(await main(["verify", "--trust", caPem, source], io)).toBe(0);
      expect(io.stdout).toContain(`${count} verified, 0 failed, 0 not PEC`);
      const inspected = capture();
      expect(await main(["inspect", source], inspected)).toBe(0);
      expect(inspected.stdout).toContain(`${count} inspected, 0 failed, 0 not PEC`);
    }
    // JSON writes the escaped bytes as \udcXX: each file keeps its own name.
    const io = capture();
    expect(await main(["verify", "--trust", caPem, "--json", folder], io)).toBe(0);
    expect(io.stdout).toContain("Forl\\udcec.eml");
    expect(io.stdout.trim().split("\n").map((l) => JSON.parse(l).file)).toEqual(["Citt\xe0/verbale", "Forl\xe0.eml", "Forl\xec.eml"].map((n) => latin1Id(folder, n)));
  });

  it.skipIf(process.platform !== "linux")("reads a linked file, skips hidden folders, and reports a folder it cannot read without stopping", async () => {
    const folder = join(dir, "walked");
    await mkdir(join(folder, ".git"), { recursive: true });
    await writeFile(join(folder, ".git", "stray.eml"), await readFile(good));
    await symlink(good, join(folder, "linked.eml"));
    await withUnreadableFolder(folder, async () => {
      const io = capture();
      expect(await main(["inspect", folder], io)).toBe(2);
      expect(io.stdout).toContain(`${join(folder, "linked.eml")}: accettazione`);
      expect(io.stdout).not.toContain("stray.eml");
      expect(io.stderr).toMatch(/cannot read: ENAMETOOLONG/);
      expect(io.stdout).toMatch(/1 inspected, 0 failed, 0 not PEC, 1 unreadable/);
    });
  });
});
