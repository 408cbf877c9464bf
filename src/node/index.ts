/**
 * Node-only helpers (`postacert/node`): the system root certificates as a trust store.
 * Everything else in postacert runs in browsers too.
 *
 * @module
 */
export { systemTrust, systemTrustStore } from "./system-trust.js";
