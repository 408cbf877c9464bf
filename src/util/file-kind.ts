/**
 * What a file's name says of it, in a folder or a ZIP archive: shared by the Node sources
 * and the browser inspector. Not part of the public API.
 *
 * @module
 * @internal
 */
import { PecError } from "../errors.js";

/**
 * Extensions that are never messages (certificates, trust lists, documents, archives). A `.p7m`
 * is a CMS structure, never an RFC 5322 message, even when it wraps one.
 */
const SKIP_EXTENSIONS = new Set([
  ".pem", ".crt", ".cer", ".der", ".p7s", ".p7m", ".p7b", ".p7c", ".key", ".ldif", ".crl",
  ".pdf", ".xml", ".json", ".md", ".html", ".htm", ".csv",
  ".png", ".jpg", ".jpeg", ".gif", ".svg", ".js", ".ts", ".map",
]);

/** Archives a folder walk leaves out, but names (their messages would otherwise be lost without a word). */
const ARCHIVE_EXTENSIONS = new Set([".7z", ".rar", ".tbz2", ".txz", ".gz", ".bz2", ".xz", ".zst"]);

/** The extension of a name (`/` separated, as in a ZIP archive, or a file path), lower case, with its dot; "" without one. */
function extname(name: string): string {
  const base = name.slice(Math.max(name.lastIndexOf("/"), name.lastIndexOf("\\")) + 1);
  const dot = base.lastIndexOf(".");
  return dot <= 0 ? "" : base.slice(dot).toLowerCase();
}

/**
 * What a file's name says it is, in a folder or a ZIP archive: a message (`.eml`, also
 * gzip-compressed), a ZIP archive, a tar archive (also gzip-compressed: `.tar.gz`, `.tgz`),
 * another archive, a file that is never a message, or anything else, which its first bytes
 * tell (`sniff`).
 *
 * @internal
 */
export function fileKind(name: string): "eml" | "sniff" | "zip" | "tar" | "archive" | "skip" {
  let ext = extname(name);
  if (ext === ".gz") {
    // Other compressed archives are not read, but a message, an mbox or a tar stored gzip-compressed is.
    const inner = extname(name.slice(0, -3));
    if (inner === ".eml" || inner === ".mbox" || inner === ".tar") ext = inner;
  }
  if (ext === ".zip") return "zip";
  if (ext === ".tar" || ext === ".tgz") return "tar";
  if (ARCHIVE_EXTENSIONS.has(ext)) return "archive";
  if (SKIP_EXTENSIONS.has(ext)) return "skip";
  return ext === ".eml" ? "eml" : "sniff";
}

/**
 * What to do with an entry of a ZIP archive, in Node and in the browser alike: read it as a
 * message, read it if it starts as one, name it as an archive inside the archive (which is
 * not read), or skip it: hidden entries (a segment starting with `.`) and the AppleDouble
 * files macOS adds (`__MACOSX/._x.eml`) are no messages.
 *
 * @internal
 */
export function zipEntryKind(name: string): "eml" | "sniff" | "archive" | "skip" {
  if (name.split("/").some((segment) => segment.startsWith(".") || segment === "__MACOSX")) return "skip";
  const kind = fileKind(name);
  return kind === "zip" || kind === "tar" ? "archive" : kind;
}

/** The error for an archive inside an archive, which is not read. */
export function nestedArchive(id: string): PecError {
  return new PecError("ERR_UNSUPPORTED", `${id} is an archive inside the archive; extract it first`);
}
