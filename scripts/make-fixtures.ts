/**
 * Writes the test PKI and the signed S/MIME samples under fixtures/pki/ and
 * fixtures/smime/ (both are replaced entirely). Keys and serial numbers are random on
 * every run; names, dates and contents are fixed. The files are committed byte-exact.
 *
 * Run from the repository root with `npm run fixtures`, which is:
 *
 *   tsc --ignoreConfig --rootDir . --outDir node_modules/.cache/postacert-fixtures \
 *       --module nodenext --target es2022 --types node --skipLibCheck scripts/make-fixtures.ts
 *   node node_modules/.cache/postacert-fixtures/scripts/make-fixtures.js
 *
 * Why compile: Node 20 cannot run TypeScript, and Node ≥ 22's type stripping does not
 * map the `.js` import specifiers of src/ to `.ts` files. tsc compiles only this script
 * and what it imports (so unrelated work in progress elsewhere cannot block it), into a
 * cache folder that is never committed or published.
 *
 * THE PRIVATE KEYS WRITTEN HERE ARE FOR TESTS ONLY.
 */

import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  type KeyAlgorithm,
  type TestCa,
  type TestGestore,
  type TestIdentity,
  buildIgpecLdif,
  createCrl,
  createGestore,
  createTestCa,
  exportPrivateKeyPem,
  toPem,
} from "../src/simulator/index.js";
import { type CmsDigest, type CmsEncoding, signCms, signSmime } from "../src/smime/sign.js";

const root = process.cwd();
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { name?: string };
if (pkg.name !== "postacert") {
  console.error("make-fixtures: run this from the postacert repository root");
  process.exit(2);
}
const PKI = resolve(root, "fixtures/pki");
const SMIME = resolve(root, "fixtures/smime");
rmSync(PKI, { recursive: true, force: true });
rmSync(SMIME, { recursive: true, force: true });
mkdirSync(PKI, { recursive: true });
mkdirSync(SMIME, { recursive: true });

const KEY_BANNER =
  "# TEST ONLY: private key of a postacert test fixture (fixtures/pki). It is public.\n" +
  "# Never use it, or anything signed with it, outside tests.\n";

const D = (s: string): Date => new Date(s);
const CA_FROM = D("2024-01-01T00:00:00Z");
const CA_TO = D("2036-01-01T00:00:00Z");
const VALID_FROM = D("2024-01-01T00:00:00Z");
const VALID_TO = D("2035-01-01T00:00:00Z");
/** When the samples are signed: inside every valid period, after the revocation. */
const SIGNED_AT = D("2025-06-15T10:00:00Z");
const REVOKED_AT = D("2025-01-01T00:00:00Z");

interface PkiEntry {
  name: string;
  role: "root-ca" | "intermediate-ca" | "gestore";
  case: string;
  description: string;
  certificate: string;
  der: string;
  key: string;
  issuer: string | null;
  subject: string;
  serialNumber: string;
  keyAlgorithm: KeyAlgorithm;
  notBefore: string;
  notAfter: string;
  email?: string;
  domain?: string;
  providerName?: string;
  chain: string[];
}
const pkiIndex: PkiEntry[] = [];
const names = new Map<TestIdentity, string>();

async function save(
  name: string,
  id: TestIdentity,
  role: PkiEntry["role"],
  kase: string,
  description: string,
  issuer: TestIdentity | null,
): Promise<void> {
  names.set(id, name);
  writeFileSync(join(PKI, `${name}.pem`), id.pem());
  writeFileSync(join(PKI, `${name}.der`), id.certificate);
  writeFileSync(join(PKI, `${name}.key.pem`), KEY_BANNER + (await exportPrivateKeyPem(id.privateKey)));
  const g = id as Partial<TestGestore>;
  pkiIndex.push({
    name,
    role,
    case: kase,
    description,
    certificate: `${name}.pem`,
    der: `${name}.der`,
    key: `${name}.key.pem`,
    issuer: issuer ? names.get(issuer)! : null,
    subject: id.subject,
    serialNumber: id.serialNumber,
    keyAlgorithm: id.keyAlgorithm,
    notBefore: id.notBefore.toISOString(),
    notAfter: id.notAfter.toISOString(),
    ...(g.kind === "gestore" ? { email: g.email, domain: g.domain, providerName: g.name } : {}),
    chain: id.chain.map((c) => [...names.entries()].find(([k]) => k.certificate === c)?.[1] ?? "?"),
  });
}

console.log("make-fixtures: generating keys (RSA takes a few seconds)…");

// --- Certification authorities --------------------------------------------------
const ca = await createTestCa({ keyAlgorithm: "RSA-2048", notBefore: CA_FROM, notAfter: CA_TO });
await save("ca", ca, "root-ca", "trust-anchor", "The test root CA (stands in for AgID CA1): trust anchor of every valid sample.", null);

const otherCa = await createTestCa({ keyAlgorithm: "RSA-2048", notBefore: CA_FROM, notAfter: CA_TO, commonName: "postacert Other Test CA", organization: "Unrelated test PKI" });
await save("other-ca", otherCa, "root-ca", "untrusted-root", "A second, unrelated root: not a trust anchor.", null);

const intermediate = await createTestCa({ issuer: ca, keyAlgorithm: "RSA-2048", notBefore: CA_FROM, notAfter: CA_TO, commonName: "postacert Test Intermediate CA" });
await save("intermediate-ca", intermediate, "intermediate-ca", "valid-intermediate", "A proper intermediate under ca (basicConstraints cA).", ca);

const noBcCa = await createTestCa({
  issuer: ca,
  keyAlgorithm: "RSA-2048",
  notBefore: CA_FROM,
  notAfter: CA_TO,
  commonName: "postacert Intermediate Without BasicConstraints",
  basicConstraints: false,
});
await save("intermediate-no-bc", noBcCa, "intermediate-ca", "ca-without-basic-constraints", "An intermediate under ca with no basicConstraints extension: it must not be accepted as a CA.", ca);

// --- Gestori ---------------------------------------------------------------------
interface GestoreSpec {
  file: string;
  case: string;
  description: string;
  name: string;
  domain: string;
  issuer: TestCa;
  keyAlgorithm?: KeyAlgorithm;
  notBefore?: Date;
  notAfter?: Date;
  keyUsage?: ["keyEncipherment"];
  extKeyUsage?: ["serverAuth"];
  policies?: string[];
}

const specs: GestoreSpec[] = [
  { file: "gestore-valid", case: "valid", description: "The valid gestore (RSA-2048): signer of the main samples.", name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", issuer: ca },
  { file: "gestore-valid-pss", case: "valid", description: "Valid gestore with an RSA-PSS key.", name: "Gestore Beta S.p.A.", domain: "pec.beta.test", issuer: ca, keyAlgorithm: "RSA-PSS-2048" },
  { file: "gestore-valid-p256", case: "valid", description: "Valid gestore with an ECDSA P-256 key.", name: "Gestore Gamma S.p.A.", domain: "pec.gamma.test", issuer: ca, keyAlgorithm: "ECDSA-P256" },
  { file: "gestore-valid-p384", case: "valid", description: "Valid gestore with an ECDSA P-384 key.", name: "Gestore Delta S.p.A.", domain: "pec.delta.test", issuer: ca, keyAlgorithm: "ECDSA-P384" },
  { file: "gestore-intermediate", case: "valid-via-intermediate", description: "Valid gestore under intermediate-ca (chain: intermediate-ca, ca).", name: "Gestore Epsilon S.p.A.", domain: "pec.epsilon.test", issuer: intermediate },
  { file: "gestore-expired", case: "expired", description: "Valid 2020-01-01 to 2022-01-01: expired at every sample's signing time.", name: "Gestore Scaduto S.p.A.", domain: "pec.scaduto.test", issuer: ca, notBefore: D("2020-01-01T00:00:00Z"), notAfter: D("2022-01-01T00:00:00Z") },
  { file: "gestore-not-yet-valid", case: "not-yet-valid", description: "Valid 2040-01-01 to 2045-01-01: not yet valid at signing time.", name: "Gestore Futuro S.p.A.", domain: "pec.futuro.test", issuer: ca, notBefore: D("2040-01-01T00:00:00Z"), notAfter: D("2045-01-01T00:00:00Z") },
  { file: "gestore-wrong-ku", case: "wrong-key-usage", description: "keyUsage keyEncipherment only (no digitalSignature).", name: "Gestore Chiave S.p.A.", domain: "pec.chiave.test", issuer: ca, keyUsage: ["keyEncipherment"] },
  { file: "gestore-wrong-eku", case: "wrong-extended-key-usage", description: "extKeyUsage serverAuth only (no emailProtection).", name: "Gestore Server S.p.A.", domain: "pec.server.test", issuer: ca, extKeyUsage: ["serverAuth"] },
  { file: "gestore-no-policy", case: "missing-pec-policy", description: "No certificatePolicies (no 1.3.76.16.3.1.1): must fail with the system() trust store.", name: "Gestore Senza Policy S.p.A.", domain: "pec.nopolicy.test", issuer: ca, policies: [] },
  { file: "gestore-other-ca", case: "signer-from-another-ca", description: "Issued by other-ca, which is not trusted.", name: "Gestore Estraneo S.p.A.", domain: "pec.estraneo.test", issuer: otherCa },
  { file: "gestore-under-no-bc", case: "ca-without-basic-constraints", description: "Issued by intermediate-no-bc (no basicConstraints cA).", name: "Gestore Abusivo S.p.A.", domain: "pec.abusivo.test", issuer: noBcCa },
  { file: "gestore-revoked", case: "revoked", description: "Revoked on 2025-01-01 by ca.crl (before the samples' signing time).", name: "Gestore Revocato S.p.A.", domain: "pec.revocato.test", issuer: ca },
];

const gestori = new Map<string, TestGestore>();
for (const s of specs) {
  const g = await createGestore({
    name: s.name,
    domain: s.domain,
    ca: s.issuer,
    keyAlgorithm: s.keyAlgorithm ?? "RSA-2048",
    notBefore: s.notBefore ?? VALID_FROM,
    notAfter: s.notAfter ?? VALID_TO,
    ...(s.keyUsage ? { keyUsage: s.keyUsage } : {}),
    ...(s.extKeyUsage ? { extKeyUsage: s.extKeyUsage } : {}),
    ...(s.policies ? { policies: s.policies } : {}),
  });
  gestori.set(s.file, g);
  await save(s.file, g, "gestore", s.case, s.description, s.issuer);
}

// --- CRL ---------------------------------------------------------------------------
const revoked = gestori.get("gestore-revoked")!;
// Superseded, not keyCompromise: a compromise revokes whatever the signing time, and the
// revoked-signed-before-revocation sample must stay trusted.
const crl = await createCrl(ca, {
  revoked: [{ serialNumber: revoked.serialNumber, revocationDate: REVOKED_AT, reason: "superseded" }],
  thisUpdate: D("2025-01-02T00:00:00Z"),
  nextUpdate: D("2035-12-31T00:00:00Z"),
});
writeFileSync(join(PKI, "ca.crl"), crl);
writeFileSync(join(PKI, "ca.crl.pem"), toPem(crl, "X509 CRL"));

// --- IGPEC LDIF ---------------------------------------------------------------------
const good = ["gestore-valid", "gestore-valid-pss", "gestore-valid-p256", "gestore-valid-p384", "gestore-intermediate"].map((f) => gestori.get(f)!);
const providers = good.map((g) => ({
  name: g.name,
  certificates: [g.certificate],
  mailReceipt: `ricevute@${g.domain}`,
  domains: [g.domain],
  description: `Test gestore ${g.name}`,
}));
writeFileSync(join(PKI, "igpec.ldif"), await buildIgpecLdif(providers));
writeFileSync(join(PKI, "igpec-wrong-hash.ldif"), await buildIgpecLdif(providers, { corruptHash: true }));

writeFileSync(
  join(PKI, "index.json"),
  JSON.stringify(
    {
      generatedBy: "scripts/make-fixtures.ts (npm run fixtures)",
      warning: "TEST ONLY: the *.key.pem private keys are public; never trust this PKI outside tests.",
      chainConvention: "chain lists issuer certificates nearest first, root included; CMS samples include the signer and its chain.",
      crl: { file: "ca.crl", pem: "ca.crl.pem", issuer: "ca", thisUpdate: "2025-01-02T00:00:00.000Z", nextUpdate: "2035-12-31T00:00:00.000Z", revoked: [{ name: "gestore-revoked", serialNumber: revoked.serialNumber, revocationDate: REVOKED_AT.toISOString(), reason: "superseded" }] },
      ldif: {
        good: { file: "igpec.ldif", providers: good.map((g) => names.get(g)) },
        wrongHash: { file: "igpec-wrong-hash.ldif", providers: good.map((g) => names.get(g)), note: "same entries, every providerCertificateHash wrong" },
      },
      certificates: pkiIndex,
    },
    null,
    2,
  ) + "\n",
);

// --- Signed samples -------------------------------------------------------------------
const CRLF = "\r\n";
const content = new TextEncoder().encode(
  [
    "Content-Type: multipart/mixed; boundary=\"----=_Part_postacert_fixture\"",
    "",
    "------=_Part_postacert_fixture",
    "Content-Type: text/plain; charset=iso-8859-1",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    "Ricevuta di accettazione",
    "",
    "Il giorno 15/06/2025 alle ore 12:00:00 (+0200) il messaggio \"prova\" =E8 stato accettato.",
    "",
    "------=_Part_postacert_fixture",
    "Content-Type: application/xml; name=\"daticert.xml\"",
    "Content-Disposition: inline; filename=\"daticert.xml\"",
    "Content-Transfer-Encoding: base64",
    "",
    "PD94bWwgdmVyc2lvbj0iMS4wIiBlbmNvZGluZz0iVVRGLTgiPz4KPHBvc3RhY2VydCB0aXBvPSJh",
    "Y2NldHRhemlvbmUiIGVycm9yZT0ibmVzc3VubyIvPgo=",
    "",
    "------=_Part_postacert_fixture--",
    "",
  ].join(CRLF),
);
writeFileSync(join(SMIME, "content.eml"), content);

const HEADERS = (g: TestGestore): [string, string][] => [
  ["Date", "Sun, 15 Jun 2025 12:00:00 +0200"],
  ["From", `posta-certificata@${g.domain}`],
  ["To", "mittente@pec.example.test"],
  ["Subject", "ACCETTAZIONE: prova"],
  ["Message-ID", `<fixture.${g.domain}@postacert.test>`],
];

interface Sample {
  file: string;
  type: "smime" | "cms";
  form: "detached" | "opaque";
  encoding: CmsEncoding;
  digest: CmsDigest;
  key: KeyAlgorithm;
  signer: string;
  signingTime: string | null;
  signedAttributes: boolean;
  content: string | null;
  case: string;
}
const samples: Sample[] = [];
const short: Record<CmsDigest, string> = { "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512" };

async function sample(opts: {
  signer: string;
  form: "detached" | "opaque";
  encoding: CmsEncoding;
  digest: CmsDigest;
  signedAttributes?: boolean;
  signingTime?: Date;
  kase?: string;
  name?: string;
  cmsToo?: boolean;
}): Promise<void> {
  const g = gestori.get(opts.signer)!;
  const withAttrs = opts.signedAttributes ?? true;
  const at = withAttrs ? (opts.signingTime ?? SIGNED_AT) : undefined;
  const base =
    opts.name ??
    `${opts.signer.replace(/^gestore-/, "")}-${opts.form}-${opts.encoding}-${short[opts.digest]}${withAttrs ? "" : "-noattrs"}`;
  const common = { digest: opts.digest, encoding: opts.encoding, signedAttributes: withAttrs, ...(at ? { signingTime: at } : {}) };
  const describe = (file: string, type: Sample["type"]): Sample => ({
    file,
    type,
    form: opts.form,
    encoding: opts.encoding,
    digest: opts.digest,
    key: g.keyAlgorithm,
    signer: opts.signer,
    signingTime: at ? at.toISOString() : null,
    signedAttributes: withAttrs,
    content: type === "cms" && opts.form === "detached" ? "content.eml" : null,
    case: opts.kase ?? "valid",
  });
  const eml = await signSmime(content, g, { ...common, form: opts.form, headers: HEADERS(g) });
  writeFileSync(join(SMIME, `${base}.eml`), eml);
  samples.push(describe(`${base}.eml`, "smime"));
  if (opts.cmsToo ?? true) {
    const ext = opts.form === "detached" ? "p7s" : "p7m";
    writeFileSync(join(SMIME, `${base}.${ext}`), await signCms({ ...common, content, signer: g, detached: opts.form === "detached" }));
    samples.push(describe(`${base}.${ext}`, "cms"));
  }
}

const forms = ["detached", "opaque"] as const;
const encodings = ["der", "ber"] as const;
for (const form of forms) {
  for (const encoding of encodings) {
    for (const digest of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"] as CmsDigest[]) await sample({ signer: "gestore-valid", form, encoding, digest });
    for (const signer of ["gestore-valid-pss", "gestore-valid-p256", "gestore-valid-p384"]) await sample({ signer, form, encoding, digest: "SHA-256" });
  }
}
await sample({ signer: "gestore-valid-p384", form: "detached", encoding: "der", digest: "SHA-384" });
await sample({ signer: "gestore-valid", form: "detached", encoding: "der", digest: "SHA-256", signedAttributes: false });
await sample({ signer: "gestore-valid-p256", form: "detached", encoding: "der", digest: "SHA-256", signedAttributes: false });
await sample({ signer: "gestore-intermediate", form: "detached", encoding: "der", digest: "SHA-256", kase: "valid-via-intermediate" });

// One detached SHA-256 DER sample per tamper certificate.
for (const s of specs.filter((x) => !x.case.startsWith("valid"))) {
  await sample({ signer: s.file, form: "detached", encoding: "der", digest: "SHA-256", kase: s.case, name: `tamper-${s.case}` });
}
// The revoked gestore signing before its revocation: not revoked at signing time.
await sample({
  signer: "gestore-revoked",
  form: "detached",
  encoding: "der",
  digest: "SHA-256",
  signingTime: D("2024-06-01T10:00:00Z"),
  kase: "revoked-after-signing",
  name: "revoked-signed-before-revocation",
});

writeFileSync(
  join(SMIME, "index.json"),
  JSON.stringify(
    {
      generatedBy: "scripts/make-fixtures.ts (npm run fixtures)",
      trustAnchor: "../pki/ca.pem",
      crl: "../pki/ca.crl",
      content: "content.eml",
      note:
        "type smime: a whole S/MIME message (signSmime), detached = multipart/signed whose first part is content.eml byte for byte, opaque = application/pkcs7-mime. " +
        "type cms: a bare DER/BER ContentInfo (signCms); detached ones sign content.eml. The .eml and the .p7s/.p7m of one row set are separate signatures of the same content. " +
        "signer names a certificate in ../pki/index.json. case 'valid' samples verify and are trusted with ../pki/ca.pem at signingTime.",
      samples,
    },
    null,
    2,
  ) + "\n",
);

let total = 0;
for (const dir of [PKI, SMIME]) for (const f of readdirSync(dir)) total += readFileSync(join(dir, f)).length;
console.log(`make-fixtures: ${pkiIndex.length} certificates, ${samples.length} samples, ${(total / 1024).toFixed(0)} KiB written to fixtures/pki and fixtures/smime`);
