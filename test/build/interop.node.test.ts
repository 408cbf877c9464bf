// Independent implementations accept what the builders write: xmllint validates every
// daticert.xml against the DTD, `openssl smime -verify` checks every signature against
// the test CA, Python's email package parses every message. Node only (files, child
// processes); each part is skipped, with a message, when its tool is absent.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAccettazione } from "../../src/pec/build/index.js";
import { readPec } from "../../src/pec/read.js";
import { DATE, type Pki, type Variant, buildVariants, makeOriginal, makePki, txOf } from "./helpers.js";

const hasXmllint = spawnSync("xmllint", ["--version"]).status === 0;
const hasOpenssl = spawnSync("openssl", ["version"]).status === 0;
const hasPython = spawnSync("python3", ["--version"]).status === 0;
if (!hasXmllint) console.warn("interop.node.test.ts: xmllint not on PATH (apt-get install libxml2-utils): DTD validation skipped");
if (!hasOpenssl) console.warn("interop.node.test.ts: openssl not on PATH: signature interoperability skipped");
if (!hasPython) console.warn("interop.node.test.ts: python3 not on PATH: Python email parsing skipped");

const DTD = resolve(import.meta.dirname, "../../fixtures/daticert/daticert.dtd");

let dir: string;
let pki: Pki;
let variants: Variant[];
const files = new Map<string, string>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "postacert-build-"));
  pki = await makePki();
  variants = await buildVariants(pki);
  const opaque = await buildAccettazione(pki.alfa, txOf(makeOriginal()), { date: DATE, form: "opaque" });
  variants.push({ ...variants.find((v) => v.name === "accettazione")!, name: "accettazione (opaque)", built: opaque });
  variants.forEach((v, i) => {
    const p = join(dir, `${String(i).padStart(2, "0")}.eml`);
    writeFileSync(p, v.built.bytes);
    files.set(v.name, p);
  });
  writeFileSync(join(dir, "ca.pem"), pki.ca.pem());
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasXmllint)("xmllint --dtdvalid", () => {
  it("every daticert.xml is valid against the DTD", () => {
    const xmls: string[] = [];
    for (const v of variants) {
      if (v.expect.type === "anomalia") continue;
      const p = join(dir, `${xmls.length}.xml`);
      writeFileSync(p, readPec(v.built.bytes).daticertEntity!.decodedBody());
      xmls.push(p);
    }
    expect(xmls.length).toBe(variants.length - 1);
    const r = spawnSync("xmllint", ["--noout", "--nonet", "--dtdvalid", DTD, ...xmls], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

describe.skipIf(!hasOpenssl)("openssl smime -verify", () => {
  it("accepts every built message with the test CA", () => {
    for (const v of variants) {
      const r = spawnSync("openssl", ["smime", "-verify", "-CAfile", join(dir, "ca.pem"), "-in", files.get(v.name)!, "-out", join(dir, "content.out")], {
        encoding: "utf8",
      });
      expect(`${r.stdout}${r.stderr}`, v.name).toContain("Verification successful");
      expect(r.status, v.name).toBe(0);
    }
  });

  it("refuses a message whose signed content was altered", () => {
    const v = variants.find((x) => x.name === "accettazione")!;
    const bytes = new Uint8Array(v.built.bytes);
    const at = new TextDecoder("latin1").decode(bytes).indexOf("Ricevuta di accettazione");
    bytes[at] = "r".charCodeAt(0);
    const p = join(dir, "tampered.eml");
    writeFileSync(p, bytes);
    const r = spawnSync("openssl", ["smime", "-verify", "-CAfile", join(dir, "ca.pem"), "-in", p, "-out", join(dir, "content.out")], { encoding: "utf8" });
    expect(r.status).not.toBe(0);
  });
});

describe.skipIf(!hasPython)("Python email", () => {
  it("parses every built message into the expected structure", () => {
    const script = [
      "import email, email.policy, json, sys",
      "out = []",
      "for path in sys.argv[1:]:",
      "    m = email.message_from_bytes(open(path, 'rb').read(), policy=email.policy.default)",
      "    types = [p.get_content_type() for p in m.walk()]",
      "    defects = [type(d).__name__ for p in m.walk() for d in p.defects]",
      "    names = [p.get_filename() for p in m.walk() if p.get_filename()]",
      "    headers = {k: str(m[k]) for k in ('Subject', 'From', 'To', 'X-Ricevuta', 'X-Trasporto')}",
      "    texts = [p.get_content() for p in m.walk() if p.get_content_type() == 'text/plain' and not p.get_filename()][:1]",
      "    sender = m['From'].addresses[0]",
      "    out.append({'types': types, 'defects': defects, 'names': names, 'headers': headers, 'text': texts[0] if texts else None, 'from': [sender.display_name, sender.addr_spec]})",
      "print(json.dumps(out))",
    ].join("\n");
    const paths = variants.map((v) => files.get(v.name)!);
    const r = spawnSync("python3", ["-c", script, ...paths], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    expect(r.stderr).toBe("");
    const parsed = JSON.parse(r.stdout) as {
      types: string[];
      defects: string[];
      names: string[];
      headers: Record<string, string>;
      text: string | null;
      from: [string, string];
    }[];
    parsed.forEach((p, i) => {
      const v = variants[i]!;
      expect(p.defects, v.name).toEqual([]);
      expect(p.headers.Subject, v.name).toBe(v.built.subject);
      if (v.name.includes("opaque")) {
        expect(p.types).toEqual(["application/pkcs7-mime"]);
        return;
      }
      expect(p.types.slice(0, 5), v.name).toEqual(["multipart/signed", "multipart/mixed", "multipart/alternative", "text/plain", "text/html"]);
      expect(p.types[p.types.length - 1]).toBe("application/pkcs7-signature");
      if (v.expect.type !== "anomalia") expect(p.names, v.name).toContain("daticert.xml");
      if (v.expect.original !== "none") expect(p.names, v.name).toContain("postacert.eml");
      expect(p.names).toContain("smime.p7s");
      expect(p.text, v.name).toContain("Il giorno ");
      expect(p.from[1]).toBe(v.expect.gestore.email);
      if (v.expect.type === "posta-certificata") expect(p.from[0]).toBe("Per conto di: mario.rossi@pec.alfa.test");
    });
  });
});
