/**
 * `postacert extract`: writes the parts of a PEC message to a folder.
 */
import { lstat } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { PecError } from "../errors.js";
import { isMbox } from "../mime/mbox.js";
import { readPec } from "../pec/read.js";
import type { ReadPec } from "../pec/types.js";
import { readMessageFile, storedMessage } from "../node/sources.js";
import { readAll } from "../util/chunks.js";
import { isJsSpace, printable, trimEndWhere } from "../util/text.js";
import { type Io, UsageError, makeDir, makeOwnDir, writeFresh } from "./io.js";

/** The longest file name most file systems take (ext4, XFS, APFS, NTFS in UTF-16 units): 255 bytes. */
const NAME_MAX = 255;
/** Bytes kept free for the " (2)" … " (99999999999)" that {@link writer} adds to a repeated name. */
const SUFFIX_ROOM = 16;
/** An extension longer than this (in UTF-8 bytes) is cut too. */
const EXT_MAX = 32;

const utf8 = new TextEncoder();

/** `text` cut to at most `max` UTF-8 bytes, at a code point boundary (a surrogate pair is never split). */
function cutUtf8(text: string, max: number): string {
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    const n = utf8.encode(ch).length;
    if (bytes + n > max) break;
    bytes += n;
    end += ch.length;
  }
  return text.slice(0, end);
}

const dotOrSpace = (c: number): boolean => c === 0x2e || isJsSpace(c);

/** Invisible characters that make one name look like another: soft hyphen, zero-width space, word joiner, BOM. */
const INVISIBLE = /[\u00ad\u180e\u200b\u2060\ufeff]/g;

/**
 * Windows device names, with or without an extension or spaces before it ("CON .txt"), the
 * console's own, and COM/LPT with the superscript digits Windows also reserves.
 */
const RESERVED = /^(con|prn|aux|nul|conin\$|conout\$|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3])\s*(\.|$)/i;

/**
 * A file name safe to create inside the output folder: no path separators or traversal,
 * no control characters or bidi controls (see {@link printable}: `evil\u202Efdp.exe`), no
 * invisible characters, no leading dots (hidden files), no Windows-reserved names, at most
 * 255 UTF-8 bytes less room for the numbering of repeated names (cut at a code point
 * boundary, the extension kept); an empty result becomes `fallback`.
 */
export function safeFileName(name: string | undefined, fallback: string): string {
  let n = printable((name ?? "").normalize("NFC"), "").replace(INVISIBLE, "").replace(/[\\/:*?"<>|]/g, "_");
  n = trimEndWhere(n.replace(/^[.\s]+/, ""), dotOrSpace);
  if (RESERVED.test(n)) n = "_" + n;
  const max = NAME_MAX - SUFFIX_ROOM;
  if (utf8.encode(n).length > max) {
    const ext = cutUtf8(extname(n), EXT_MAX);
    // The stem starts with neither a dot nor a space (above): trimming its cut end never empties it.
    n = trimEndWhere(cutUtf8(n.slice(0, n.length - extname(n).length), max - utf8.encode(ext).length), dotOrSpace) + ext;
  }
  return n || fallback;
}

/**
 * Where extractPec puts things. Without --force it runs twice: first to plan (paths only,
 * nothing decoded or written), so that an existing file is refused before anything is
 * written, then to write.
 */
interface Writer {
  written: string[];
  dir(path: string, own: boolean): Promise<void>;
  /** `bytes` is called only when the file is written: the plan decodes nothing. */
  put(dir: string, name: string, bytes: () => Uint8Array): Promise<void>;
}

function writer(force: boolean, plan: boolean): Writer {
  const used = new Set<string>();
  const w: Writer = {
    written: [],
    async dir(path, own) {
      if (!plan) await (own ? makeOwnDir(path) : makeDir(path));
    },
    async put(dir, name, bytes) {
      // Two attachments with one name in the same message: number the later ones. Names
      // that differ only in case count as one: on Windows and macOS they are one file.
      let candidate = join(dir, name);
      for (let i = 2; used.has(candidate.toLowerCase()); i++) {
        const ext = extname(name);
        candidate = join(dir, `${name.slice(0, name.length - ext.length)} (${i})${ext}`);
      }
      used.add(candidate.toLowerCase());
      const exists = `"${candidate}" exists (use --force to overwrite)`;
      if (plan) {
        if (await lstat(candidate).catch(() => undefined)) throw new UsageError(exists);
      } else await writeFresh(candidate, bytes(), force, exists);
      w.written.push(candidate);
    },
  };
  return w;
}

async function extractPec(pec: ReadPec, dir: string, w: Writer, depth: number): Promise<void> {
  await w.dir(dir, depth > 0);
  const { original, daticertEntity, signature } = pec;
  if (original) await w.put(dir, "postacert.eml", () => original.bytes);
  if (daticertEntity) await w.put(dir, "daticert.xml", () => daticertEntity.decodedBody());
  if (signature) await w.put(dir, signature.form === "opaque" ? "smime.p7m" : "smime.p7s", () => signature.cms);
  if (pec.original) {
    const attachments = pec.original.attachments;
    if (attachments.length) {
      const adir = join(dir, "attachments");
      await w.dir(adir, true);
      for (let i = 0; i < attachments.length; i++) {
        const a = attachments[i]!;
        await w.put(adir, safeFileName(a.filename, `attachment-${i + 1}`), () => a.content());
      }
    }
    if (pec.original.inner && depth < 8) await extractPec(pec.original.inner, join(dir, "inner"), w, depth + 1);
  }
}

/** `postacert extract <file> [--out dir] [--force]` */
export async function runExtract(file: string, opts: { out: string | undefined; force: boolean }, io: Io): Promise<number> {
  let bytes: Uint8Array;
  try {
    bytes = file === "-" ? await readAll(io.stdin(), "standard input") : await readMessageFile(file);
  } catch (err) {
    if (!(err instanceof PecError)) throw new UsageError(`cannot read "${file}"`);
    io.err(printable(`${file}: ${err.code}: ${err.message}`) + "\n");
    return 2;
  }
  let pec: ReadPec;
  try {
    // Stored gzip-compressed (a Maildir's Z flag, a .eml.gz), as inspect and scan read it.
    const message = storedMessage(bytes);
    // An mbox read as one message would lose every message after the first.
    if (isMbox(message)) throw new UsageError(`"${file}" is an mbox, which holds several messages; extract takes one (postacert inspect lists them)`);
    pec = readPec(message);
  } catch (err) {
    if (!(err instanceof PecError)) throw err;
    io.err(printable(`${file}: ${err.code}: ${err.message}`) + "\n");
    return 2;
  }
  if (pec.type === "not-pec") {
    io.err(`${file}: not a PEC message\n`);
    return 1;
  }
  const out = opts.out ?? basename(file, extname(file)) + ".parts";
  // A forwarded PEC: the outer mail is not written, the PEC inside it is. Without --force,
  // a plan first, so that an existing file is refused before anything is written.
  if (!opts.force) await extractPec(pec, out, writer(false, true), 0);
  const w = writer(opts.force, false);
  await extractPec(pec, out, w, 0);
  for (const f of w.written) io.out(printable(f) + "\n");
  return 0;
}
