#!/usr/bin/env node
/**
 * The `postacert` command line (the only code besides `src/node/` that imports `node:*`).
 * Contract: ../shared/design.md "CLI contract". Exit status: 0 all files PEC and verified,
 * 1 some file failed verification or is not PEC, 2 usage error or unreadable input.
 *
 * @module
 */
// Each command's module is imported when that command runs: all of them took ≈ 160 ms to load
// (the simulator alone, with pkijs, ≈ 110 ms), which every run paid, `--version` included.
import { parseArgs } from "node:util";
import { UsageError, type Io, nodeIo } from "./io.js";
import { daysInMonth } from "../daticert/date.js";

const HELP: Record<string, string> = {
  main: `postacert: read, verify, extract and simulate Italian PEC messages

Usage:
  postacert inspect <file|dir|->... [--json]
  postacert verify  <file|dir|->... [--trust <pem|der|ldif>]... [--crl <file>]... [--at <ISO time>] [--json]
  postacert extract <file> [--out <dir>] [--force]
  postacert scan    <dir|mbox|Maildir|imap://…|->... [--trust <file>]... [--json|--csv]
                    [--report <file.html>] [--state <file>] [--jobs N] [--shard i/n] [--at <time>]
  postacert simulate [--scenario <name>|all] [--out <dir>]
  postacert demo [--out <dir>]

Run "postacert <command> --help" for a command's options and examples.
Exit status: 0 every file is PEC (and verified), 1 some file is not PEC or failed
verification, 2 usage error or unreadable input.`,
  inspect: `postacert inspect <file|dir|->... [--json]

Reads each PEC message and prints its type, daticert data, original message and
consistency issues. No cryptography. A folder gives the messages scan reads in it: a
Maildir's cur/ and new/; elsewhere, recursively, .eml files and the other files whose
first line is a header field (not .pem/.ldif/.p7s/.xml/.json…). Files named on the
command line are always read: an mbox as each of its messages (file#offset), a ZIP
or tar archive (.tar.gz, .tgz too) as its files (file#entry), a gzip-compressed file
decompressed; "-" is standard input (a message, or an mbox of any size: -#offset).

Options:
  --json     one JSON object per file, one per line
  -h, --help this help

Examples:
  postacert inspect ricevuta.eml
  postacert inspect --json archive/ > report.jsonl
  cat msg.eml | postacert inspect -`,
  verify: `postacert verify <file|dir|->... [--trust <file>]... [--crl <file>]... [--at <time>] [--json]

Verifies the gestore signature of each message: the signature over the exact bytes,
the certificate path at signing time, the gestore certificate profile, revocation.
Reads its inputs as inspect does (folders, Maildirs, mbox files, ZIP and tar archives, gzip, "-").

Options:
  --trust <file>  trust anchors: PEM bundle, DER certificate or IGPEC LDIF (repeatable).
                  Without --trust, Node's bundled roots are used and the signer must
                  carry the PEC gestore policy (OID 1.3.76.16.3.1.1).
  --crl <file>    a CRL (PEM or DER) to check revocation against (repeatable)
  --at <time>     validate at this ISO 8601 time instead of the signing time
  --json          one JSON object per file, one per line
  -h, --help      this help

Examples:
  postacert verify ricevuta.eml
  postacert verify --trust ca.pem --json out/all-ok/
  postacert verify --trust igpec.ldif --at 2024-03-01T10:00:00Z busta.eml`,
  extract: `postacert extract <file> [--out <dir>] [--force]

Writes the parts of a PEC message to a folder: postacert.eml, daticert.xml, smime.p7s,
the original's attachments (safe names), and the inner PECs of forwarded messages.

Options:
  --out <dir>  destination folder (default: the file name without extension, plus ".parts")
  --force      overwrite existing files
  -h, --help   this help

Examples:
  postacert extract busta.eml --out busta/`,
  scan: `postacert scan <source>... [--trust <file>]... [--json|--csv] [--report <file.html>]
               [--state <file>] [--jobs N] [--shard i/n] [--at <time>] [--mailbox <name>]...

Reads whole archives - folders of .eml files (recursively), mbox files, Maildirs, IMAP
mailboxes - verifies every message on every core, groups the messages into transactions
(one sending with its receipts) and tells, per recipient, what happened.

Sources:
  <dir>              a folder (recursively; its mbox, .zip and .tar(.gz) files too) or a Maildir (a
                     folder with cur/ and new/; its Maildir++ folders, .Sent and the
                     like, are sources of their own)
  <file>             an mbox file (first line "From ..."), a ZIP or tar archive, or a
                     single message; an mbox, a tar or a message may be gzip-compressed
  imap://user@host[:port]/   imaps://user@host[:port]/
                     an IMAP account; the password comes from POSTACERT_IMAP_PASSWORD,
                     else it is asked on the terminal (never echoed, never printed)
  -                  standard input: an mbox of any size (-#offset), gzip-compressed
                     or not, or a single message (-)

Options:
  --trust <file>     trust anchors: PEM, DER or IGPEC LDIF (repeatable); default Node's
                     roots with the PEC gestore policy required, as for verify
  --json             one JSON object per message on stdout, one per line
  --csv              the same as CSV with a header row
                     (with --json or --csv the summary goes to stderr, else to stdout)
  --report <file>    write a self-contained HTML report (Italian and English)
  --state <file>     resumable: remember each checked message in this JSON Lines file;
                     a re-run skips what it holds (same content hash, or IMAP UID)
  --jobs <n>         worker threads (default: every core, or in-process when a
                     count finds too few messages to repay starting workers,
                     under 16,000 on 2 cores; 1 runs in-process)
  --shard <i/n>      check only share i of n (by a hash of each message id): n runs
                     with the same sources cover every message exactly once
  --at <time>        the clock for overdue transactions (default now); signatures are
                     always validated at their signing time
  --mailbox <name>   IMAP mailbox to read (repeatable; default all)
  --insecure         accept an IMAP server certificate that does not verify, and an
                     imap:// server without STARTTLS (the password then goes in clear)
  --batch <n>        messages per worker task (default up to 64)
  -h, --help         this help

The summary at the end: messages (PEC, verified, failed verification, not PEC,
unreadable, duplicates, from state) and transactions (delivered, failed, in progress,
overdue). A progress line goes to stderr when it is a terminal.

Examples:
  postacert scan --trust igpec.ldif --report rapporto.html archivio/
  postacert scan --json --state scan.jsonl ~/Maildir > messages.jsonl
  POSTACERT_IMAP_PASSWORD=… postacert scan --csv imaps://mario@imap.example.it/ > pec.csv
  postacert scan --shard 2/4 --json --state shard2.jsonl archive.mbox
  ssh archivio cat /var/mail/pec | postacert scan --report rapporto.html -`,
  simulate: `postacert simulate [--scenario <name>|all] [--out <dir>]

Plays whole PEC flows between two test gestori and writes every message as
<dir>/<scenario>/<nn>-<type>.eml, plus ca.pem and gestori.ldif in <dir>.

Options:
  --scenario <name>  a scenario name, or "all" (default: all)
  --out <dir>        destination folder (default: out)
  --list             list the scenarios
  -h, --help         this help

Examples:
  postacert simulate --scenario all --out out/
  postacert verify --trust out/ca.pem out/`,
  demo: `postacert demo [--out <dir>]

Creates two test gestori, sends a message with an attachment to two recipients,
prints each message of the flow with its type and verification result, and writes
them to <dir>/demo/ (default: out/demo/) as .eml files, with that run's ca.pem and
gestori.ldif beside them.

Examples:
  postacert demo
  postacert verify --trust out/demo/ca.pem out/demo/`,
};

/** Runs the CLI with the given arguments; resolves to the exit status. */
export async function main(argv: string[], io: Io = nodeIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    // Without a command the help is the error message: stderr, status 2.
    if (command === undefined) {
      io.err(HELP.main + "\n");
      return 2;
    }
    if (command === "-h" || command === "--help" || command === "help") {
      // `postacert help verify` is `postacert verify --help`.
      const topic = command === "help" ? rest[0] : undefined;
      const text = topic !== undefined && topic !== "main" ? HELP[topic] : HELP.main;
      if (text === undefined) throw new UsageError(`unknown command "${topic}"`);
      io.out(text + "\n");
      return 0;
    }
    if (command === "--version" || command === "-v") {
      io.out("postacert " + (await version()) + "\n");
      return 0;
    }
    const help = HELP[command];
    if (!help || command === "main") throw new UsageError(`unknown command "${command}"`);
    // After "--" every argument is a file, even one named --help.
    const options = rest.includes("--") ? rest.slice(0, rest.indexOf("--")) : rest;
    if (options.includes("-h") || options.includes("--help")) {
      io.out(help + "\n");
      return 0;
    }
    switch (command) {
      case "inspect": {
        const a = parse(rest, { json: { type: "boolean" } });
        const { runInspect } = await import("./inspect.js");
        return await runInspect(a.positionals, { json: a.values.json === true }, io);
      }
      case "verify": {
        const a = parse(rest, {
          json: { type: "boolean" },
          trust: { type: "string", multiple: true },
          crl: { type: "string", multiple: true },
          at: { type: "string" },
        });
        const at = a.values.at === undefined ? undefined : parseTime(a.values.at as string);
        const { runVerify } = await import("./inspect.js");
        return await runVerify(
          a.positionals,
          {
            json: a.values.json === true,
            trust: (a.values.trust as string[] | undefined) ?? [],
            crl: (a.values.crl as string[] | undefined) ?? [],
            ...(at && { at }),
          },
          io,
        );
      }
      case "extract": {
        const a = parse(rest, { out: { type: "string" }, force: { type: "boolean" } });
        if (a.positionals.length !== 1) throw new UsageError("extract takes exactly one file");
        const { runExtract } = await import("./extract.js");
        return await runExtract(a.positionals[0]!, { out: a.values.out as string | undefined, force: a.values.force === true }, io);
      }
      case "scan": {
        const a = parse(rest, {
          json: { type: "boolean" },
          csv: { type: "boolean" },
          trust: { type: "string", multiple: true },
          report: { type: "string" },
          state: { type: "string" },
          jobs: { type: "string" },
          batch: { type: "string" },
          shard: { type: "string" },
          at: { type: "string" },
          mailbox: { type: "string", multiple: true },
          insecure: { type: "boolean" },
        });
        const at = a.values.at === undefined ? undefined : parseTime(a.values.at as string);
        const { runScan } = await import("./scan.js");
        const jobs = a.values.jobs === undefined ? undefined : positiveInt(a.values.jobs as string, "--jobs");
        const batch = a.values.batch === undefined ? undefined : positiveInt(a.values.batch as string, "--batch");
        const shard = a.values.shard === undefined ? undefined : parseShard(a.values.shard as string);
        return await runScan(
          {
            sources: a.positionals,
            trust: (a.values.trust as string[] | undefined) ?? [],
            json: a.values.json === true,
            csv: a.values.csv === true,
            ...(jobs !== undefined && { jobs }),
            mailboxes: (a.values.mailbox as string[] | undefined) ?? [],
            insecure: a.values.insecure === true,
            ...(a.values.report !== undefined && { report: a.values.report as string }),
            ...(a.values.state !== undefined && { state: a.values.state as string }),
            ...(batch !== undefined && { batch }),
            ...(shard && { shard }),
            ...(at && { at }),
          },
          io,
        );
      }
      case "simulate": {
        const a = parse(rest, { scenario: { type: "string" }, out: { type: "string" }, list: { type: "boolean" } });
        if (a.positionals.length) throw new UsageError("simulate takes no file arguments");
        const { runSimulate } = await import("./simulate.js");
        return await runSimulate(
          { scenario: (a.values.scenario as string | undefined) ?? "all", out: (a.values.out as string | undefined) ?? "out", list: a.values.list === true },
          io,
        );
      }
      case "demo": {
        const a = parse(rest, { out: { type: "string" } });
        const { runDemo } = await import("./simulate.js");
        return await runDemo({ out: (a.values.out as string | undefined) ?? "out" }, io);
      }
    }
    throw new UsageError(`unknown command "${command}"`);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`postacert: ${err.message}\nRun "postacert --help" for usage.\n`);
      return 2;
    }
    throw err;
  }
}

type OptionSpec = Record<string, { type: "boolean" | "string"; multiple?: boolean }>;

function parse(args: string[], options: OptionSpec): { values: Record<string, unknown>; positionals: string[] } {
  let r: ReturnType<typeof parseArgs<{ args: string[]; options: OptionSpec; allowPositionals: true; strict: true; tokens: true }>>;
  try {
    r = parseArgs({ args, options, allowPositionals: true, strict: true, tokens: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  // parseArgs keeps the last of a repeated single-value option: `--out a --out b` would
  // write to b without a word about a.
  const seen = new Map<string, string>();
  for (const t of r.tokens) {
    if (t.kind !== "option" || options[t.name]?.type !== "string" || options[t.name]?.multiple || t.value === undefined) continue;
    const before = seen.get(t.name);
    if (before !== undefined && before !== t.value) throw new UsageError(`--${t.name} given twice ("${before}" and "${t.value}"): give it once`);
    seen.set(t.name, t.value);
  }
  return { values: r.values as Record<string, unknown>, positionals: r.positionals };
}

/** `2026-03-01`, `2026-03-01T10:00`, `…T10:00:00.5Z`, `…T10:00:00+01:00`: what --at documents. */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * An --at time, ISO 8601 only. `new Date` alone takes "1" for 2001 and rolls 2026-02-30 over to
 * 2 March: a clock that silently differs from the one asked for would move every verdict.
 */
function parseTime(text: string): Date {
  const t = text.trim();
  const m = ISO_TIME.exec(t);
  const [year, month, day, hour = 0, minute = 0, second = 0] = (m ?? []).slice(1).map((v) => (v === undefined ? undefined : Number(v)));
  const exists = m !== null && month! >= 1 && month! <= 12 && day! >= 1 && day! <= daysInMonth(year!, month!) && hour <= 23 && minute <= 59 && second <= 59;
  const d = exists ? new Date(t.replace(" ", "T")) : undefined;
  if (d === undefined || Number.isNaN(d.getTime())) throw new UsageError(`--at: "${text}" is not an ISO 8601 time (e.g. 2026-03-01T10:00:00Z)`);
  return d;
}

function positiveInt(text: string, name: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1 || n > 1024) throw new UsageError(`${name}: "${text}" is not a whole number from 1 to 1024`);
  return n;
}

function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count || count > 1_000_000) throw new UsageError(`--shard: "${text}" is not i/n with 1 ≤ i ≤ n`);
  return { index, count };
}

async function version(): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

const isMain = process.argv[1] !== undefined && import.meta.url === (await import("node:url")).pathToFileURL(await (await import("node:fs/promises")).realpath(process.argv[1])).href;
if (isMain) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`postacert: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
