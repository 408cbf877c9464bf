/**
 * The TLS certificate of the sandbox's servers (SMTP STARTTLS, IMAP/POP3 STARTTLS and
 * implicit TLS): self-signed for `localhost` and `127.0.0.1`, made once with `openssl`
 * and kept in the state folder. Clients either accept it once (Thunderbird asks) or
 * skip verification (tests).
 *
 * @module
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { TlsMaterial } from "./smtp.js";

const run = promisify(execFile);

/**
 * Loads `tls/cert.pem` and `tls/key.pem` from the state folder, creating them with
 * `openssl` when missing.
 *
 * @returns the material, or undefined (with the reason) when openssl is not available:
 *   the servers then run without STARTTLS
 */
export async function loadOrCreateTls(stateDir: string, host: string): Promise<TlsMaterial | { error: string }> {
  const certPath = join(stateDir, "tls-cert.pem");
  const keyPath = join(stateDir, "tls-key.pem");
  try {
    return { certPem: await readFile(certPath, "utf8"), keyPem: await readFile(keyPath, "utf8") };
  } catch {
    // not made yet
  }
  const san = ["DNS:localhost", "IP:127.0.0.1", /^\d+\.\d+\.\d+\.\d+$/.test(host) && host !== "127.0.0.1" ? `IP:${host}` : /^[a-z0-9.-]+$/i.test(host) && host !== "localhost" ? `DNS:${host}` : ""]
    .filter(Boolean)
    .join(",");
  try {
    await run(
      "openssl",
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "3650", "-subj", "/CN=localhost/O=postacert-sandbox", "-addext", `subjectAltName=${san}`, "-keyout", keyPath, "-out", certPath],
      { timeout: 30_000 },
    );
    return { certPem: await readFile(certPath, "utf8"), keyPem: await readFile(keyPath, "utf8") };
  } catch (e) {
    return { error: `openssl could not make the TLS certificate (${(e as Error).message.split("\n")[0]}): STARTTLS is off` };
  }
}
