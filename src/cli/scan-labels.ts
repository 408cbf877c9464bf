/**
 * Italian and English words for what a scan finds: transaction outcomes, recipient states,
 * daticert errore values and every issue code, for readers who are not developers.
 *
 * @module
 */
import type { PecErrorCode } from "../errors.js";
import type { PecIssueCode } from "../pec/types.js";
import type { PecVerificationIssueCode } from "../pec/verify.js";
import type { RecipientStateName, TransactionOutcome } from "../transactions/index.js";

/** A text in both languages. */
export interface Bilingual {
  /** Italian. */
  it: string;
  /** English. */
  en: string;
}

/** Outcome of a transaction. */
export const OUTCOME_LABELS: Readonly<Record<TransactionOutcome, Bilingual>> = {
  consegnato: { it: "Consegnato", en: "Delivered" },
  errore: { it: "Errore di consegna", en: "Delivery failed" },
  "non-accettato": { it: "Non accettato", en: "Not accepted" },
  "in-corso": { it: "In corso", en: "In progress" },
};

/** State of a recipient. */
export const RECIPIENT_LABELS: Readonly<Record<RecipientStateName, Bilingual>> = {
  consegnato: { it: "Consegnato", en: "Delivered" },
  "mancata-consegna": { it: "Mancata consegna", en: "Not delivered" },
  virus: { it: "Bloccato per virus", en: "Blocked: virus" },
  preavviso: { it: "Preavviso di mancata consegna (12 ore)", en: "Not delivered yet (12-hour notice)" },
  scaduto: { it: "Mancata consegna per tempo scaduto (24 ore)", en: "Not delivered in time (24 hours)" },
  "in-attesa": { it: "In attesa", en: "Waiting" },
  esterno: { it: "Indirizzo non PEC (nessuna ricevuta)", en: "Not a PEC address (no receipt)" },
};

/** daticert `errore` values. */
export const ERRORE_LABELS: Readonly<Record<string, Bilingual>> = {
  nessuno: { it: "Nessun errore", en: "No error" },
  "no-dest": { it: "Destinatario inesistente", en: "The recipient's mailbox does not exist" },
  "no-dominio": { it: "Dominio inesistente o non PEC", en: "The recipient's domain does not exist or is not PEC" },
  virus: { it: "Virus rilevato nel messaggio", en: "A virus was found in the message" },
  altro: { it: "Errore generico (vedi dettaglio)", en: "Other error (see details)" },
};

/** Issue codes of verification (verifyPec), reading (readPec) and unreadable messages (PecError). */
export const ISSUE_LABELS: Readonly<Record<string, Bilingual>> = {
  // Signature and certificates.
  SIGNATURE_MISMATCH: { it: "Il messaggio è stato modificato dopo la firma", en: "The message was altered after it was signed" },
  SIGNATURE_INVALID: { it: "Firma non valida", en: "The signature is not valid" },
  CMS_MALFORMED: { it: "Firma illeggibile (struttura CMS errata)", en: "Unreadable signature (malformed CMS)" },
  CONTENT_MISSING: { it: "Manca il contenuto firmato", en: "The signed content is missing" },
  NO_SIGNER: { it: "La firma non contiene alcun firmatario", en: "The signature has no signer" },
  SIGNER_CERT_MISSING: { it: "Manca il certificato del firmatario", en: "The signer's certificate is missing" },
  CERT_UNTRUSTED: { it: "Il firmatario non è un gestore PEC riconosciuto", en: "The signer is not a trusted PEC provider" },
  CERT_EXPIRED_AT_SIGNING: { it: "Certificato scaduto al momento della firma", en: "The certificate had expired when it signed" },
  CERT_NOT_YET_VALID_AT_SIGNING: { it: "Certificato non ancora valido al momento della firma", en: "The certificate was not yet valid when it signed" },
  CERT_REVOKED: { it: "Certificato revocato", en: "The certificate was revoked" },
  CERT_PROFILE: { it: "Certificato non adatto a un gestore PEC", en: "The certificate does not fit a PEC provider's profile" },
  CERT_CHAIN_INVALID: { it: "Catena di certificati non valida", en: "Invalid certificate chain" },
  PEC_POLICY_MISSING: { it: "Il certificato non è di un gestore PEC (manca la policy PEC)", en: "The certificate is not a PEC provider's (PEC policy missing)" },
  WEAK_ALGORITHM: { it: "Algoritmo debole (accettato)", en: "Weak algorithm (accepted)" },
  UNSUPPORTED_ALGORITHM: { it: "Algoritmo non supportato", en: "Unsupported algorithm" },
  SIGNER_MISMATCH: { it: "Il firmatario non è il gestore indicato dal messaggio", en: "The signer is not the provider the message names" },
  CRL_INVALID: { it: "Lista di revoca (CRL) non utilizzabile", en: "Unusable revocation list (CRL)" },
  NO_SIGNATURE: { it: "Messaggio senza firma", en: "The message is not signed" },
  LINE_ENDINGS_CANONICALIZED: { it: "Firma valida solo ripristinando i fine riga (file salvato in formato Unix)", en: "Signature valid only after restoring CRLF line endings (file saved with Unix line endings)" },
  DOMAIN_NOT_MANAGED: { it: "Indirizzo fuori dai domini del gestore firmatario (IGPEC)", en: "An address outside the signing provider's domains (IGPEC)" },
  MICALG_MISMATCH: { it: "Intestazione micalg incoerente con la firma", en: "The micalg header disagrees with the signature" },
  // Consistency of the message.
  NOT_SIGNED: { it: "Messaggio PEC senza firma del gestore", en: "PEC message without the provider's signature" },
  DATICERT_MISSING: { it: "Manca daticert.xml", en: "daticert.xml is missing" },
  DATICERT_MALFORMED: { it: "daticert.xml illeggibile", en: "daticert.xml cannot be read" },
  DATICERT_SANITIZED: { it: "daticert.xml conteneva caratteri non ammessi", en: "daticert.xml held forbidden characters" },
  TYPE_MISMATCH: { it: "Tipo del messaggio incoerente con daticert.xml", en: "The message type disagrees with daticert.xml" },
  MSGID_MISMATCH: { it: "Riferimento al messaggio originale incoerente", en: "The reference to the original message disagrees" },
  SENDER_MISMATCH: { it: "Mittente incoerente con daticert.xml", en: "The sender disagrees with daticert.xml" },
  SUBJECT_MISMATCH: { it: "Oggetto incoerente con daticert.xml", en: "The subject disagrees with daticert.xml" },
  SUBJECT_PREFIX_MISMATCH: { it: "Oggetto incoerente con il tipo del messaggio", en: "The subject disagrees with the message type" },
  ORIGINAL_MISSING: { it: "Manca il messaggio originale (postacert.eml)", en: "The original message (postacert.eml) is missing" },
  ORIGINAL_UNEXPECTED: { it: "Contiene il messaggio originale senza doverlo contenere", en: "Carries the original message although it should not" },
  CLASSIFIED_BY_DATICERT: { it: "Tipo ricavato da daticert.xml (intestazioni PEC assenti)", en: "Type taken from daticert.xml (no PEC headers)" },
  CLASSIFIED_BY_SUBJECT: { it: "Tipo ricavato dall'oggetto", en: "Type taken from the subject" },
  WRAPPED: { it: "Messaggio PEC inoltrato dentro un altro messaggio", en: "PEC message forwarded inside another message" },
  LEGACY_SIGNATURE_TYPE: { it: "Tipo di firma di vecchio formato", en: "Legacy signature type" },
  MICALG_NONSTANDARD: { it: "Intestazione micalg non standard", en: "Non-standard micalg header" },
  HEADER_CASE: { it: "Intestazione PEC scritta in modo insolito", en: "PEC header written in unusual case" },
  HEADER_REPEATED: { it: "Intestazione PEC ripetuta (letta solo la prima)", en: "PEC header repeated (only the first read)" },
  DATE_MISMATCH: { it: "Data dell'intestazione incoerente con daticert.xml", en: "The Date header disagrees with daticert.xml" },
  UNSIGNED_PART: { it: "Parti aggiunte fuori dalla firma", en: "Parts added outside the signature" },
  LEADING_BYTES_SKIPPED: { it: "Byte estranei prima delle intestazioni (ignorati)", en: "Stray bytes before the headers (skipped)" },
  LINE_ENDINGS_REPAIRED: { it: "Fine riga CR CR LF corretti in CRLF", en: "CR CR LF line endings repaired to CRLF" },
  TRAILING_MESSAGE: { it: "Dopo il messaggio ne segue un altro (una mbox?), non letto", en: "Another message follows (an mbox?), not read" },
  UTF16_DECODED: { it: "File salvato come testo UTF-16, riletto byte per byte", en: "File saved as UTF-16 text, read back byte by byte" },
  // Unreadable messages.
  ERR_MIME_MALFORMED: { it: "Il file non è un messaggio di posta leggibile", en: "The file is not a readable e-mail message" },
  ERR_TOO_LARGE: { it: "Messaggio troppo grande", en: "The message is too large" },
  ERR_TOO_DEEP: { it: "Messaggio troppo annidato", en: "The message is nested too deeply" },
  ERR_TOO_MANY_PARTS: { it: "Messaggio con troppe parti", en: "The message has too many parts" },
  ERR_DATICERT_MALFORMED: { it: "daticert.xml illeggibile", en: "daticert.xml cannot be read" },
  ERR_CMS_MALFORMED: { it: "Firma illeggibile", en: "Unreadable signature" },
  ERR_CERT_MALFORMED: { it: "Certificato illeggibile", en: "Unreadable certificate" },
  ERR_UNSUPPORTED: { it: "Formato non supportato", en: "Unsupported format" },
  ERR_INTERNAL: { it: "Errore interno di postacert", en: "postacert internal error" },
  ENOENT: { it: "File scomparso durante la scansione", en: "The file disappeared during the scan" },
  EACCES: { it: "File non leggibile (permessi)", en: "The file cannot be read (permissions)" },
} satisfies Record<PecVerificationIssueCode | PecIssueCode, Bilingual> & Partial<Record<PecErrorCode | "ERR_INTERNAL" | "ENOENT" | "EACCES", Bilingual>>;

/** Both-language label of an issue code; unknown codes show the code itself. */
export function issueLabel(code: string): Bilingual {
  return ISSUE_LABELS[code] ?? { it: code, en: code };
}

/** Both-language label of a daticert errore. */
export function erroreLabel(errore: string): Bilingual {
  return ERRORE_LABELS[errore] ?? { it: errore, en: errore };
}
