/**
 * Node-only: the system root certificates as a {@link TrustStore}.
 *
 * @module
 */
import { rootCertificates } from "node:tls";
import { TrustStore, type TrustStoreOptions } from "../trust/store.js";

/**
 * Node's bundled root certificates (`tls.rootCertificates`, Mozilla's list) as a
 * trust store that requires the PEC gestore policy (1.3.76.16.3.1.1) from signers:
 * gestore certificates chain to public roots (AgID CA1 → Actalis Authentication Root
 * CA), but so does any S/MIME certificate a public CA issues, and only the policy
 * tells a gestore's apart. Same as {@link TrustStore.system}, with a static import.
 *
 * @example
 * ```ts
 * import { systemTrust } from "postacert/node";
 * const trust = await systemTrust();
 * ```
 */
export function systemTrust(options: Omit<TrustStoreOptions, "requirePecPolicy"> = {}): Promise<TrustStore> {
  return TrustStore.fromSystemRoots(rootCertificates, options);
}

/** Alias of {@link systemTrust}. */
export const systemTrustStore = systemTrust;
