/**
 * The sandbox PKI: the test CA and one signing identity per gestore, created once and
 * kept in the state folder so that a restart signs with the same keys (mail already in
 * the mailboxes stays trusted) and clients keep trusting the same CA and LDIF.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createGestore, createTestCa, toPem } from "postacert/simulator";
import type { KeyAlgorithm, TestCa, TestGestore, TestIdentity } from "postacert/simulator";
import { writeFileAtomic } from "./files.js";

const KEY_PARAMS: Record<string, RsaHashedImportParams | EcKeyImportParams> = {
  "RSA-2048": { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
  "ECDSA-P256": { name: "ECDSA", namedCurve: "P-256" },
};

interface StoredIdentity {
  kind: "ca" | "gestore";
  certificate: string;
  privateKey: string;
  publicKey: string;
  chain: string[];
  serialNumber: string;
  subject: string;
  keyAlgorithm: KeyAlgorithm;
  keyIdentifier: string;
  notBefore: string;
  notAfter: string;
  name?: string;
  domain?: string;
  email?: string;
}

interface StoredPki {
  version: 1;
  ca: StoredIdentity;
  gestori: Record<string, StoredIdentity>;
}

/** The CA and the gestori identities by main domain. */
export interface SandboxPki {
  /** The test root CA. */
  ca: TestCa;
  /** Signing identity of each gestore, by main domain. */
  gestori: Map<string, TestGestore>;
}

const b64 = (u: Uint8Array): string => Buffer.from(u).toString("base64");
const unb64 = (s: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(s, "base64"));

async function store(id: TestIdentity & { kind: "ca" | "gestore" }): Promise<StoredIdentity> {
  const subtle = globalThis.crypto.subtle;
  const g = id as Partial<TestGestore>;
  return {
    kind: id.kind,
    certificate: b64(id.certificate),
    privateKey: b64(new Uint8Array(await subtle.exportKey("pkcs8", id.privateKey))),
    publicKey: b64(new Uint8Array(await subtle.exportKey("spki", id.publicKey))),
    chain: id.chain.map(b64),
    serialNumber: id.serialNumber,
    subject: id.subject,
    keyAlgorithm: id.keyAlgorithm,
    keyIdentifier: b64(id.keyIdentifier),
    notBefore: id.notBefore.toISOString(),
    notAfter: id.notAfter.toISOString(),
    ...(g.name !== undefined && { name: g.name, domain: g.domain!, email: g.email! }),
  };
}

async function load(s: StoredIdentity): Promise<TestIdentity & Record<string, unknown>> {
  const subtle = globalThis.crypto.subtle;
  const params = KEY_PARAMS[s.keyAlgorithm];
  if (!params) throw new Error(`unsupported key algorithm ${s.keyAlgorithm} in the stored PKI`);
  const certificate = unb64(s.certificate);
  return {
    kind: s.kind,
    certificate,
    privateKey: await subtle.importKey("pkcs8", unb64(s.privateKey), params, true, ["sign"]),
    publicKey: await subtle.importKey("spki", unb64(s.publicKey), params, true, ["verify"]),
    chain: s.chain.map(unb64),
    serialNumber: s.serialNumber,
    subject: s.subject,
    keyAlgorithm: s.keyAlgorithm,
    keyIdentifier: unb64(s.keyIdentifier),
    notBefore: new Date(s.notBefore),
    notAfter: new Date(s.notAfter),
    pem: () => toPem(certificate),
    ...(s.name !== undefined && { name: s.name, domain: s.domain, email: s.email }),
  };
}

/**
 * Loads the PKI from `dir/pki.json`, creating the CA and any gestore identity it lacks
 * (a gestore added to the configuration gets a new one; existing ones are kept).
 */
export async function loadOrCreatePki(dir: string, gestori: readonly { name: string; domain: string }[], keyAlgorithm: KeyAlgorithm): Promise<SandboxPki> {
  const file = join(dir, "pki.json");
  let stored: StoredPki | undefined;
  try {
    stored = JSON.parse(await readFile(file, "utf8")) as StoredPki;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`the sandbox PKI ${file} is unreadable (delete the state folder to start afresh): ${(e as Error).message}`);
  }
  let changed = false;
  // Valid from a day back: clocks of clients and a restarted sandbox need not agree to the second.
  const notBefore = new Date(Date.now() - 24 * 3600_000);
  const notAfter = new Date(Date.now() + 10 * 365 * 24 * 3600_000);
  let ca: TestCa;
  if (stored) ca = (await load(stored.ca)) as unknown as TestCa;
  else {
    ca = await createTestCa({ keyAlgorithm, notBefore, notAfter, commonName: `postacert-sandbox test CA ${randomUUID().slice(0, 8)}`, organization: "postacert-sandbox" });
    stored = { version: 1, ca: await store(ca), gestori: {} };
    changed = true;
  }
  const out = new Map<string, TestGestore>();
  for (const g of gestori) {
    const have = stored.gestori[g.domain];
    if (have) out.set(g.domain, (await load(have)) as unknown as TestGestore);
    else {
      const id = await createGestore({ name: g.name, domain: g.domain, ca, keyAlgorithm, notBefore, notAfter });
      stored.gestori[g.domain] = await store(id);
      out.set(g.domain, id);
      changed = true;
    }
  }
  if (changed) await writeFileAtomic(file, JSON.stringify(stored, null, 1), { mode: 0o600 });
  return { ca, gestori: out };
}
