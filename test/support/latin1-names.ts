// File names that are not UTF-8: Latin-1 names, as old Windows zips unpack them on Linux.
// Node only.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";

/** `dir/rel` as the bytes a file system holds: `dir` in UTF-8, `rel` in Latin-1. */
function rawPath(dir: string, rel: string): Buffer {
  return Buffer.concat([Buffer.from(dir + sep), Buffer.from(rel, "latin1")]);
}

/**
 * Why this machine cannot hold such names (some file systems refuse them, macOS's rewrite
 * them), or undefined when it can: the tests that need them are skipped with this reason.
 */
export const latin1NamesUnsupported: string | undefined = (() => {
  const dir = mkdtempSync(join(tmpdir(), "postacert-names-"));
  const name = Buffer.from("Forl\xec.eml", "latin1");
  try {
    writeFileSync(rawPath(dir, "Forl\xec.eml"), "x");
    return readdirSync(dir, { encoding: "buffer" }).some((n) => n.equals(name)) ? undefined : "the file system rewrites names that are not UTF-8";
  } catch (err) {
    return `the file system refuses names that are not UTF-8 (${(err as NodeJS.ErrnoException).code})`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
})();

/** The test title, with why it is skipped when it is. */
export function latin1Title(title: string): string {
  return latin1NamesUnsupported ? `${title} (skipped: ${latin1NamesUnsupported})` : title;
}

/** Writes `data` at `dir/rel`, `rel` in Latin-1 (its folders too), creating its folders. */
export function writeLatin1(dir: string, rel: string, data: Uint8Array | string): void {
  const at = rel.lastIndexOf("/");
  mkdirSync(at > 0 ? rawPath(dir, rel.slice(0, at)) : dir, { recursive: true });
  writeFileSync(rawPath(dir, rel), data);
}

/** The id postacert gives `dir/rel`: each byte of `rel` past ASCII (none is UTF-8 there) as the lone surrogate U+DC00 + byte. */
export function latin1Id(dir: string, rel: string): string {
  return join(dir, rel.replace(/[\x80-\xff]/g, (c) => String.fromCharCode(0xdc00 + c.charCodeAt(0))));
}
