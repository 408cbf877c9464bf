/**
 * Public types of the PEC reading layer.
 *
 * @module
 */
import type { Daticert } from "../daticert/index.js";
import type { MimeEntity } from "../mime/index.js";
import type { PecType } from "./constants.js";

/** Severity of a reported issue: only `error` means the message is not what it claims. */
export type IssueSeverity = "error" | "warning" | "info";

/**
 * Stable codes of the consistency issues {@link readPec} reports.
 *
 * - `NOT_SIGNED`: a PEC message without a gestore signature.
 * - `DATICERT_MISSING`: the type requires `daticert.xml` and there is none.
 * - `DATICERT_MALFORMED`: `daticert.xml` could not be read.
 * - `DATICERT_SANITIZED`: `daticert.xml` held characters XML forbids; they were neutralised.
 * - `TYPE_MISMATCH`: the header type disagrees with daticert `tipo`; the type is daticert's (it is signed, the headers are not).
 * - `MSGID_MISMATCH`: `X-Riferimento-Message-ID` disagrees with daticert `msgid`.
 * - `SENDER_MISMATCH`: the busta's "Per conto di" sender disagrees with daticert `mittente`.
 * - `SUBJECT_PREFIX_MISMATCH`: the subject prefix names another type.
 * - `SUBJECT_MISMATCH`: the Subject header (outside the signature) differs from daticert `oggetto` (inside it); `originalSubject` is the oggetto.
 * - `ORIGINAL_MISSING`: the type carries `postacert.eml` and it is absent.
 * - `ORIGINAL_UNEXPECTED`: the type must not carry the original message, and it does.
 * - `CLASSIFIED_BY_DATICERT`: no PEC header; the type was taken from daticert.
 * - `CLASSIFIED_BY_SUBJECT`: neither headers nor daticert say the type; the subject did.
 * - `WRAPPED`: the PEC was found inside another message (forward, mailing list).
 * - `LEGACY_SIGNATURE_TYPE`: `application/x-pkcs7-signature` (seen at Aruba, Sogei, Namirial).
 * - `MICALG_NONSTANDARD`: a `micalg` spelling outside RFC 5751 (`sha1`, `sha256`).
 * - `HEADER_CASE`: a PEC header written in unusual case (e.g. `X-Tiporicevuta`).
 * - `HEADER_REPEATED`: a PEC header (`X-Ricevuta`, `X-Trasporto`…) is given more than once;
 *   only the first is read. These headers are outside the signature.
 * - `UNSIGNED_PART`: the multipart/signed holds more than its two parts (RFC 1847); only
 *   the first is signed and read, and a mail client may still show the others.
 * - `DATE_MISMATCH`: the Date header (outside the signature) is more than 5 minutes from
 *   the daticert time (inside it); `date` is the daticert time.
 * - `LEADING_BYTES_SKIPPED`: the bytes began with a UTF-8 byte order mark, blank lines or
 *   an mbox `From ` line before the first header line; the message was read from that
 *   line (info).
 * - `LINE_ENDINGS_REPAIRED`: the lines ended in CR CR LF (a CRLF file converted once more
 *   as text); they were read as CRLF, which gives back what the gestore signed.
 * - `TRAILING_MESSAGE`: another message follows the one read (an mbox given whole: an
 *   mbox `From ` line and headers after the close delimiter); only the first was read.
 * - `UTF16_DECODED`: the file held the message as UTF-16 text (Windows PowerShell 5's `>`
 *   and `Out-File`); each character was read back as its byte (Latin-1, or Windows-1252
 *   for `€` and the like), which gives back a 7-bit message exactly.
 */
export type PecIssueCode =
  | "NOT_SIGNED"
  | "DATICERT_MISSING"
  | "DATICERT_MALFORMED"
  | "DATICERT_SANITIZED"
  | "TYPE_MISMATCH"
  | "MSGID_MISMATCH"
  | "SENDER_MISMATCH"
  | "SUBJECT_PREFIX_MISMATCH"
  | "SUBJECT_MISMATCH"
  | "ORIGINAL_MISSING"
  | "ORIGINAL_UNEXPECTED"
  | "CLASSIFIED_BY_DATICERT"
  | "CLASSIFIED_BY_SUBJECT"
  | "WRAPPED"
  | "LEGACY_SIGNATURE_TYPE"
  | "MICALG_NONSTANDARD"
  | "HEADER_CASE"
  | "HEADER_REPEATED"
  | "UNSIGNED_PART"
  | "DATE_MISMATCH"
  | "LEADING_BYTES_SKIPPED"
  | "LINE_ENDINGS_REPAIRED"
  | "UTF16_DECODED"
  | "TRAILING_MESSAGE";

/** One finding of the consistency checks. */
export interface PecIssue {
  /** Stable code. */
  code: PecIssueCode;
  /** `error` for contradictions, `warning`/`info` for known real-world deviations. */
  severity: IssueSeverity;
  /** Human-readable explanation (English). */
  message: string;
}

/** An e-mail address with its PEC nature, as daticert lists recipients. */
export interface PecRecipient {
  /** The address. */
  address: string;
  /** `certificato` (a PEC mailbox) or `esterno` (ordinary mail); undefined when only headers say. */
  tipo?: "certificato" | "esterno";
  /** Whether the original listed it in To (`to`) or Cc (`cc`), when known. */
  field?: "to" | "cc";
}

/** Where the signature is and what it covers. */
export interface PecSignatureInfo {
  /** `detached` (multipart/signed, the PEC norm) or `opaque` (application/pkcs7-mime). */
  form: "detached" | "opaque";
  /** The signed entity (multipart/signed or pkcs7-mime). */
  entity: MimeEntity;
  /** The `protocol` parameter of multipart/signed, when detached. */
  protocol?: string;
  /** The `micalg` parameter, as written. */
  micalg?: string;
  /** The exact bytes the signature covers (detached), or undefined for opaque until decoded. */
  signedBytes?: Uint8Array;
  /** The CMS ContentInfo bytes (DER or BER). */
  cms: Uint8Array;
}

/** An attachment of a decoded message. */
export interface PecAttachment {
  /** File name, decoded (RFC 2231/2047), when the part has one. */
  filename?: string;
  /** Lower-case MIME type. */
  mimeType: string;
  /** The MIME entity. */
  entity: MimeEntity;
  /** The decoded bytes (transfer encoding removed). */
  content(): Uint8Array;
}

/** A `.hash` file that replaces an attachment in a ricevuta breve. */
export interface BreveHashEntry {
  /** The `.hash` file name, e.g. `fattura.pdf.hash`. */
  filename: string;
  /** The name of the attachment it replaces, e.g. `fattura.pdf`. */
  originalFilename: string;
  /** The hash as written, lower-cased and trimmed (40 hex characters for SHA-1). */
  hash: string;
  /** The MIME entity of the hash file. */
  entity: MimeEntity;
}

/** The original message (`postacert.eml`) or the message wrapped by a busta di anomalia. */
export interface PecOriginal {
  /** The `message/rfc822` part (or the attachment) that holds it. */
  entity: MimeEntity;
  /** The parsed embedded message. */
  message: MimeEntity;
  /** Its exact bytes. */
  bytes: Uint8Array;
  /** Decoded `From`. */
  from?: string;
  /** Decoded `To` addresses. */
  to: string[];
  /** Decoded `Cc` addresses. */
  cc: string[];
  /** Decoded subject. */
  subject?: string;
  /** `Date`, when it parses. */
  date?: Date;
  /** `Message-ID` (the PEC identificativo inside a busta). */
  messageId?: string;
  /** `X-Riferimento-Message-ID` (the client's msgid inside a busta). */
  riferimentoMessageId?: string;
  /**
   * First text/plain body that is not an attachment; a `format=flowed` one (RFC 3676) with
   * its soft line breaks joined, as mail clients show it (the part's `text()` keeps them).
   */
  text?: string;
  /** First text/html body that is not an attachment. */
  html?: string;
  /** Every other leaf part. */
  attachments: PecAttachment[];
  /** In a ricevuta breve: the `.hash` files that replaced attachments. */
  hashes: BreveHashEntry[];
  /** A PEC found inside the original (a forwarded or attached PEC), read in full. */
  inner?: ReadPec;
}

/** Everything {@link readPec} finds in a message. */
export interface ReadPec {
  /** The message type; `not-pec` for ordinary mail. */
  type: PecType;
  /** True for the virus variants (non accettazione, mancata consegna, rilevazione virus). */
  virus: boolean;
  /**
   * For `preavviso-errore-consegna`: `preavviso` (12 h) or `scadenza` (24 h), read from the
   * body text since the rules distinguish them only there; undefined when it does not say.
   */
  timeout?: "preavviso" | "scadenza";
  /** For busta and avvenuta-consegna: the receipt type (daticert, else header, else completa). */
  ricevuta?: "completa" | "breve" | "sintetica";
  /** The daticert `errore` value (`nessuno` when daticert omits it; undefined for anomalia, which has no daticert). */
  errore?: string;
  /** The whole input, parsed. */
  root: MimeEntity;
  /** The message entity that carries the PEC headers (root unless wrapped). */
  message: MimeEntity;
  /** Child indexes from root to {@link ReadPec.message}; embedded messages count as their part's child 0. */
  path: number[];
  /** True when the PEC came inside another message (forward, mailing list). */
  wrapped: boolean;
  /** The signature, when the message is signed. */
  signature?: PecSignatureInfo;
  /** Parsed `daticert.xml`, when present and readable. */
  daticert?: Daticert;
  /** The daticert MIME part, when present. */
  daticertEntity?: MimeEntity;
  /** Decoded subject of the PEC message as sent. */
  subject?: string;
  /** The subject without the PEC prefix (the original subject). */
  originalSubject?: string;
  /** Original sender (daticert mittente, else the busta's "Per conto di", else From). */
  sender?: string;
  /** The From address of the PEC message (the gestore's address on a busta or receipt). */
  from?: string;
  /** Recipients (daticert destinatari, else To/Cc). */
  recipients: PecRecipient[];
  /** Time of the event: daticert data, else the Date header. */
  date?: Date;
  /** daticert gestore-emittente. */
  gestoreEmittente?: string;
  /** The PEC identificativo (daticert, else the busta's Message-ID). */
  identificativo?: string;
  /** The client's msgid (daticert msgid, else X-Riferimento-Message-ID). */
  msgid?: string;
  /** The recipient a consegna/errore/virus/timeout notice is about. */
  consegna?: string;
  /** Recipients covered by a presa in carico. */
  ricezione: string[];
  /** daticert errore-esteso. */
  erroreEsteso?: string;
  /** For rilevazione virus: X-Mittente. */
  xMittente?: string;
  /** Human-readable text of the PEC message (`format=flowed` unwrapped, as for the original). */
  text?: string;
  /** Human-readable HTML of the PEC message. */
  html?: string;
  /** postacert.eml (or, for anomalia, the wrapped message). */
  original?: PecOriginal;
  /** For anomalia: the reason the body gives ("per il seguente errore: …"), when it does. */
  anomaliaReason?: string;
  /** Consistency findings. */
  issues: PecIssue[];
}
