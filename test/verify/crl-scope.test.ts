// What a CRL can say (RFC 5280 §5.2, §6.3.3): a complete CRL shows a certificate was not
// revoked; a delta CRL, or one whose issuingDistributionPoint leaves the certificate or some
// reasons out, does not, though a serial it lists is revoked; a CRL with a critical
// extension postacert does not process is not used at all; an indirect CRL's entries for
// other CAs are not this CA's.
import { beforeAll, describe, expect, it } from "vitest";
import { parseCrl } from "../../src/smime/crl.js";
import { validatePath } from "../../src/smime/path.js";
import { TrustStore } from "../../src/trust/store.js";
import { craftCert, craftCrl, craftKeys, type CrlEntrySpec, type IdpSpec } from "./support/craft-cert.js";

type Rdns = readonly (readonly [string, string])[];

const ROOT: Rdns = [["C", "IT"], ["O", "postacert CRL test"], ["CN", "CRL Root"]];
const MID: Rdns = [["C", "IT"], ["O", "postacert CRL test"], ["CN", "CRL Intermediate"]];
const OTHER: Rdns = [["C", "IT"], ["O", "postacert CRL test"], ["CN", "Another CA"]];
const DP = "http://crl.example.test/mid.crl";
const LEAF_SERIAL = 7;
const MID_SERIAL = 5;

let keys: CryptoKeyPair;
let trust: TrustStore;
let mid: Uint8Array;
let leaf: Uint8Array;

beforeAll(async () => {
  let spki: Uint8Array;
  ({ keys, spki } = await craftKeys());
  const signWith = keys.privateKey;
  trust = await TrustStore.fromDer(await craftCert({ subject: ROOT, spki, signWith, ca: true, serial: 1 }));
  mid = await craftCert({ subject: MID, issuer: ROOT, spki, signWith, ca: true, serial: MID_SERIAL });
  leaf = await craftCert({ subject: [["C", "IT"], ["CN", "Posta Certificata"]], issuer: MID, spki, signWith, serial: LEAF_SERIAL, crlDp: [DP] });
});

/** revocationChecked of leaf and intermediate, and the issue codes, with these CRLs (at `at`, default now). */
async function check(...args: (Uint8Array | Date)[]): Promise<{ leaf: boolean; mid: boolean; issues: string[] }> {
  const at = args.find((a): a is Date => a instanceof Date) ?? new Date();
  const crls = args.filter((a): a is Uint8Array => a instanceof Uint8Array);
  const res = await validatePath({ certificate: leaf, intermediates: [mid], trust, at, crls });
  expect(res.chain).toHaveLength(3);
  return { leaf: res.revocationChecked[0]!, mid: res.revocationChecked[1]!, issues: res.issues.map((i) => `${i.code}: ${i.message}`) };
}

const ofMid = (o: { entries?: CrlEntrySpec[]; delta?: number | "empty"; number?: number | "empty"; idp?: IdpSpec; critical?: string; thisUpdate?: Date; nextUpdate?: Date } = {}): Promise<Uint8Array> => craftCrl({ issuer: MID, signWith: keys.privateKey, ...o });
const ofRoot = (o: { entries?: CrlEntrySpec[]; idp?: IdpSpec } = {}): Promise<Uint8Array> => craftCrl({ issuer: ROOT, signWith: keys.privateKey, ...o });
const revokedLeaf: CrlEntrySpec[] = [{ serial: LEAF_SERIAL }];

describe("CRL scope", () => {
  it("a complete CRL checks its issuer's certificates", async () => {
    expect(await check(await ofMid(), await ofRoot())).toEqual({ leaf: true, mid: true, issues: [] });
    const revoked = await check(await ofMid({ entries: revokedLeaf }));
    expect(revoked.leaf).toBe(true);
    expect(revoked.issues).toEqual([expect.stringMatching(/^CERT_REVOKED: .*serial 07/)]);
  });

  it("a CRL past its nextUpdate at the validation time is no complete check; one issued after it is", async () => {
    const HOUR = 3_600_000;
    const now = Date.now();
    const crl = await ofMid({ thisUpdate: new Date(now - 2 * HOUR), nextUpdate: new Date(now + 24 * HOUR) });
    expect((await check(crl, new Date(now + 23 * HOUR))).leaf).toBe(true);
    expect((await check(crl, new Date(now + 25 * HOUR))).leaf).toBe(false);
    // Issued after the time validated at: it would list an earlier revocation.
    expect((await check(crl, new Date(now - 3 * HOUR))).leaf).toBe(true);
    // A stale CRL still says what it lists.
    const stale = await ofMid({ entries: revokedLeaf, thisUpdate: new Date(now - 2 * HOUR), nextUpdate: new Date(now - HOUR) });
    expect(await check(stale)).toEqual({ leaf: false, mid: false, issues: [expect.stringMatching(/^CERT_REVOKED/)] });
  });

  it("a stale complete CRL with a current delta CRL that updates it is a complete check (RFC 5280 §5.2.4)", async () => {
    const HOUR = 3_600_000;
    const now = Date.now();
    const stale = { thisUpdate: new Date(now - 48 * HOUR), nextUpdate: new Date(now - 24 * HOUR) };
    const fresh = { thisUpdate: new Date(now - HOUR), nextUpdate: new Date(now + HOUR) };
    const base = await ofMid({ number: 10, ...stale });
    expect((await check(base)).leaf).toBe(false);
    expect((await check(base, await ofMid({ delta: 10, number: 12, ...fresh }))).leaf).toBe(true);
    expect((await check(base, await ofMid({ delta: 9, number: 12, ...fresh }))).leaf).toBe(true);
    // A delta of a later base than the one at hand, or itself stale, or of another scope, is not enough.
    expect((await check(base, await ofMid({ delta: 11, number: 12, ...fresh }))).leaf).toBe(false);
    expect((await check(base, await ofMid({ delta: 10, number: 12, thisUpdate: new Date(now - 30 * HOUR), nextUpdate: new Date(now - 20 * HOUR) }))).leaf).toBe(false);
    expect((await check(base, await ofMid({ delta: 10, number: 12, idp: { uris: [DP] }, ...fresh }))).leaf).toBe(false);
    // Two deltas are no base.
    expect((await check(await ofMid({ delta: 8, number: 10, ...stale }), await ofMid({ delta: 10, number: 12, ...fresh }))).leaf).toBe(false);
    // What the delta lists is revoked.
    const revoked = await check(base, await ofMid({ delta: 10, number: 12, entries: revokedLeaf, ...fresh }));
    expect(revoked.leaf).toBe(true);
    expect(revoked.issues).toEqual([expect.stringMatching(/^CERT_REVOKED: .*serial 07/)]);
  });

  it("a cRLNumber or BaseCRLNumber that is an empty INTEGER is no CRL (X.690 §8.3.1: at least one octet)", async () => {
    for (const spec of [{ number: "empty" as const }, { delta: "empty" as const, number: 12 }]) {
      const der = await ofMid(spec);
      expect(() => parseCrl(der)).toThrow(expect.objectContaining({ code: "ERR_CERT_MALFORMED", message: expect.stringContaining("an empty INTEGER") }));
      // Given to a validation, it is refused as the bytes it is, not taken for CRL number 0.
      await expect(validatePath({ certificate: leaf, intermediates: [mid], trust, at: new Date(), crls: [der] })).rejects.toMatchObject({ code: "ERR_CERT_MALFORMED" });
    }
  });

  it("a suspension (certificateHold) that a delta CRL lifts (removeFromCRL) is over from then on; one it does not lift stands", async () => {
    const HOUR = 3_600_000;
    const now = Date.now();
    // The test certificates are valid from a day ago: every time below is within that.
    const baseTimes = { thisUpdate: new Date(now - 18 * HOUR), nextUpdate: new Date(now - 12 * HOUR) };
    const deltaTimes = { thisUpdate: new Date(now - HOUR), nextUpdate: new Date(now + HOUR) };
    const held = await ofMid({ number: 10, entries: [{ serial: LEAF_SERIAL, reason: 6, revoked: new Date(now - 20 * HOUR) }], ...baseTimes });
    const hold = [expect.stringMatching(/^CERT_REVOKED: .*\(certificateHold\)/)];
    expect((await check(held)).issues).toEqual(hold);
    const lifted = await ofMid({ delta: 10, number: 12, entries: [{ serial: LEAF_SERIAL, reason: 8 }], ...deltaTimes });
    expect(await check(held, lifted)).toEqual({ leaf: true, mid: false, issues: [] });
    // Validated at a time while it was held (before the base was issued), or that the two
    // CRLs cannot tell (between them), the suspension stands.
    for (const at of [new Date(now - 19 * HOUR), new Date(now - 10 * HOUR)]) expect((await check(held, lifted, at)).issues).toEqual(hold);
    // A delta of another base does not lift it.
    const other = await ofMid({ delta: 11, number: 12, entries: [{ serial: LEAF_SERIAL, reason: 8 }], ...deltaTimes });
    expect((await check(held, other)).issues).toEqual(hold);
    // removeFromCRL lifts a hold only: a revocation stands.
    const revoked = await ofMid({ number: 10, entries: [{ serial: LEAF_SERIAL, reason: 1 }], ...baseTimes });
    expect((await check(revoked, lifted)).issues).toEqual([expect.stringMatching(/^CERT_REVOKED: .*\(keyCompromise\)/)]);
  });

  it("a delta CRL is no complete check, but what it lists is revoked", async () => {
    expect(await check(await ofMid({ delta: 1 }))).toEqual({ leaf: false, mid: false, issues: [] });
    const revoked = await check(await ofMid({ delta: 1, entries: revokedLeaf }));
    expect(revoked.leaf).toBe(false);
    expect(revoked.issues).toEqual([expect.stringMatching(/^CERT_REVOKED/)]);
  });

  it("onlyContainsUserCerts and onlyContainsCACerts cover only their kind", async () => {
    expect(await check(await ofMid({ idp: { onlyUser: true } }), await ofRoot({ idp: { onlyCa: true } }))).toEqual({ leaf: true, mid: true, issues: [] });
    expect(await check(await ofMid({ idp: { onlyCa: true } }), await ofRoot({ idp: { onlyUser: true } }))).toEqual({ leaf: false, mid: false, issues: [] });
    // The root's user-only CRL still says the intermediate it lists is revoked.
    const r = await check(await ofRoot({ idp: { onlyUser: true }, entries: [{ serial: MID_SERIAL }] }));
    expect(r.mid).toBe(false);
    expect(r.issues).toEqual([expect.stringMatching(/^CERT_REVOKED: "C=IT, O=postacert CRL test, CN=CRL Intermediate"/)]);
  });

  it("onlySomeReasons is no complete check", async () => {
    expect((await check(await ofMid({ idp: { someReasons: true } }))).leaf).toBe(false);
    expect((await check(await ofMid({ idp: { someReasons: true }, entries: revokedLeaf }))).issues).toEqual([expect.stringMatching(/^CERT_REVOKED/)]);
  });

  it("a distribution point covers the certificates that name it", async () => {
    expect((await check(await ofMid({ idp: { uris: [DP] } }))).leaf).toBe(true);
    expect((await check(await ofMid({ idp: { uris: ["ldap://x.test/a", DP] } }))).leaf).toBe(true);
    expect((await check(await ofMid({ idp: { uris: ["http://crl.example.test/partition-2.crl"] } }))).leaf).toBe(false);
    // Scheme and host are case-insensitive (RFC 3986 §6.2.2.1); the path is not.
    expect((await check(await ofMid({ idp: { uris: ["HTTP://CRL.Example.TEST/mid.crl"] } }))).leaf).toBe(true);
    expect((await check(await ofMid({ idp: { uris: ["http://crl.example.test/MID.crl"] } }))).leaf).toBe(false);
    // A name relative to the issuer cannot be matched: not counted as complete.
    expect((await check(await ofMid({ idp: { relative: "partition 1" } }))).leaf).toBe(false);
    // The intermediate names no distribution point: a partitioned CRL of the root does not cover it.
    expect((await check(await ofRoot({ idp: { uris: [DP] } }))).mid).toBe(false);
  });

  it("a CRL of attribute certificates says nothing of public-key certificates", async () => {
    expect(await check(await ofMid({ idp: { onlyAttribute: true }, entries: revokedLeaf }))).toEqual({ leaf: false, mid: false, issues: [] });
  });

  it("a critical extension postacert does not process makes the CRL unusable, entries included", async () => {
    const crl = await check(await ofMid({ critical: "1.2.3.4.5", entries: revokedLeaf }));
    expect(crl).toEqual({ leaf: false, mid: false, issues: [expect.stringMatching(/^CRL_INVALID: a CRL of "C=IT, O=postacert CRL test, CN=CRL Intermediate" has critical extension\(s\) postacert does not process \(1\.2\.3\.4\.5\); ignored$/)] });
    const entry = await check(await ofMid({ entries: [{ serial: 99, critical: "1.2.3.4.6" }, ...revokedLeaf] }));
    expect(entry).toEqual({ leaf: false, mid: false, issues: [expect.stringMatching(/^CRL_INVALID: .*\(1\.2\.3\.4\.6\)/)] });
    // The CRL the caller keeps is the same: parsing does not refuse it.
    expect(parseCrl(await ofMid({ critical: "1.2.3.4.5" })).issuer).toBe("C=IT, O=postacert CRL test, CN=CRL Intermediate");
  });

  it("an indirect CRL's entries belong to the CA its certificateIssuer names", async () => {
    const others = await ofMid({ idp: { indirect: true }, entries: [{ serial: 3 }, { serial: LEAF_SERIAL, certificateIssuer: OTHER }] });
    expect(await check(others)).toEqual({ leaf: true, mid: false, issues: [] });
    expect([...parseCrl(others).revoked.keys()]).toEqual(["03"]);
    const back = await ofMid({ idp: { indirect: true }, entries: [{ serial: 3, certificateIssuer: OTHER }, { serial: 4, certificateIssuer: MID }, revokedLeaf[0]!] });
    expect([...parseCrl(back).revoked.keys()]).toEqual(["04", "07"]);
    expect((await check(back)).issues).toEqual([expect.stringMatching(/^CERT_REVOKED/)]);
  });
});
