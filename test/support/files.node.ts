// Node implementation of the test file access used by every suite (alias "#files").
import { readFile, readdir, stat } from "node:fs/promises";
import { resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");

/** Reads a file (path relative to the repository root). */
export async function readBytes(path: string): Promise<Uint8Array> {
  const b = await readFile(resolve(root, path));
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Lists files below a folder recursively (relative paths, sorted), or null if it is missing. */
export async function listFiles(path: string): Promise<string[] | null> {
  const dir = resolve(root, path);
  try {
    if (!(await stat(dir)).isDirectory()) return null;
  } catch {
    return null;
  }
  const out: string[] = [];
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(resolve(d, e.name), rel + e.name + "/");
      else out.push(rel + e.name);
    }
  };
  await walk(dir, "");
  return out.sort();
}

export const runtime = "node" as const;
