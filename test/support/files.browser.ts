// Browser implementation of the test file access (alias "#files"): Vitest browser commands.
import { commands } from "vitest/browser";

declare module "vitest/browser" {
  interface BrowserCommands {
    readBytesBase64: (path: string) => Promise<string>;
    listFiles: (path: string) => Promise<string[] | null>;
  }
}

/** Reads a file (path relative to the repository root). */
export async function readBytes(path: string): Promise<Uint8Array> {
  const b64 = await commands.readBytesBase64(path);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Lists files below a folder recursively (relative paths, sorted), or null if it is missing. */
export async function listFiles(path: string): Promise<string[] | null> {
  return commands.listFiles(path);
}

export const runtime = "browser" as const;
