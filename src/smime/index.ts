/**
 * S/MIME and CMS: verification of SignedData (`verifyCms`, `verifySignedData`),
 * certification paths at the signing time (`validatePath`), the gestore certificate
 * profile, CRLs, certificates, trust stores — and signing (`signCms`, `signSmime`).
 *
 * @example
 * ```ts
 * import { TrustStore, verifySignedData } from "postacert/smime";
 * declare const p7s: Uint8Array, signedBytes: Uint8Array, caPem: string; // the signature, what it signs, the CA
 * const res = await verifySignedData({ cms: p7s, content: signedBytes, trust: await TrustStore.fromPem(caPem) });
 * console.log(res.valid, res.trusted, res.signer?.subject, res.signedAt);
 * ```
 *
 * @module postacert/smime
 */
export { verifyCms, verifySignedData, DEFAULT_MAX_CMS_CERTIFICATES } from "./verify.js";
export type { CmsVerification, SignedDataVerification, SignerResult, SignerVerification, VerifyCmsOptions, VerifySignedDataOptions } from "./verify.js";
export { validatePath } from "./path.js";
export type { PathValidation, ValidatePathOptions } from "./path.js";
export { checkGestoreProfile } from "./profile.js";
export type { GestoreProfileOptions } from "./profile.js";
export { Certificate, parseCertificate, parsePem, parsePemCertificates } from "./certificate.js";
export type { BasicConstraints, CertificateExtension, KeyUsage, NameConstraints, PemBlock, PublicKeyDescription } from "./certificate.js";
export { formatName } from "./name.js";
export type { DistinguishedName, GeneralName, GeneralNameType, NameAttribute } from "./name.js";
export { Crl, parseCrl } from "./crl.js";
export { extractEncapsulatedContent } from "./cms.js";
export type { RevocationReason, RevokedCertificate } from "./crl.js";
export type { SignatureIssue, SignatureIssueCode, SignatureIssueSeverity } from "./issues.js";
export type { CryptoLike } from "./digest.js";
export type { DigestName } from "./oids.js";
export { TrustStore, parseLdif } from "../trust/index.js";
export type { GestoreProvider, LdifEntry, LdifValue, RejectedEntry, TrustAnchor, TrustSource, TrustStoreOptions } from "../trust/index.js";
export { signCms, signSmime } from "./sign.js";
export type { CmsDigest, CmsEncoding, CmsSignOptions, CmsSigner, SmimeSignOptions } from "./sign.js";
