/**
 * Durable file writes: the spool and the Maildirs depend on "write to a temporary name,
 * fsync, rename" so that a crash leaves either the old state or the new one, never half
 * a file under the final name.
 *
 * @module
 */
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

let counter = 0;

/** Writes `data` to `path` atomically (temporary file in the same folder, fsync, rename). */
export async function writeFileAtomic(path: string, data: Uint8Array | string, options: { mode?: number; tmpDir?: string; sync?: boolean } = {}): Promise<void> {
  const tmp = join(options.tmpDir ?? dirname(path), `.${basename(path)}.${process.pid}.${++counter}.tmp`);
  const fh = await open(tmp, "w", options.mode ?? 0o644);
  try {
    await fh.writeFile(data);
    if (options.sync !== false) await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
}

/** fsyncs a folder, so that a rename inside it survives a power cut (not only a process crash). */
export async function syncDir(path: string): Promise<void> {
  let fh;
  try {
    fh = await open(path, "r");
    await fh.sync();
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
