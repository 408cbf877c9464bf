/**
 * Input and output of the CLI, behind an interface so tests can run commands in-process.
 */
import { lstat, mkdir, stat, unlink, writeFile } from "node:fs/promises";
import { relative } from "node:path";
import { type EntryOrError, archiveEntries, chunkedMessages, folderFiles, heldMessages, holdsMessages, maildirFiles, mboxEntries, readMessageFile, sourceKind, storedMessage, streamMessages } from "../node/sources.js";
import { printable } from "../util/text.js";

/** Thrown for bad command lines and unreadable inputs (exit status 2). */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Where the CLI writes and what it knows of its terminal. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** True when stdout is a terminal and NO_COLOR is unset: colors allowed. */
  color: boolean;
  /** True when stderr is a terminal: progress lines allowed. */
  progress: boolean;
  /**
   * Standard input, chunk by chunk as it comes: an mbox piped in is read message by message,
   * never held whole. Chunks are kept by reference (do not reuse their buffers).
   */
  stdin(): AsyncIterable<Uint8Array>;
  /**
   * Asks for a secret (a password) on the terminal without echoing it; resolves to undefined
   * when there is no terminal to ask on. Optional: test doubles leave it out.
   */
  promptSecret?(question: string): Promise<string | undefined>;
}

/**
 * Exit status when stdout's reader goes away (EPIPE: `postacert verify … | head -1`): 141,
 * 128 + SIGPIPE, the status the shell reports for `cat`, `grep` and the other tools that
 * SIGPIPE ends (Node ignores the signal, so it is given by hand). Never 0: the reader did not
 * get every verdict, maybe none, and `set -o pipefail` must not take that for success.
 */
export const EXIT_EPIPE = 141;

/**
 * What to do when writing to stdout fails: on EPIPE stop quietly with {@link EXIT_EPIPE}, as
 * Unix tools do; on any other error (ENOSPC with `> /dev/full`, EIO…) say so on stderr in one
 * line and exit 2. `exit` does not return in the CLI; the handler acts once in any case.
 */
export function onStdoutError(stdout: NodeJS.EventEmitter, writeErr: (text: string) => void, exit: (code: number) => void): void {
  let done = false;
  stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (done) return;
    done = true;
    if (err.code === "EPIPE") return exit(EXIT_EPIPE);
    writeErr(`postacert: cannot write to stdout: ${err.message}\n`);
    exit(2);
  });
}

/** The process's standard streams. */
export function nodeIo(): Io {
  onStdoutError(process.stdout, (t) => void process.stderr.write(t), (code) => process.exit(code));
  const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "";
  return {
    // Nothing more is written once stdout has failed (the process is exiting).
    out: (t) => void (process.stdout.writable && process.stdout.write(t)),
    err: (t) => void process.stderr.write(t),
    color: process.stdout.isTTY === true && !noColor,
    progress: process.stderr.isTTY === true,
    stdin: () => process.stdin as AsyncIterable<Buffer>,
    promptSecret,
  };
}

/** Reads one line from the TTY in raw mode (no echo); the question goes to stderr. */
function promptSecret(question: string): Promise<string | undefined> {
  const stdin = process.stdin;
  if (!stdin.isTTY || !process.stderr.isTTY) return Promise.resolve(undefined);
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let text = "";
    const done = (value: string | undefined, err?: Error): void => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return done(text);
        if (ch === "\u0003") return done(undefined, new UsageError("interrupted"));
        if (ch === "\u0004") return done(text === "" ? undefined : text);
        if (ch === "\u007f" || ch === "\b") text = [...text].slice(0, -1).join("");
        else if (ch >= " ") text += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", onData);
  });
}

/**
 * One input of a batch: a file read as one message, or a source of several (an mbox, a ZIP
 * archive, standard input).
 */
export type Input =
  | {
      name: string;
      /** Its bytes; undefined for a {@link Input.sniff} file whose first bytes show no message. */
      read(): Promise<Uint8Array | undefined>;
      /**
       * Found in a folder without the `.eml` extension: a message only when its first line is a
       * header field ({@link looksLikeMessage}), else skipped, as scan does.
       */
      sniff?: boolean;
    }
  | {
      name: string;
      /**
       * Its messages, streamed, named `path#offset` or `path#entry` as scan names them (read
       * as one message, all but the first would be lost), or why one was left out.
       */
      messages(): AsyncIterable<EntryOrError>;
    };

/**
 * Expands files and folders into inputs; "-" is standard input. A folder gives the messages
 * scan reads in it, through the same walks: a Maildir (a folder with cur/ or new/) its cur/
 * and new/ files, any other folder its files recursively and sorted, without hidden ones and
 * the extensions that are never messages, those not named .eml marked {@link Input.sniff}.
 * A file named on the command line is always read: an mbox or a ZIP archive as its messages.
 */
export async function gatherInputs(args: string[], io: Io): Promise<Input[]> {
  if (args.length === 0) throw new UsageError("no input files");
  const out: Input[] = [];
  for (const arg of args) {
    if (arg === "-") {
      out.push({ name: "-", messages: () => stdinMessages(io) });
      continue;
    }
    let st;
    try {
      st = await stat(arg);
    } catch (err) {
      // Reported with the others as an input that cannot be read (status 2), not the end of the batch.
      out.push(unreadable(arg, err));
      continue;
    }
    if (!st.isDirectory()) {
      const kind = await sourceKind(arg).catch(() => undefined);
      // A pipe or a device (<(zcat x.mbox.gz), /dev/stdin) is read as standard input is.
      out.push(kind === "mbox" ? mboxInput(arg) : kind === "zip" || kind === "tar" ? archiveInput(arg, kind) : kind === "stream" ? { name: arg, messages: () => streamMessages(arg) } : fileInput(arg));
    } else if ((await sourceKind(arg)) === "maildir") {
      // A Maildir whose cur/ or new/ cannot be listed becomes an input that cannot be read.
      try {
        for await (const path of maildirFiles(arg)) out.push(fileInput(path));
      } catch (err) {
        out.push(unreadable(arg, err));
      }
    } else {
      // A folder under it that cannot be read becomes an input that cannot be read: reported
      // with the others, instead of ending the command.
      const archives: string[] = [];
      for await (const f of folderFiles(arg, (path, err) => out.push(unreadable(path, err)), (path) => archives.push(path))) {
        if (await holdsMessages(f)) out.push({ name: f.path, messages: () => heldMessages(f) });
        else out.push(f.sniff ? { ...fileInput(f.path, true), sniff: true } : fileInput(f.path));
      }
      if (archives.length > 0) io.err(`postacert: ${printable(archivesNote(arg, archives, "read"))}\n`);
    }
  }
  return out;
}

/** The messages on standard input (see `chunkedMessages`): one, or each of an mbox (`-#offset`), of any size. */
function stdinMessages(io: Io): AsyncGenerator<EntryOrError> {
  return chunkedMessages(io.stdin(), "-", { what: "standard input" });
}

/**
 * The note that names the archives (`.7z`, `.rar`, `.tar.bz2`…) a folder holds and a command leaves out:
 * their messages would be missing from its summary without a word.
 */
export function archivesNote(folder: string, archives: readonly string[], verb: "scanned" | "read"): string {
  const names = archives.slice(0, 3).map((p) => relative(folder, p));
  const more = archives.length > 3 ? `, and ${archives.length - 3} more` : "";
  const count = archives.length === 1 ? "1 archive" : `${archives.length} archives`;
  return `${folder}: not ${verb}: ${count} (${names.join(", ")}${more}): extract them first (ZIP and tar archives, .tar.gz too, messages stored as .eml.gz and mbox files as .mbox.gz are read)`;
}

/** An mbox: its messages, as they are read. */
function mboxInput(path: string): Input {
  return { name: path, messages: () => mboxEntries(path) };
}

/** A ZIP or tar archive: its messages, as they are read. */
function archiveInput(path: string, kind: "zip" | "tar"): Input {
  return { name: path, messages: () => archiveEntries(path, kind) };
}

/** An input whose reading fails with `err`: reported with the others. */
function unreadable(name: string, err: unknown): Input {
  return { name, read: () => Promise.reject(err as Error) };
}

/**
 * Creates a folder and its parents; a path that cannot be one (a file, a read-only parent) is
 * a usage error naming it.
 *
 * @throws UsageError
 */
export async function makeDir(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
  } catch (err) {
    throw new UsageError(`cannot create the folder "${path}": ${(err as Error).message}`);
  }
}

/**
 * {@link makeDir} for a folder the command names itself inside the output folder (an extract's
 * `attachments/`): one that is a symbolic link already would send the writes wherever it points.
 *
 * @throws UsageError when it cannot be made, or is a symbolic link
 */
export async function makeOwnDir(path: string): Promise<void> {
  await makeDir(path);
  if ((await lstat(path)).isSymbolicLink()) throw new UsageError(`"${path}" is a symbolic link: not writing through it`);
}

/**
 * Writes a new file, never through a symbolic link: created exclusively, so a link already at
 * `path` (to a file outside the output folder) is not followed. With `replace`, what is at
 * `path` (a file, or a link, itself) is removed first; a folder is not.
 *
 * @throws UsageError when the file exists and `replace` is not set (`exists`), or cannot be written
 */
export async function writeFresh(path: string, data: Uint8Array | string, replace: boolean, exists = `"${path}" exists`): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(path, data, { flag: "wx" });
      return;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== "EEXIST" || attempt > 0) throw new UsageError(`cannot write "${path}": ${e.message}`);
      if (!replace) throw new UsageError(exists);
      try {
        if ((await lstat(path)).isDirectory()) throw new UsageError(`cannot write "${path}": it is a folder`);
        await unlink(path);
      } catch (inner) {
        if (inner instanceof UsageError) throw inner;
        throw new UsageError(`cannot write "${path}": ${(inner as Error).message}`);
      }
    }
  }
}

function fileInput(path: string, sniff = false): Input {
  return {
    name: path,
    // Stored gzip-compressed (a Maildir's Z flag, a .eml.gz), as scan reads it.
    read: async () => {
      const stored = await readMessageFile(path, sniff);
      return stored && storedMessage(stored);
    },
  };
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, dim: 2, bold: 1 } as const;

const LINE_BREAKS_JSON_KEEPS = /[\u0085\u2028\u2029]/g;

/**
 * One line of JSON Lines output. JSON.stringify escapes the C0 controls but leaves NEL, LINE
 * SEPARATOR and PARAGRAPH SEPARATOR raw, and readers such as Python's `str.splitlines()` cut a
 * record there; a subject may hold them, so they are escaped too (still the same JSON value).
 */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(LINE_BREAKS_JSON_KEEPS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`) + "\n";
}

/** Wraps text in an ANSI color when colors are on. */
export function paint(io: Io, color: keyof typeof CODES, text: string): string {
  return io.color ? `\x1b[${CODES[color]}m${text}\x1b[0m` : text;
}

