import { beforeAll, describe, expect, it } from "vitest";
import { isPecError } from "../../src/errors.js";
import { type TestGestore, buildIgpecLdif, createGestore, createTestCa } from "../../src/simulator/index.js";
import { dec, toHex } from "./helpers.js";

type Entry = { dn: string; attrs: [string, string | Uint8Array][] };

/** A small RFC 2849 reader, enough to check what buildIgpecLdif writes. */
function parseLdif(text: string): Entry[] {
  const unfolded = text.replace(/\n /g, "");
  return unfolded
    .split(/\n\n+/)
    .filter((b) => b.trim())
    .map((block) => {
      const attrs: [string, string | Uint8Array][] = block
        .split("\n")
        .filter((l) => l)
        .map((line) => {
          const m = /^([^:]+)(::?) ?(.*)$/.exec(line);
          if (!m) throw new Error(`bad line ${line}`);
          const bytes = m[2] === "::" ? Uint8Array.from(atob(m[3]!), (c) => c.charCodeAt(0)) : undefined;
          const isBinary = m[1]!.toLowerCase().endsWith(";binary");
          return [m[1]!, bytes ? (isBinary ? bytes : dec(bytes)) : m[3]!];
        });
      return { dn: attrs[0]![1] as string, attrs: attrs.slice(1) };
    });
}

const values = (e: Entry, name: string): (string | Uint8Array)[] =>
  e.attrs.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);

async function sha1(b: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-1", b.slice())));
}

describe("buildIgpecLdif", () => {
  let alfa: TestGestore;
  let alfa2: TestGestore;
  let beta: TestGestore;

  beforeAll(async () => {
    const ca = await createTestCa({ keyAlgorithm: "ECDSA-P256" });
    [alfa, alfa2, beta] = await Promise.all([
      createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, keyAlgorithm: "ECDSA-P256" }),
      createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, keyAlgorithm: "ECDSA-P384" }),
      createGestore({ name: "Società Beta, S.r.l.", domain: "pec.beta.test", ca, keyAlgorithm: "ECDSA-P256" }),
    ]);
  });

  it("writes the IGPEC tree with hashes that are the SHA-1 of the certificates", async () => {
    const ldif = await buildIgpecLdif([
      {
        name: alfa.name,
        certificates: [alfa.certificate, alfa2.certificate],
        mailReceipt: "ricevute@pec.alfa.test",
        domains: ["pec.alfa.test", "cert.alfa.test"],
        description: "Gestore di prova",
        ldifLocationUrl: "https://pec.alfa.test/alfa.ldif.p7m",
      },
      { name: alfa.name, unit: "Secondary Environment", certificates: [alfa2.certificate], mailReceipt: "notifiche@sec.alfa.test", domains: ["sec.alfa.test"] },
      { name: beta.name, certificates: [beta.certificate], mailReceipt: "ricevute@pec.beta.test", domains: ["pec.beta.test"] },
    ]);
    // Folding: every physical line at most 76 columns, LF line ends, no CR.
    expect(ldif).not.toContain("\r");
    for (const line of ldif.split("\n")) expect(line.length).toBeLessThanOrEqual(76);
    expect(ldif).toMatch(/\nproviderCertificate;binary:: [A-Za-z0-9+/]{40}/);
    expect(ldif.split("\n").some((l) => /^ [A-Za-z0-9+/=]{75}$/.test(l))).toBe(true);

    const entries = parseLdif(ldif);
    expect(entries.map((e) => e.dn)).toEqual([
      "o=postacert",
      "providerName=Gestore Alfa S.p.A.,o=postacert",
      "providerUnit=Secondary Environment,providerName=Gestore Alfa S.p.A.,o=postacert",
      "providerName=Società Beta\\, S.r.l.,o=postacert",
    ]);
    const [base, a, unit, b] = entries as [Entry, Entry, Entry, Entry];
    expect(values(base, "objectclass")).toEqual(["top", "organization", "LDIFLocationURLObject"]);
    expect(values(base, "o")).toEqual(["postacert"]);
    expect(values(base, "LDIFLocationURL")).toEqual(["https://igpec.postacert.test/igpec.ldif.p7m"]);

    expect(values(a, "objectclass")).toEqual(["top", "provider"]);
    expect(values(a, "providerName")).toEqual(["Gestore Alfa S.p.A."]);
    expect(values(a, "mailReceipt")).toEqual(["ricevute@pec.alfa.test"]);
    expect(values(a, "managedDomains")).toEqual(["pec.alfa.test", "cert.alfa.test"]);
    expect(values(a, "description")).toEqual(["Gestore di prova"]);
    expect(values(a, "LDIFLocationURL")).toEqual(["https://pec.alfa.test/alfa.ldif.p7m"]);
    const certs = values(a, "providerCertificate;binary") as Uint8Array[];
    expect(certs.map(toHex)).toEqual([toHex(alfa.certificate), toHex(alfa2.certificate)]);
    const hashes = values(a, "providerCertificateHash") as string[];
    expect(hashes).toEqual([(await sha1(alfa.certificate)).toUpperCase(), (await sha1(alfa2.certificate)).toUpperCase()]);
    // Each hash comes right before its certificate.
    const order = a.attrs.map(([n]) => n).filter((n) => n.startsWith("providerCertificate"));
    expect(order).toEqual(["providerCertificateHash", "providerCertificate;binary", "providerCertificateHash", "providerCertificate;binary"]);

    expect(values(unit, "providerUnit")).toEqual(["Secondary Environment"]);
    expect(values(unit, "providerName")).toEqual(["Gestore Alfa S.p.A."]);
    expect(values(unit, "LDIFLocationURL")).toEqual([]);

    // Non-ASCII values are written base64 (::) and read back as UTF-8.
    expect(values(b, "providerName")).toEqual(["Società Beta, S.r.l."]);
    expect(ldif).toMatch(/\nproviderName:: /);
  });

  it("can write wrong or lower-case hashes", async () => {
    const p = [{ name: alfa.name, certificates: [alfa.certificate], mailReceipt: "r@pec.alfa.test", domains: ["pec.alfa.test"] }];
    const good = await sha1(alfa.certificate);
    const lower = parseLdif(await buildIgpecLdif(p, { lowercaseHash: true }))[1]!;
    expect(values(lower, "providerCertificateHash")).toEqual([good]);
    const bad = parseLdif(await buildIgpecLdif(p, { corruptHash: true }))[1]!;
    const h = values(bad, "providerCertificateHash")[0] as string;
    expect(h).toMatch(/^[0-9A-F]{40}$/);
    expect(h.toLowerCase()).not.toBe(good);
    expect(toHex(values(bad, "providerCertificate;binary")[0] as Uint8Array)).toBe(toHex(alfa.certificate));
  });

  it("refuses bad input", async () => {
    const ok = { name: "G", certificates: [alfa.certificate], mailReceipt: "r@pec.alfa.test", domains: ["pec.alfa.test"] };
    const bad = [
      { ...ok, name: "" },
      { ...ok, name: "a\nb" },
      { ...ok, certificates: [] },
      { ...ok, domains: [] },
      { ...ok, domains: ["bad domain"] },
      { ...ok, mailReceipt: "<r@x.test>" },
      { ...ok, unit: "U", ldifLocationUrl: "https://x.test/a" },
    ];
    for (const p of bad) {
      const e = await buildIgpecLdif([p]).catch((x: unknown) => x);
      expect(isPecError(e, "ERR_INVALID_ARGUMENT"), JSON.stringify(p.name)).toBe(true);
    }
    const dup = await buildIgpecLdif([ok, ok]).catch((x: unknown) => x);
    expect(isPecError(dup, "ERR_INVALID_ARGUMENT")).toBe(true);
  });
});
