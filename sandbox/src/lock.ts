/**
 * One sandbox per state folder: `<state>/sandbox.lock` holds the owner's pid. A second
 * sandbox on the same folder would stop the first one's Dovecot and resume the same spool.
 *
 * @module
 */
import { open, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";

/** A held lock. */
export interface StateLock {
  /** Gives the folder up (idempotent). */
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, under another user.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes the state folder, or throws when a live process holds it (this one included: two
 * sandboxes of one process on one folder). A lock left by a killed sandbox is taken over.
 *
 * @throws Error naming the process that holds the folder
 */
export async function lockStateDir(dir: string): Promise<StateLock> {
  const path = join(dir, "sandbox.lock");
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, "wx", 0o600);
      try {
        await fh.writeFile(`${process.pid}\n`);
      } finally {
        await fh.close();
      }
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          await unlink(path).catch(() => undefined);
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const text = await readFile(path, "utf8").catch(() => "");
      const pid = Number.parseInt(text, 10);
      if (Number.isSafeInteger(pid) && pid > 0 && alive(pid)) {
        throw new Error(`the state folder ${dir} is in use by another sandbox (process ${pid}): stop it, or choose another folder`);
      }
      // Taken over only if it still holds the dead pid: another sandbox starting at the same
      // moment may have replaced it already. (A window remains between this read and the unlink.)
      if ((await readFile(path, "utf8").catch(() => "")) === text) await unlink(path).catch(() => undefined);
    }
  }
  throw new Error(`cannot lock the state folder ${dir}`);
}
