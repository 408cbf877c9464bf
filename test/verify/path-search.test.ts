// Path building when the CMS carries many certificates of one name. The certificates of a CMS
// are not signed, so anyone on the way can add decoys: they must neither hang the search
// (every order of same-named certificates was tried: 20 took 75 s) nor hide the real path.
import { beforeAll, describe, expect, it } from "vitest";
import { parseCertificate } from "../../src/smime/certificate.js";
import { validatePath } from "../../src/smime/path.js";
import { TrustStore } from "../../src/trust/store.js";
import { craftCert, craftKeys } from "./support/craft-cert.js";

type Rdns = readonly (readonly [string, string])[];

const ROOT: Rdns = [["C", "IT"], ["O", "postacert path test"], ["CN", "Path Root"]];
const MID: Rdns = [["C", "IT"], ["O", "postacert path test"], ["CN", "Path Intermediate"]];
const LEAF: Rdns = [["C", "IT"], ["O", "Gestore Alfa"], ["CN", "Posta Certificata Alfa"]];

let trust: TrustStore;
let root: Uint8Array;
let mid: Uint8Array;
let leaf: Uint8Array;
/** Self-issued certificates named as the intermediate, under another key. */
let decoys: Uint8Array[];

beforeAll(async () => {
  const { keys, spki } = await craftKeys();
  const other = await craftKeys();
  root = await craftCert({ subject: ROOT, spki, signWith: keys.privateKey, ca: true, serial: 1 });
  trust = await TrustStore.fromDer(root);
  mid = await craftCert({ subject: MID, issuer: ROOT, spki, signWith: keys.privateKey, ca: true, serial: 2 });
  leaf = await craftCert({ subject: LEAF, issuer: MID, spki, signWith: keys.privateKey, serial: 3 });
  decoys = await Promise.all(Array.from({ length: 20 }, (_, i) => craftCert({ subject: MID, spki: other.spki, signWith: other.keys.privateKey, ca: true, serial: 100 + i })));
});

describe("path building among certificates that share a name", () => {
  it("twenty decoys and no way to an anchor: untrusted, at once", async () => {
    const res = await validatePath({ certificate: leaf, intermediates: decoys, trust, at: new Date() });
    expect(res.trusted).toBe(false);
    expect(res.issues.map((i) => i.code)).toEqual(["CERT_UNTRUSTED"]);
    expect(res.chain[0]!.subject).toBe("C=IT, O=Gestore Alfa, CN=Posta Certificata Alfa");
  }, 20_000);

  it("decoys before the real intermediate do not hide it: the shortest path is found and trusted", async () => {
    const res = await validatePath({ certificate: leaf, intermediates: [...decoys, mid], trust, at: new Date() });
    expect(res.issues).toEqual([]);
    expect(res.trusted).toBe(true);
    expect(res.chain.map((c) => c.subject)).toEqual(["C=IT, O=Gestore Alfa, CN=Posta Certificata Alfa", "C=IT, O=postacert path test, CN=Path Intermediate", "C=IT, O=postacert path test, CN=Path Root"]);
    expect(res.chain[1]!.serialNumber).toBe(parseCertificate(mid).serialNumber);
  }, 20_000);
});
