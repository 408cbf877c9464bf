// Every daticert.xml that a plain text search finds in ../shared/wild parses. The MIME
// layer is deliberately not used: the part is located by its `name="daticert.xml"`
// parameter and its body decoded here (base64, quoted-printable or 7bit), so this test
// depends on the daticert layer only. Parts inside encoded attachments (forwarded PEC)
// are out of reach of this search; the PEC-level suite covers them.
import { describe, expect, it } from "vitest";
import { parseDaticert, type ParsedDaticert } from "../../src/daticert/index.js";
import { PecError } from "../../src/errors.js";
import { decodeBase64Bytes } from "../../src/util/base64.js";
import { latin1 } from "../../src/util/bytes.js";
import { readWild, wildFiles } from "../support/wild.js";

interface Found {
  at: number;
  encoding: string;
  body: Uint8Array;
}

function decodeQp(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x3d) {
      if (s[i + 1] === "\n") {
        i += 1;
        continue;
      }
      if (s[i + 1] === "\r" && s[i + 2] === "\n") {
        i += 2;
        continue;
      }
      const h = s.slice(i + 1, i + 3);
      if (/^[0-9A-Fa-f]{2}$/.test(h)) {
        out[o++] = parseInt(h, 16);
        i += 2;
        continue;
      }
    }
    out[o++] = c & 0xff;
  }
  return out.subarray(0, o);
}

function blankLineBefore(s: string, at: number): number {
  return Math.max(s.lastIndexOf("\n\n", at), s.lastIndexOf("\n\r\n", at));
}

/** Finds the parts whose headers name daticert.xml and decodes their bodies. */
function findDaticerts(bytes: Uint8Array): Found[] {
  const s = latin1(bytes);
  const out: Found[] = [];
  const seen = new Set<number>();
  const re = /\bname\s*=\s*"?daticert\.xml/gi;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const hs = blankLineBefore(s, m.index);
    if (seen.has(hs)) continue;
    seen.add(hs);
    const lf = s.indexOf("\n\n", m.index);
    const crlf = s.indexOf("\n\r\n", m.index);
    const bodyStart = crlf !== -1 && (lf === -1 || crlf < lf) ? crlf + 3 : lf + 2;
    const header = s.slice(hs, bodyStart);
    if (!/^content-type:/im.test(header)) continue;
    const cte = (/content-transfer-encoding:\s*([\w-]+)/i.exec(header)?.[1] ?? "7bit").toLowerCase();
    const end = s.indexOf("\n--", bodyStart);
    const raw = s.slice(bodyStart, end === -1 ? s.length : end);
    const rawBytes = bytes.subarray(bodyStart, bodyStart + raw.length);
    const body = cte === "base64" ? decodeBase64Bytes(rawBytes) : cte === "quoted-printable" ? decodeQp(raw) : rawBytes;
    out.push({ at: m.index, encoding: cte, body });
  }
  return out;
}

// Files with a known defect, and what the parser must say about them.
const KNOWN: Record<string, (results: (ParsedDaticert | PecError)[]) => void> = {
  // Cedacri 2018: `dell&#18;art.` in the subject.
  "3dinformatica__docway-msa/daticertEncoding.eml": ([d]) => {
    const x = d as ParsedDaticert;
    expect(x.warnings.map((w) => w.code)).toEqual(["ILLEGAL_CHARACTER_REFERENCE"]);
    expect(x.intestazione.oggetto).toContain("dellart. 72/bis");
    expect(x.dati.msgid).toBe("<47108.2.228.141.109.1530092187.squirrel@www.postacert.cedacri.it>");
  },
  // Register.it 2018: a raw 0x16 in the subject (and a TAB, which is legal).
  "3dinformatica__docway-msa/daticertEncoding2.eml": ([d]) => {
    const x = d as ParsedDaticert;
    expect(x.warnings.map((w) => `${w.code}@${w.line}:${w.column}`)).toEqual(["ILLEGAL_CHARACTER@7:93"]);
    expect(x.intestazione.oggetto).toContain("RN \tRIMBORSO IVA ANNO 2017 PROT 407 DEL 29.06.2018  EASY BUSINESS");
  },
  // Three daticert.xml: the busta's own, and two in the forwarded protocol message, one
  // of which was line-wrapped inside a tag by a mail client: `a.it<` LF `/destinatari>`.
  "3dinformatica__docway-msa/notWellFormed.eml": (results) => {
    expect(results).toHaveLength(3);
    expect(results.filter((r) => r instanceof PecError)).toHaveLength(0);
    const repaired = results.filter((r) => !(r instanceof PecError) && r.warnings.some((w) => w.code === "MARKUP_REPAIRED"));
    expect(repaired).toHaveLength(1);
    const d = repaired[0] as ParsedDaticert;
    expect(d.warnings.find((w) => w.code === "MARKUP_REPAIRED")!.line).toBe(6);
    expect(d.intestazione.destinatari.map((x) => x.address)).toEqual([
      "gestionespesedilite.risorseeconomiche@pec.comune.roma.it",
      "protocollo@pec.agenziariscossione.gov.it",
    ]);
  },
};

describe.skipIf(wildFiles === null)("daticert.xml in the real samples (../shared/wild)", () => {
  it("parses every daticert.xml a text search finds", async () => {
    let parsed = 0;
    for (const file of wildFiles!) {
      const found = findDaticerts(await readWild(file));
      const results = found.map((f) => {
        try {
          return parseDaticert(f.body);
        } catch (e) {
          if (!(e instanceof PecError)) throw e;
          return e;
        }
      });
      const check = KNOWN[file];
      if (check !== undefined) {
        check(results);
      } else {
        for (const r of results) {
          if (r instanceof PecError) throw new Error(`${file}: ${r.message}`);
          expect(r.warnings, file).toEqual([]);
        }
      }
      for (const r of results) {
        if (r instanceof PecError) continue;
        parsed++;
        expect(r.encoding).toBe("utf-8");
        expect(r.intestazione.destinatari.length).toBeGreaterThan(0);
        expect(r.dati.identificativo).not.toMatch(/^<|>$/);
      }
    }
    // 37 files hold a top-level daticert.xml; notWellFormed.eml holds two more.
    expect(parsed).toBeGreaterThanOrEqual(38);
  });

  it("reads the facts of known samples", async () => {
    const [acc] = findDaticerts(await readWild("SimoneP91__PMM-PecMassiveMailer/errore-consegna.eml"));
    const d = parseDaticert(acc!.body);
    expect(d.tipo).toBe("errore-consegna");
    expect(d.errore).toBe("altro");
    expect(d.dati.erroreEsteso).toMatch(/^5\.1\.1 - /);
    const [b] = findDaticerts(await readWild("biagioT__java-pec-parser/consegna.eml"));
    const e = parseDaticert(b!.body);
    expect([e.tipo, e.errore]).toEqual(["errore-consegna", "no-dest"]);
  });
});
