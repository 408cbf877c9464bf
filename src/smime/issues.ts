/**
 * Stable issue codes of signature verification.
 *
 * @module
 */

/**
 * Stable codes of what signature verification reports. Programs may switch on them;
 * they never change meaning.
 */
export type SignatureIssueCode =
  /** The content does not match the signature: messageDigest differs from the digest of the content, the contentType attribute differs from eContentType, or the given detached content differs from the encapsulated one. The classic "message altered" result. */
  | "SIGNATURE_MISMATCH"
  /** The signature value does not verify with the signer's public key, the algorithms contradict each other (digest in signatureAlgorithm ≠ digestAlgorithm, CMSAlgorithmProtection disagreeing, key type ≠ algorithm), or the signed ESS signingCertificate(V2) attribute names another certificate than the signer's. */
  | "SIGNATURE_INVALID"
  /** The CMS (PKCS#7) structure cannot be decoded, or lacks a mandatory part (e.g. the messageDigest attribute). */
  | "CMS_MALFORMED"
  /** A detached signature was given without the content it signs. */
  | "CONTENT_MISSING"
  /** The SignedData has no SignerInfo: nothing is signed. */
  | "NO_SIGNER"
  /** No certificate in the CMS (or supplied by the caller) matches the SignerInfo's issuer and serial number or subject key identifier. */
  | "SIGNER_CERT_MISSING"
  /** No certification path from the signer to an anchor of the trust store. */
  | "CERT_UNTRUSTED"
  /** A certificate of the path had expired at the signing time. */
  | "CERT_EXPIRED_AT_SIGNING"
  /** A certificate of the path was not yet valid at the signing time. */
  | "CERT_NOT_YET_VALID_AT_SIGNING"
  /** A certificate of the path was revoked at or before the signing time (per a CRL the caller gave or the CMS carried). */
  | "CERT_REVOKED"
  /** The signer certificate does not fit the gestore profile: keyUsage without digitalSignature/nonRepudiation, extendedKeyUsage without emailProtection/any. */
  | "CERT_PROFILE"
  /** The path is structurally invalid: an issuer without basicConstraints cA (a leaf acting as CA), pathLenConstraint exceeded, name constraints violated, issuer keyUsage without keyCertSign, an issuer signature that does not verify, an unknown critical extension, an extension present twice, a certificate whose signed and unsigned signature algorithm fields differ. */
  | "CERT_CHAIN_INVALID"
  /** The trust anchor requires the PEC gestore policy (OID 1.3.76.16.3.1.1, as with the system roots) and the signer certificate does not assert it. */
  | "PEC_POLICY_MISSING"
  /** A weak but accepted algorithm: SHA-1 digests or signatures, RSA keys shorter than 2048 bits. A warning: the signature still counts. */
  | "WEAK_ALGORITHM"
  /** A digest, signature or key algorithm postacert cannot verify (e.g. Ed25519, MD5, an unknown OID), or the WebCrypto implementation given failed (threw or rejected) computing it: the message says which. */
  | "UNSUPPORTED_ALGORITHM"
  /** The signer certificate's e-mail address (subjectAltName rfc822Name) is not the expected gestore address or domain. */
  | "SIGNER_MISMATCH"
  /** A CRL could not be used: malformed, or its signature does not verify with the issuer's key. A warning: revocation is then unknown for that issuer. */
  | "CRL_INVALID";

/** Severity of an issue: `error` means the signature or the signer cannot be relied upon. */
export type SignatureIssueSeverity = "error" | "warning";

/** One finding of signature verification. */
export interface SignatureIssue {
  /** Stable code. */
  readonly code: SignatureIssueCode;
  /** `error` or `warning`. */
  readonly severity: SignatureIssueSeverity;
  /** Human-readable explanation (English). */
  readonly message: string;
}

const WARNINGS: ReadonlySet<SignatureIssueCode> = new Set<SignatureIssueCode>(["WEAK_ALGORITHM", "CRL_INVALID"]);

/** Makes an issue with the code's default severity. */
export function issue(code: SignatureIssueCode, message: string): SignatureIssue {
  return { code, severity: WARNINGS.has(code) ? "warning" : "error", message };
}

/** Whether any issue is an error. */
export function hasError(issues: readonly SignatureIssue[]): boolean {
  for (const i of issues) if (i.severity === "error") return true;
  return false;
}
