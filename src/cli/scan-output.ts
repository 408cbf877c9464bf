/**
 * What `postacert scan` prints per message: a JSON line (`--json`) or a CSV row (`--csv`), both
 * derived from a {@link ScanRecord} only, so a message taken from the state file prints exactly
 * as when it was checked.
 *
 * @module
 */
import { printable } from "../util/text.js";
import type { ScanIssue, ScanRecord, ScanSignature, ScanStatus } from "./scan-process.js";

/** One line of `scan --json`. */
export interface ScanJson {
  /** Message id in its source: file path, `mbox#offset`, IMAP URL with UID. */
  id: string;
  /** The source as given on the command line. */
  source: string;
  /** `ok` (PEC, valid and trusted), `failed`, `not-pec`, `unreadable`. */
  status: ScanStatus;
  /** PEC type, `null` when unreadable. */
  type: string | null;
  /** Virus variant. */
  virus: boolean;
  /** daticert errore (`nessuno`, `no-dest`, …). */
  errore: string | null;
  /** daticert errore-esteso. */
  erroreEsteso: string | null;
  /** Receipt kind. */
  ricevuta: string | null;
  /** Timeout notice kind. */
  timeout: string | null;
  /** PEC identificativo. */
  identificativo: string | null;
  /** Client msgid. */
  msgid: string | null;
  /** Original subject. */
  subject: string | null;
  /** Original sender. */
  sender: string | null;
  /** Event time, ISO 8601. */
  date: string | null;
  /** The recipient a delivery receipt or notice is about. */
  consegna: string | null;
  /** daticert gestore-emittente. */
  gestoreEmittente: string | null;
  /** Signature verdict (as `verify --json`), `null` when unreadable. */
  signature: ScanSignature | null;
  /** readPec's consistency issues, or the read error. */
  issues: ScanIssue[];
  /** SHA-256 of the bytes (hex), `null` when the message could not be read. */
  hash: string | null;
}

/** The JSON line of a record. */
export function toJson(r: ScanRecord): ScanJson {
  const s = r.summary;
  const date = s?.date;
  return {
    id: r.id,
    source: r.source,
    status: r.status,
    type: s?.type ?? null,
    virus: s?.virus ?? false,
    errore: s?.errore ?? null,
    erroreEsteso: s?.erroreEsteso ?? null,
    ricevuta: s?.ricevuta ?? null,
    timeout: s?.timeout ?? null,
    identificativo: s?.identificativo ?? null,
    msgid: s?.msgid ?? null,
    subject: s?.subject ?? null,
    sender: s?.sender ?? null,
    date: date instanceof Date && Number.isFinite(date.getTime()) ? date.toISOString() : null,
    consegna: s?.consegna ?? null,
    gestoreEmittente: s?.gestoreEmittente ?? null,
    signature: r.signature ?? null,
    issues: r.issues,
    hash: r.hash || null,
  };
}

/** CSV columns, in order. */
export const CSV_COLUMNS = [
  "id",
  "source",
  "status",
  "type",
  "identificativo",
  "msgid",
  "date",
  "sender",
  "subject",
  "consegna",
  "errore",
  "ricevuta",
  "signer",
  "signed_at",
  "signature_valid",
  "signature_trusted",
  "issues",
  "hash",
] as const;

/**
 * Where a spreadsheet would start a formula: at the start of the field, or of a cell a `;`
 * starts for a reader that splits on semicolons (Excel with Italian settings, which takes
 * no notice of the commas and quotes around it), quotes and spaces aside.
 */
const FORMULA_START = /(^|;)(?=["\s]*[=+\-@])/g;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. Subjects,
 * addresses and file names come from whoever sent the mail, so control and bidi characters
 * become spaces (as on the terminal; `--json` keeps them exact), and a `'` goes before
 * anything a spreadsheet would run as a formula.
 */
export function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return "";
  let s = String(value);
  if (typeof value === "string") s = printable(s).replace(FORMULA_START, "$1'");
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The CSV header line. */
export function csvHeader(): string {
  return CSV_COLUMNS.join(",") + "\r\n";
}

/** The CSV row of a record (CRLF-terminated, as RFC 4180 says). */
export function toCsv(r: ScanRecord): string {
  const j = toJson(r);
  const issues = [...(j.signature?.issues ?? []), ...j.issues].map((i) => i.code);
  const row = [
    j.id,
    j.source,
    j.status,
    j.type,
    j.identificativo,
    j.msgid,
    j.date,
    j.sender,
    j.subject,
    j.consegna,
    j.errore,
    j.ricevuta,
    j.signature?.signer,
    j.signature?.signedAt,
    j.signature?.valid,
    j.signature?.trusted,
    [...new Set(issues)].join(" "),
    j.hash,
  ];
  return row.map(csvField).join(",") + "\r\n";
}
