/**
 * The simulated gestori's antivirus: a signature scanner over every decoded MIME part of
 * a message (attachments, nested messages, the original inside a busta), plus the test
 * files it knows.
 *
 * The EICAR test file is assembled at run time, never written as one literal, so that a
 * desktop antivirus does not quarantine this source file, the built `dist/` or the npm
 * package.
 *
 * @module
 */
import { PecError } from "../errors.js";
import { parseMime, walkEntities } from "../mime/index.js";
import { indexOfBytes, latin1Bytes, utf8Bytes } from "../util/bytes.js";

/**
 * A gestore's antivirus: returns the name of what it found in the message, or
 * `undefined` when the message is clean. It must not throw for malformed mail.
 */
export type Antivirus = (message: Uint8Array) => string | undefined;

/** Name the simulated antivirus gives the EICAR test file (as ClamAV names it). */
export const EICAR_SIGNATURE_NAME = "Eicar-Test-Signature";

/**
 * Name of the postacert test signature: a harmless marker that only an antivirus built
 * with {@link POSTACERT_TEST_VIRUS} in its database detects. The scenarios use it to
 * model a virus the sender's gestore misses and the recipient's gestore catches (their
 * signature databases differ), without writing the EICAR string to disk.
 */
export const POSTACERT_TEST_SIGNATURE_NAME = "Postacert-Test-Signature";

/** The bytes of the postacert test signature (any file containing them is "infected"). */
export const POSTACERT_TEST_VIRUS = "POSTACERT-SIMULATED-VIRUS-TEST-FILE-NOT-A-REAL-VIRUS";

/**
 * The 68-byte EICAR anti-malware test file (harmless; every antivirus detects it).
 * Built from pieces at run time (see the module comment).
 *
 * @example
 * ```ts
 * const original = composeMessage({ from: "mario.rossi@pec.alfa.test", to: "anna.bianchi@pec.beta.test", subject: "Test", attachments: [{ filename: "eicar.com", content: eicarTestFile() }] });
 * ```
 */
export function eicarTestFile(): Uint8Array {
  const parts = ["X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-", "ANTIVIRUS-TEST-FILE!$H+H*"];
  return latin1Bytes(parts.join(""));
}

/**
 * An antivirus that looks for byte signatures in the whole message and in the decoded
 * body of every MIME part, nested messages included (so base64 or quoted-printable
 * attachments and the original inside a busta are scanned too).
 *
 * @param signatures - detection name → bytes (a string is UTF-8)
 * @throws PecError `ERR_INVALID_ARGUMENT` for an empty or non-byte signature
 * @example
 * ```ts
 * const av = signatureAntivirus({ [EICAR_SIGNATURE_NAME]: eicarTestFile() });
 * av(bytes); // "Eicar-Test-Signature" or undefined
 * ```
 */
export function signatureAntivirus(signatures: Readonly<Record<string, Uint8Array | string>>): Antivirus {
  if (typeof signatures !== "object" || signatures === null) {
    throw new PecError("ERR_INVALID_ARGUMENT", "signatureAntivirus needs an object: detection name → bytes");
  }
  const list: [string, Uint8Array][] = Object.entries(signatures).map(([name, sig]) => {
    const bytes = typeof sig === "string" ? utf8Bytes(sig) : sig;
    if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
      throw new PecError("ERR_INVALID_ARGUMENT", `signature ${JSON.stringify(name)} must be non-empty bytes or a string`);
    }
    return [name, bytes];
  });
  const find = (bytes: Uint8Array): string | undefined => list.find(([, sig]) => indexOfBytes(bytes, sig) !== -1)?.[0];
  return (message: Uint8Array): string | undefined => {
    if (!(message instanceof Uint8Array)) return undefined;
    const raw = find(message);
    if (raw !== undefined) return raw;
    let root;
    try {
      root = parseMime(message);
    } catch {
      // Unparseable mail cannot hide an encoded attachment: the raw scan above is all.
      return undefined;
    }
    for (const e of walkEntities(root)) {
      if (e.children.length > 0) continue;
      let body: Uint8Array;
      try {
        body = e.decodedBody();
      } catch {
        continue;
      }
      const hit = find(body);
      if (hit !== undefined) return hit;
    }
    return undefined;
  };
}

/**
 * The default antivirus of a simulated gestore: it knows the EICAR test file.
 *
 * @example
 * ```ts
 * defaultAntivirus()(bytes); // "Eicar-Test-Signature" for a message carrying the EICAR test file
 * ```
 */
export function defaultAntivirus(): Antivirus {
  return signatureAntivirus({ [EICAR_SIGNATURE_NAME]: eicarTestFile() });
}
