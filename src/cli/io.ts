/**
 * Input and output of the CLI, behind an interface so tests can run commands in-process.
 */
import { mkdir, readFile, stat } from "node:fs/promises";
import { folderFiles } from "../node/sources.js";

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
  readStdin(): Promise<Uint8Array>;
  /**
   * Asks for a secret (a password) on the terminal without echoing it; resolves to undefined
   * when there is no terminal to ask on. Optional: test doubles leave it out.
   */
  promptSecret?(question: string): Promise<string | undefined>;
}

/** The process's standard streams. */
export function nodeIo(): Io {
  // `postacert … | head` closes the pipe early: stop quietly, as Unix tools do.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
  const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "";
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    color: process.stdout.isTTY === true && !noColor,
    progress: process.stderr.isTTY === true,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      const b = Buffer.concat(chunks);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    },
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

/** One input of a batch: a file path or "-" for stdin. */
export interface Input {
  name: string;
  read(): Promise<Uint8Array>;
}

/** Expands files and folders (recursively, sorted) into inputs; "-" is standard input. */
export async function gatherInputs(args: string[], io: Io): Promise<Input[]> {
  if (args.length === 0) throw new UsageError("no input files");
  const out: Input[] = [];
  for (const arg of args) {
    if (arg === "-") {
      out.push({ name: "-", read: () => io.readStdin() });
      continue;
    }
    let st;
    try {
      st = await stat(arg);
    } catch {
      throw new UsageError(`cannot read "${arg}"`);
    }
    if (st.isDirectory()) {
      // A folder under it that cannot be read becomes an input that cannot be read: reported
      // with the others, instead of ending the command.
      for await (const f of folderFiles(arg, (path, err) => out.push({ name: path, read: () => Promise.reject(err) }))) out.push(fileInput(f.path));
    } else out.push(fileInput(arg));
  }
  return out;
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

function fileInput(path: string): Input {
  return {
    name: path,
    read: async () => {
      const b = await readFile(path);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    },
  };
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, dim: 2, bold: 1 } as const;

/** Wraps text in an ANSI color when colors are on. */
export function paint(io: Io, color: keyof typeof CODES, text: string): string {
  return io.color ? `\x1b[${CODES[color]}m${text}\x1b[0m` : text;
}
