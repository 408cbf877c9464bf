/**
 * Object identifiers used by the CMS and certificate code. Internal.
 */

/** Digest algorithms postacert knows, by OID, with their WebCrypto names. */
export const DIGESTS: Readonly<Record<string, { name: DigestName; webcrypto: string; weak: boolean }>> = {
  "1.3.14.3.2.26": { name: "SHA-1", webcrypto: "SHA-1", weak: true },
  "2.16.840.1.101.3.4.2.4": { name: "SHA-224", webcrypto: "SHA-224", weak: false },
  "2.16.840.1.101.3.4.2.1": { name: "SHA-256", webcrypto: "SHA-256", weak: false },
  "2.16.840.1.101.3.4.2.2": { name: "SHA-384", webcrypto: "SHA-384", weak: false },
  "2.16.840.1.101.3.4.2.3": { name: "SHA-512", webcrypto: "SHA-512", weak: false },
};

/** Digest algorithm names as reported to users. */
export type DigestName = "SHA-1" | "SHA-224" | "SHA-256" | "SHA-384" | "SHA-512";

/** OID of a digest name (inverse of {@link DIGESTS}). */
export const DIGEST_OID: Readonly<Record<DigestName, string>> = {
  "SHA-1": "1.3.14.3.2.26",
  "SHA-224": "2.16.840.1.101.3.4.2.4",
  "SHA-256": "2.16.840.1.101.3.4.2.1",
  "SHA-384": "2.16.840.1.101.3.4.2.2",
  "SHA-512": "2.16.840.1.101.3.4.2.3",
};

/** Signature algorithm OIDs. */
export const SIG = {
  rsaEncryption: "1.2.840.113549.1.1.1",
  sha1WithRSA: "1.2.840.113549.1.1.5",
  sha224WithRSA: "1.2.840.113549.1.1.14",
  sha256WithRSA: "1.2.840.113549.1.1.11",
  sha384WithRSA: "1.2.840.113549.1.1.12",
  sha512WithRSA: "1.2.840.113549.1.1.13",
  rsaPSS: "1.2.840.113549.1.1.10",
  mgf1: "1.2.840.113549.1.1.8",
  ecPublicKey: "1.2.840.10045.2.1",
  ecdsaWithSHA1: "1.2.840.10045.4.1",
  ecdsaWithSHA224: "1.2.840.10045.4.3.1",
  ecdsaWithSHA256: "1.2.840.10045.4.3.2",
  ecdsaWithSHA384: "1.2.840.10045.4.3.3",
  ecdsaWithSHA512: "1.2.840.10045.4.3.4",
} as const;

/** Named curves. */
export const CURVES: Readonly<Record<string, "P-256" | "P-384" | "P-521">> = {
  "1.2.840.10045.3.1.7": "P-256",
  "1.3.132.0.34": "P-384",
  "1.3.132.0.35": "P-521",
};

/** CMS content types and attributes. */
export const CMS = {
  data: "1.2.840.113549.1.7.1",
  signedData: "1.2.840.113549.1.7.2",
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  signingTime: "1.2.840.113549.1.9.5",
  smimeCapabilities: "1.2.840.113549.1.9.15",
  cmsAlgorithmProtection: "1.2.840.113549.1.9.52",
  signingCertificate: "1.2.840.113549.1.9.16.2.12",
  signingCertificateV2: "1.2.840.113549.1.9.16.2.47",
  smimeEncryptionKeyPreference: "1.2.840.113549.1.9.16.2.11",
} as const;

/** X.509 extensions, key purposes and policies relevant to PEC. */
export const X509 = {
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  nameConstraints: "2.5.29.30",
  crlDistributionPoints: "2.5.29.31",
  certificatePolicies: "2.5.29.32",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  anyExtendedKeyUsage: "2.5.29.37.0",
  emailProtection: "1.3.6.1.5.5.7.3.4",
  emailAddress: "1.2.840.113549.1.9.1",
  commonName: "2.5.4.3",
  /** The PEC gestore certificate policy (AgID / DigitPA). */
  pecPolicy: "1.3.76.16.3.1.1",
} as const;
