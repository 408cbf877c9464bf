/**
 * Node-only helpers (`postacert/node`): the system root certificates as a trust store,
 * Node's own crypto, and the readers of archives on disk (folders, Maildirs, mbox files,
 * ZIP archives) and IMAP mailboxes. Everything else in postacert runs in browsers too.
 *
 * @example
 * ```ts
 * import { verifyPec } from "postacert";
 * import { systemTrust } from "postacert/node";
 * const res = await verifyPec(bytes, { trust: await systemTrust() }); // requires the PEC policy on the signer
 * ```
 *
 * @module postacert/node
 */
export { systemTrust, systemTrustStore } from "./system-trust.js";
export { nodeCrypto } from "./fast-crypto.js";
export { readFolder, readMaildir, readMbox, readSource, readTar, readZip } from "./sources.js";
export type { MboxOptions, SourceMessage, SourceOptions } from "./sources.js";
export { readImap, type ImapOptions } from "./imap.js";
