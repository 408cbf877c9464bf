// Types of the "#files" alias, resolved per Vitest project to files.node.ts or files.browser.ts.
declare module "#files" {
  /** Reads a file (path relative to the repository root). */
  export function readBytes(path: string): Promise<Uint8Array>;
  /** Lists files below a folder recursively (relative paths, sorted), or null if it is missing. */
  export function listFiles(path: string): Promise<string[] | null>;
  /** Which project runs the test. */
  export const runtime: "node" | "browser";
}
