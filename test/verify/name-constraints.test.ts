// Name constraints (RFC 5280 §4.2.1.10) of every name form, through validatePath: a root,
// a constrained intermediate, and leaves whose names fall inside or outside its subtrees.
import { beforeAll, describe, expect, it } from "vitest";
import { validatePath } from "../../src/smime/path.js";
import { TrustStore } from "../../src/trust/store.js";
import { craftCert, craftKeys, type Gn } from "./support/craft-cert.js";

type Rdns = readonly (readonly [string, string])[];

const ROOT: Rdns = [["C", "IT"], ["O", "postacert NC test"], ["CN", "NC Root"]];
const MID: Rdns = [["C", "IT"], ["O", "postacert NC test"], ["CN", "NC Intermediate"]];
const LEAF: Rdns = [["C", "IT"], ["O", "Gestore Alfa"], ["CN", "Posta Certificata Alfa"]];

let keys: CryptoKeyPair;
let spki: Uint8Array;
let trust: TrustStore;

beforeAll(async () => {
  ({ keys, spki } = await craftKeys());
  trust = await TrustStore.fromDer(await craftCert({ subject: ROOT, spki, signWith: keys.privateKey, ca: true }));
});

let serial = 100;

/** The messages of the issues of a path root → intermediate (with `nc`) → leaf. */
async function check(nc: { permitted?: Gn[]; excluded?: Gn[] }, leaf: { san?: Gn[]; subject?: Rdns }): Promise<string[]> {
  const mid = await craftCert({ subject: MID, issuer: ROOT, spki, signWith: keys.privateKey, ca: true, serial: serial++, ...nc });
  const cert = await craftCert({ subject: leaf.subject ?? LEAF, issuer: MID, spki, signWith: keys.privateKey, serial: serial++, ...(leaf.san ? { san: leaf.san } : {}) });
  const res = await validatePath({ certificate: cert, intermediates: [mid], trust, at: new Date() });
  expect(res.chain).toHaveLength(3);
  return res.issues.map((i) => `${i.code}: ${i.message}`);
}

const ok = (issues: string[]): void => expect(issues).toEqual([]);
const violates = (issues: string[], what: RegExp): void => {
  expect(issues).toHaveLength(1);
  expect(issues[0]).toMatch(/^CERT_CHAIN_INVALID: .*violates the name constraints of "C=IT, O=postacert NC test, CN=NC Intermediate"/);
  expect(issues[0]).toMatch(what);
};

describe("name constraints: dNSName", () => {
  it("a host constraint admits the host and every name below it, in any case", async () => {
    const nc = { permitted: [{ dns: "example.com" }] };
    ok(await check(nc, { san: [{ dns: "example.com" }] }));
    ok(await check(nc, { san: [{ dns: "www.Example.COM" }] }));
    ok(await check(nc, { san: [{ dns: "a.b.example.com" }] }));
    violates(await check(nc, { san: [{ dns: "badexample.com" }] }), /badexample\.com is outside the permitted dNSName subtrees/);
    violates(await check(nc, { san: [{ dns: "example.org" }] }), /example\.org is outside/);
  });

  it("a leading dot admits only the names below", async () => {
    const nc = { permitted: [{ dns: ".example.com" }] };
    ok(await check(nc, { san: [{ dns: "mx.example.com" }] }));
    violates(await check(nc, { san: [{ dns: "example.com" }] }), /example\.com is outside/);
  });

  it("an excluded subtree wins over a permitted one; every name of the certificate counts", async () => {
    const nc = { permitted: [{ dns: "example.com" }], excluded: [{ dns: "evil.example.com" }] };
    ok(await check(nc, { san: [{ dns: "good.example.com" }, { dns: "notevil.example.com" }] }));
    violates(await check(nc, { san: [{ dns: "good.example.com" }, { dns: "x.EVIL.example.com" }] }), /x\.EVIL\.example\.com is in an excluded subtree \(evil\.example\.com\)/);
  });

  it("an empty constraint covers every DNS name", async () => {
    violates(await check({ excluded: [{ dns: "" }] }, { san: [{ dns: "a.test" }] }), /a\.test is in an excluded subtree/);
    ok(await check({ excluded: [{ dns: "" }] }, { san: [{ email: "posta@a.test" }] }));
  });
});

describe("name constraints: rfc822Name", () => {
  it("a whole mailbox, a host, or a domain", async () => {
    ok(await check({ permitted: [{ email: "posta@pec.alfa.test" }] }, { san: [{ email: "posta@pec.alfa.test" }] }));
    ok(await check({ permitted: [{ email: "posta@pec.alfa.test" }] }, { san: [{ email: "Posta@PEC.alfa.test" }] }));
    violates(await check({ permitted: [{ email: "posta@pec.alfa.test" }] }, { san: [{ email: "altro@pec.alfa.test" }] }), /altro@pec\.alfa\.test is outside the permitted rfc822Name subtrees/);
    // A host constraint is that host only: not the hosts below it.
    ok(await check({ permitted: [{ email: "pec.alfa.test" }] }, { san: [{ email: "a@pec.alfa.test" }] }));
    violates(await check({ permitted: [{ email: "pec.alfa.test" }] }, { san: [{ email: "a@x.pec.alfa.test" }] }), /a@x\.pec\.alfa\.test is outside/);
    ok(await check({ permitted: [{ email: ".alfa.test" }] }, { san: [{ email: "a@pec.alfa.test" }] }));
    violates(await check({ permitted: [{ email: ".alfa.test" }] }, { san: [{ email: "a@alfa.test" }] }), /a@alfa\.test is outside/);
  });

  it("applies to an e-mail address in the subject too, and to a name with no @", async () => {
    const nc = { permitted: [{ email: "pec.alfa.test" }] };
    violates(await check(nc, { subject: [...LEAF, ["E", "posta@pec.beta.test"]] }), /posta@pec\.beta\.test is outside/);
    ok(await check(nc, { subject: [...LEAF, ["E", "posta@pec.alfa.test"]] }));
    violates(await check(nc, { san: [{ email: "no-at-sign" }] }), /no-at-sign is outside/);
  });
});

describe("name constraints: uniformResourceIdentifier", () => {
  it("a host constraint is that host only (RFC 5280: not the names below it)", async () => {
    const nc = { permitted: [{ uri: "host.example.com" }] };
    ok(await check(nc, { san: [{ uri: "https://host.example.com/crl" }] }));
    ok(await check(nc, { san: [{ uri: "ldap://user@HOST.example.com:389/o=x" }] }));
    violates(await check(nc, { san: [{ uri: "https://sub.host.example.com/" }] }), /https:\/\/sub\.host\.example\.com\/ is outside the permitted uniformResourceIdentifier subtrees/);
    violates(await check({ excluded: [{ uri: "host.example.com" }] }, { san: [{ uri: "http://host.example.com" }] }), /http:\/\/host\.example\.com is in an excluded subtree \(host\.example\.com\)/);
    ok(await check({ excluded: [{ uri: "host.example.com" }] }, { san: [{ uri: "http://other.host.example.com" }] }));
  });

  it("a leading dot admits only the hosts below", async () => {
    const nc = { permitted: [{ uri: ".example.com" }] };
    ok(await check(nc, { san: [{ uri: "http://a.b.example.com/" }] }));
    violates(await check(nc, { san: [{ uri: "http://example.com/" }] }), /http:\/\/example\.com\/ is outside/);
  });

  it("a URI with no host name cannot be checked and is refused (RFC 5280: MUST reject)", async () => {
    const nc = { permitted: [{ uri: ".example.com" }] };
    violates(await check(nc, { san: [{ uri: "urn:isbn:0451450523" }] }), /urn:isbn:0451450523 has no host name to check against the uniformResourceIdentifier constraints/);
    violates(await check(nc, { san: [{ uri: "http://[2001:db8::1]/" }] }), /has no host name/);
    violates(await check(nc, { san: [{ uri: "http://192.0.2.1/" }] }), /has no host name/);
    violates(await check({ excluded: [{ uri: "evil.test" }] }, { san: [{ uri: "mailto:a@b.test" }] }), /has no host name/);
    // Without URI constraints such a name is nobody's business.
    ok(await check({ permitted: [{ dns: "example.com" }] }, { san: [{ uri: "urn:isbn:0451450523" }] }));
  });
});

describe("name constraints: iPAddress", () => {
  it("an address inside the network, of the same family", async () => {
    const nc = { permitted: [{ ip: [10, 0, 0, 0, 255, 0, 0, 0] }] };
    ok(await check(nc, { san: [{ ip: [10, 20, 30, 40] }] }));
    violates(await check(nc, { san: [{ ip: [11, 0, 0, 1] }] }), /an IP address \(11\.0\.0\.1\) is outside the permitted iPAddress subtrees/);
    const v6 = [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(12).fill(0)];
    violates(await check(nc, { san: [{ ip: v6 }] }), /an IP address \(2001:db8:0:0:0:0:0:0\) is outside/);
    ok(await check({ permitted: [{ ip: [...v6, 0xff, 0xff, 0xff, 0xff, ...new Array<number>(12).fill(0)] }] }, { san: [{ ip: v6 }] }));
    violates(await check({ excluded: [{ ip: [192, 0, 2, 0, 255, 255, 255, 0] }] }, { san: [{ ip: [192, 0, 2, 7] }] }), /192\.0\.2\.7\) is in an excluded subtree \(192\.0\.2\.0\/255\.255\.255\.0\)/);
  });
});

describe("name constraints: directoryName", () => {
  it("the subject, and directory names in subjectAltName, must sit under a permitted name", async () => {
    const nc = { permitted: [{ dir: [["C", "IT"], ["O", "Gestore Alfa"]] as const }] };
    ok(await check(nc, {}));
    violates(await check(nc, { subject: [["C", "IT"], ["O", "Gestore Beta"], ["CN", "x"]] }), /the subject "C=IT, O=Gestore Beta, CN=x" is outside the permitted directoryName subtrees/);
    violates(await check(nc, { san: [{ dir: [["C", "IT"], ["O", "Gestore Beta"]] }] }), /"C=IT, O=Gestore Beta" is outside/);
    // A name shorter than the constraint is not under it.
    violates(await check(nc, { subject: [["C", "IT"]] }), /outside/);
    violates(await check({ excluded: [{ dir: [["C", "IT"], ["O", "Gestore Alfa"]] }] }, {}), /the subject .* is in an excluded subtree \(C=IT, O=Gestore Alfa\)/);
  });
});

describe("name constraints: forms the verifier does not check", () => {
  it("a constrained form it cannot check is refused only where the certificate has such a name", async () => {
    const nc = { permitted: [{ registeredId: "1.2.3.4" }] };
    ok(await check(nc, { san: [{ email: "posta@pec.alfa.test" }] }));
    violates(await check(nc, { san: [{ registeredId: "1.2.3.5" }] }), /1\.2\.3\.5 is a registeredID name, which the name constraints restrict and postacert cannot check/);
  });

  it("constraints on one form leave the others alone", async () => {
    ok(await check({ permitted: [{ dns: "example.com" }], excluded: [{ ip: [0, 0, 0, 0, 0, 0, 0, 0] }] }, { san: [{ email: "posta@pec.alfa.test" }] }));
  });
});

describe("name constraints along a path", () => {
  it("every constrained CA above a certificate applies, the intermediate's own names included", async () => {
    const top: Rdns = [["C", "IT"], ["O", "postacert NC test"], ["CN", "NC Top"]];
    const topCa = await craftCert({ subject: top, issuer: ROOT, spki, signWith: keys.privateKey, ca: true, serial: serial++, permitted: [{ dns: "example.com" }] });
    const mid = (san: Gn[]) => craftCert({ subject: MID, issuer: top, spki, signWith: keys.privateKey, ca: true, serial: serial++, san, permitted: [{ dns: "a.example.com" }] });
    const leaf = (dns: string) => craftCert({ subject: LEAF, issuer: MID, spki, signWith: keys.privateKey, serial: serial++, san: [{ dns }] });
    const run = async (m: Uint8Array, l: Uint8Array) => (await validatePath({ certificate: l, intermediates: [m, topCa], trust, at: new Date() })).issues.map((i) => i.message);
    expect(await run(await mid([{ dns: "ca.example.com" }]), await leaf("x.a.example.com"))).toEqual([]);
    // Inside the top CA's subtree, outside the intermediate's.
    expect(await run(await mid([]), await leaf("b.example.com"))).toEqual([expect.stringMatching(/b\.example\.com is outside the permitted dNSName subtrees/)]);
    // The intermediate's own name is checked against the top CA.
    expect(await run(await mid([{ dns: "ca.example.org" }]), await leaf("x.a.example.com"))).toEqual([
      expect.stringMatching(/"C=IT, O=postacert NC test, CN=NC Intermediate" violates the name constraints of "C=IT, O=postacert NC test, CN=NC Top": ca\.example\.org/),
    ]);
  });
});
