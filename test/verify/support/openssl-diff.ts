// Node-only half of the differential test: the openssl binary as the second opinion, and
// postacert's verdict read the same way (signature, then path, each on its own).
import { execFile, execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportPrivateKeyPem } from "../../../src/simulator/ca.js";
import { verifySignedData, type SignedDataVerification } from "../../../src/smime/verify.js";
import { TrustStore } from "../../../src/trust/store.js";
import type { Digest } from "./diff-cms.js";
import type { World } from "./diff-pki.js";

export function hasOpenssl(): boolean {
  try {
    return /^OpenSSL 3\./.test(execFileSync("openssl", ["version"], { stdio: "pipe" }).toString());
  } catch {
    return false;
  }
}

interface Run {
  ok: boolean;
  stdout: Buffer;
  stderr: string;
}

export function openssl(args: readonly string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile("openssl", args, { cwd, encoding: "buffer", maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ ok: !err, stdout, stderr: stderr.toString() });
    });
  });
}

const pem = (der: Uint8Array, label = "CERTIFICATE"): string =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n").replace(/\n?$/, "\n")}-----END ${label}-----\n`;

/** Per-world files (signer certificate and key, anchors) and trust stores, written once. */
export class WorldFiles {
  private readonly written = new Map<string, Promise<TrustStore>>();
  constructor(readonly dir: string) {}

  prepare(w: World): Promise<TrustStore> {
    let p = this.written.get(w.id);
    if (!p) {
      p = (async () => {
        writeFileSync(join(this.dir, `${w.id}.crt`), pem(w.signerCert));
        writeFileSync(join(this.dir, `${w.id}.key`), await exportPrivateKeyPem(w.signerKey.pair.privateKey));
        writeFileSync(join(this.dir, `${w.id}.anchors.pem`), w.anchors.map((a) => pem(a)).join(""));
        return TrustStore.fromDer([...w.anchors]);
      })();
      this.written.set(w.id, p);
    }
    return p;
  }

  /** openssl cms -sign with the world's signer (its certificates are replaced afterwards). */
  async sign(w: World, content: Uint8Array, digest: Digest, flags: string[]): Promise<Uint8Array> {
    await this.prepare(w);
    const input = join(this.dir, "sign-content.bin");
    writeFileSync(input, content);
    const md = digest.toLowerCase().replace("-", "");
    const args = ["cms", "-sign", "-binary", "-in", input, "-signer", `${w.id}.crt`, "-inkey", `${w.id}.key`, "-outform", "DER", "-md", md];
    let r = await openssl([...args, ...flags], this.dir);
    // -keyid with a signer certificate without subjectKeyIdentifier (a v1 certificate): by issuer and serial then.
    if (!r.ok && /has no keyid/.test(r.stderr)) r = await openssl([...args, ...flags.filter((f) => f !== "-keyid")], this.dir);
    if (!r.ok) throw new Error(`openssl cms -sign failed: ${r.stderr}`);
    return new Uint8Array(r.stdout);
  }
}

/** The two verdicts compared: the signature alone, and the certification path. */
export interface Verdict {
  /** The signature (and signed attributes) match the content. */
  readonly sig: boolean;
  /** The path from the signer to an anchor at the signing time; "n/a" when no signer certificate was found or the CMS was not read. */
  readonly chain: "ok" | "fail" | "n/a";
  /**
   * The signer certificate fits S/MIME signing: postacert's gestore profile (no CERT_PROFILE
   * error) against openssl's -purpose smimesign; "n/a" unless the path is good.
   */
  readonly profile: "ok" | "fail" | "n/a";
  /** Codes (postacert) or error lines (openssl), for reports. */
  readonly detail: string;
}

/** Issue codes that speak of the path, not of the signature or the PEC profile. */
const CHAIN_CODES = new Set(["CERT_UNTRUSTED", "CERT_EXPIRED_AT_SIGNING", "CERT_NOT_YET_VALID_AT_SIGNING", "CERT_CHAIN_INVALID", "CERT_REVOKED", "PEC_POLICY_MISSING"]);

export function postacertVerdict(res: SignedDataVerification): Verdict {
  const signers = res.signers;
  let chain: Verdict["chain"] = "n/a";
  if (signers.length > 0 && signers.every((s) => s.certificate)) {
    const bad = signers.some((s) =>
      s.issues.some((i) => i.severity === "error" && (CHAIN_CODES.has(i.code) || (i.code === "UNSUPPORTED_ALGORITHM" && /^cannot (check the signature on|validate the certification path)/.test(i.message)))),
    );
    chain = bad ? "fail" : "ok";
  }
  const detail = [...new Set(res.issues.map((i) => `${i.code}${i.severity === "warning" ? "?" : ""}`))].join(",");
  const profile = chain !== "ok" ? "n/a" : signers.some((s) => s.issues.some((i) => i.code === "CERT_PROFILE" && i.severity === "error")) ? "fail" : "ok";
  return { sig: res.valid, chain, profile, detail };
}

export async function postacertVerify(cms: Uint8Array, content: Uint8Array, trust: TrustStore, when: Date): Promise<{ verdict: Verdict; res: SignedDataVerification }> {
  const res = await verifySignedData({ cms, content, trust, fallbackTime: when });
  return { verdict: postacertVerdict(res), res };
}

/** Lines of openssl's stderr worth reading (the error queue without file/line noise). */
function errors(stderr: string): string {
  return stderr
    .split("\n")
    // "<id>:error:<code>:<lib>:<func>:<reason>:<file>.c:<line>:<data>" → "<lib>:<func>:<reason> <data>".
    .map((l) => l.replace(/^[0-9A-F]+:error:[0-9A-F]+:/, "").replace(/:[^:]*\.c:\d+:/, " ").trim())
    .filter(Boolean)
    .join(" | ");
}

/**
 * openssl cms -verify twice: with -noverify for the signature alone, and with the anchors
 * (-partial_chain: an anchor need not be self-signed, as in postacert's stores; -purpose
 * any: the PEC profile is compared apart; -attime: the signing time meant).
 */
export async function opensslVerify(dir: string, world: World, cms: Uint8Array, content: Uint8Array, when: Date): Promise<Verdict> {
  writeFileSync(join(dir, "case.der"), cms);
  writeFileSync(join(dir, "case-content.bin"), content);
  const base = ["cms", "-verify", "-binary", "-inform", "DER", "-in", "case.der", "-content", "case-content.bin", "-out", "/dev/null"];
  const path = (purpose: string): string[] => [
    ...base,
    "-CAfile",
    `${world.id}.anchors.pem`,
    "-no-CApath",
    "-no-CAstore",
    "-partial_chain",
    "-purpose",
    purpose,
    "-attime",
    String(Math.floor(when.getTime() / 1000)),
    ...(world.crls.length ? ["-crl_check"] : []),
  ];
  const full = await openssl(path("any"), dir);
  if (full.ok) {
    const smime = await openssl(path("smimesign"), dir);
    return { sig: true, chain: "ok", profile: smime.ok ? "ok" : "fail", detail: smime.ok ? "" : `profile: ${errors(smime.stderr)}` };
  }
  const sigOnly = await openssl([...base, "-noverify"], dir);
  // OpenSSL checks every signer's path before any signature: a path error means the path failed;
  // any other error after the signer certificates were found means the path passed.
  const pathError = /Verify error|certificate verify error/.test(full.stderr);
  const notReached = /signer certificate not found|Error reading|error reading|no content type|d2i|nested asn1 error|wrong tag|too long|header too long|not enough data/i.test(full.stderr);
  const chain: Verdict["chain"] = pathError ? "fail" : notReached ? "n/a" : "ok";
  // The signature failed: with openssl, a purpose is only checked on the way to a valid signature.
  return { sig: sigOnly.ok, chain, profile: "n/a", detail: `sig: ${sigOnly.ok ? "ok" : errors(sigOnly.stderr)}; path: ${chain === "ok" ? "ok" : errors(full.stderr)}` };
}
