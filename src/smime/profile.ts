/**
 * The gestore certificate profile (RFC 6109 §5.5, spec §6.2), checked leniently.
 *
 * What makes a certificate unfit to sign PEC messages is checked: keyUsage without
 * digitalSignature or nonRepudiation, extendedKeyUsage without emailProtection (or
 * anyExtendedKeyUsage), an address other than the gestore's. Known deviations of
 * real certificates are not errors (spec §11 row 8: keyUsage not critical,
 * basicConstraints CA:FALSE present on the 2014 Aruba certificate).
 *
 * @module
 */

import { Certificate } from "./certificate.js";
import { issue, type SignatureIssue } from "./issues.js";
import { X509 } from "./oids.js";

/** Options of {@link checkGestoreProfile}. */
export interface GestoreProfileOptions {
  /**
   * The gestore the message says signed it: an address (`posta-certificata@pec.aruba.it`,
   * compared with the subjectAltName rfc822Name entries) or a domain (`pec.aruba.it`,
   * compared with their domain part). Case-insensitive. Omit to skip the comparison.
   */
  expected?: string;
  /** Require the PEC gestore policy 1.3.76.16.3.1.1. */
  requirePecPolicy?: boolean;
}

/** What the profile check reads from a certificate, worked out once per certificate (certificates are immutable). */
interface ProfileFacts {
  /** The keyUsage, extendedKeyUsage and basicConstraints findings, in that order. */
  readonly issues: readonly SignatureIssue[];
  /** The e-mail addresses, lower case. */
  readonly emails: readonly string[];
}

const factsByCert = new WeakMap<Certificate, ProfileFacts>();

function factsOf(cert: Certificate): ProfileFacts {
  let f = factsByCert.get(cert);
  if (f) return f;
  const issues: SignatureIssue[] = [];
  const ku = cert.keyUsage;
  if (ku && !ku.includes("digitalSignature") && !ku.includes("nonRepudiation")) {
    issues.push(issue("CERT_PROFILE", `the signer certificate's keyUsage (${ku.join(", ") || "empty"}) allows neither digitalSignature nor nonRepudiation`));
  }
  const eku = cert.extendedKeyUsage;
  if (eku && !eku.includes(X509.emailProtection) && !eku.includes(X509.anyExtendedKeyUsage)) {
    issues.push(issue("CERT_PROFILE", `the signer certificate's extendedKeyUsage (${eku.join(", ")}) does not include emailProtection`));
  }
  if (cert.basicConstraints?.ca) {
    issues.push(issue("CERT_PROFILE", "the signer certificate is a CA certificate (basicConstraints cA true)"));
  }
  f = { issues, emails: cert.emails.map((e) => e.toLowerCase()) };
  // Only parsed certificates are remembered: their fields never change.
  if (cert instanceof Certificate) factsByCert.set(cert, f);
  return f;
}

/**
 * Checks the signer certificate against the gestore profile. Returns the issues
 * (empty when it fits): `CERT_PROFILE`, `SIGNER_MISMATCH`, `PEC_POLICY_MISSING`.
 *
 * @example
 * ```ts
 * const signer = parseCertificate(der);
 * const issues = checkGestoreProfile(signer, { expected: "posta-certificata@pec.aruba.it" });
 * ```
 */
export function checkGestoreProfile(cert: Certificate, options: GestoreProfileOptions = {}): SignatureIssue[] {
  const facts = factsOf(cert);
  const issues: SignatureIssue[] = facts.issues.length ? facts.issues.slice() : [];
  if (options.requirePecPolicy && !cert.policies?.includes(X509.pecPolicy)) {
    issues.push(issue("PEC_POLICY_MISSING", `the signer certificate does not assert the PEC gestore policy ${X509.pecPolicy}`));
  }
  const expected = options.expected?.trim().toLowerCase();
  if (expected) {
    const emails = facts.emails;
    const ok = expected.includes("@") ? emails.includes(expected) : emails.some((e) => e.slice(e.lastIndexOf("@") + 1) === expected);
    if (!ok) {
      issues.push(
        issue(
          "SIGNER_MISMATCH",
          `the signer certificate is for ${emails.length ? emails.join(", ") : "no e-mail address"}, not ${expected.includes("@") ? "" : "the domain "}${expected}`,
        ),
      );
    }
  }
  return issues;
}
