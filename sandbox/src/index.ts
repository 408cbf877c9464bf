/**
 * postacert-sandbox as a library: {@link startSandbox} runs the same world as the
 * `postacert-sandbox` command inside your process (tests).
 *
 * @module
 */
export { ConfigError, defaultConfig, loadConfig, parseConfig } from "./config.js";
export type { AntivirusSignature, GestoreConfig, MailboxConfig, SandboxConfig } from "./config.js";
export { DovecotMissingError, startSandbox } from "./sandbox.js";
export type { Sandbox, SandboxInfo, SandboxOptions } from "./sandbox.js";
export type { SandboxMailbox } from "./engine.js";
export { DOVECOT_PACKAGES, findDovecot } from "./dovecot.js";
