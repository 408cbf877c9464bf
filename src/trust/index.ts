/**
 * Trust sources for signature verification: PEM/DER anchors, the IGPEC LDIF of the
 * PEC gestori, and (in Node) the system roots.
 *
 * @module
 */
export { TrustStore } from "./store.js";
export type { GestoreProvider, RejectedEntry, TrustAnchor, TrustSource, TrustStoreOptions } from "./store.js";
export { parseLdif } from "./ldif.js";
export type { LdifEntry, LdifValue } from "./ldif.js";
