/**
 * Trust sources for signature verification: PEM/DER anchors, the IGPEC LDIF of the
 * PEC gestori, and (in Node) the system roots.
 *
 * @example
 * ```ts
 * import { TrustStore } from "postacert/trust";
 * const igpec = await TrustStore.fromLdif(ldif);
 * console.log(igpec.providers.map((p) => p.name), igpec.rejected.length);
 * ```
 *
 * @module postacert/trust
 */
export { TrustStore } from "./store.js";
export type { GestoreProvider, RejectedEntry, TrustAnchor, TrustSource, TrustStoreOptions } from "./store.js";
export { parseLdif } from "./ldif.js";
export type { LdifEntry, LdifValue } from "./ldif.js";
