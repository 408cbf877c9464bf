// Access to the real samples in ../shared/wild (never copied into the project).
import { listFiles, readBytes } from "#files";

/** Folder of the real samples, relative to the repository root. */
export const WILD = "../shared/wild";

/** The sample files (relative to WILD), or null when the folder is absent (suites then skip). */
export const wildFiles: string[] | null = (await listFiles(WILD))?.filter((f) => f !== "SOURCES.md") ?? null;

/** Reads one sample. */
export function readWild(name: string): Promise<Uint8Array> {
  return readBytes(`${WILD}/${name}`);
}
