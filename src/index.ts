/**
 * postacert: Italian PEC (Posta Elettronica Certificata) in TypeScript.
 *
 * @module
 */
export { PecError, isPecError } from "./errors.js";
export type { PecErrorCode, PecErrorDetails } from "./errors.js";
