/**
 * The stable JSON shape of a read (and optionally verified) PEC message: what
 * `postacert inspect --json` and `postacert verify --json` print, one object per line.
 *
 * @module
 */
import type { DestinatarioTipo } from "../daticert/index.js";
import type { PecType } from "./constants.js";
import type { ReadPec } from "./types.js";
import { claimedSigner } from "../smime/verify.js";

/** JSON of a daticert.xml, with design.md's camelCase names. */
export interface DaticertJson {
  /** `<postacert tipo>`: the message type, e.g. `avvenuta-consegna`. */
  tipo: string;
  /** `<postacert errore>`: `nessuno`, `no-dest`, `virus`, … */
  errore: string;
  /** `<mittente>`: the sender's address. */
  mittente: string;
  /** `<destinatari>`: each recipient with its `tipo` (`certificato` or `esterno`). */
  destinatari: {
    /** The recipient's address. */
    address: string;
    /** `certificato` (a PEC mailbox) or `esterno` (ordinary mail). */
    tipo: DestinatarioTipo;
  }[];
  /** `<risposte>`: the reply-to address. */
  risposte: string;
  /** `<oggetto>`: the original subject, `null` when absent. */
  oggetto: string | null;
  /** `<gestore-emittente>`: the name of the gestore that emitted the message. */
  gestoreEmittente: string;
  /** `<data zona>` with its `<giorno>` (dd/mm/yyyy) and `<ora>` (hh:mm:ss). */
  data: {
    /** Time zone offset, e.g. `+0100`. */
    zona: string;
    /** Day as `dd/mm/yyyy`. */
    giorno: string;
    /** Time as `hh:mm:ss`. */
    ora: string;
  };
  /** `<identificativo>`: the transaction identifier given by the sender's gestore. */
  identificativo: string;
  /** `<msgid>`: the original's Message-ID, `null` when absent. */
  msgid: string | null;
  /** `<ricevuta tipo>`: `completa`, `breve` or `sintetica`; `null` when absent. */
  ricevuta: string | null;
  /** `<consegna>`: the mailbox a delivery receipt is about, `null` when absent. */
  consegna: string | null;
  /** `<ricezione>`: the recipients a presa in carico is about. */
  ricezione: string[];
  /** `<errore-esteso>`: the free-text error, `null` when absent. */
  erroreEsteso: string | null;
}

/** JSON of a signature verdict (see `verifyPec`). */
export interface SignatureJson {
  /** The message carries an S/MIME signature. */
  present: boolean;
  /** The signature matches the signed bytes (only after verification). */
  valid?: boolean;
  /** The signer chains to a trust anchor and fits the gestore profile (only after verification). */
  trusted?: boolean;
  /**
   * For each certificate of the signer's path (signer first), whether a CRL current and
   * complete for it showed it was not revoked (only after verification; all `false`
   * without CRLs; see `PathValidation.revocationChecked`).
   */
  revocationChecked?: boolean[];
  /**
   * The signer's subject distinguished name, `null` when unknown. Without verification
   * (inspect) it is the certificate the signature names, not checked.
   */
  signer: string | null;
  /** The CMS signingTime as ISO 8601, `null` when unknown (without verification: as written, not checked). */
  signedAt: string | null;
  /** The digest algorithm, e.g. `SHA-256`, `null` when unknown. */
  digestAlgorithm: string | null;
  /** The verification issues (empty before verification). */
  issues: {
    /** Stable issue code, e.g. `CERT_UNTRUSTED`. */
    code: string;
    /** `error`, `warning` or `info`. */
    severity: string;
    /** Human-readable explanation. */
    message: string;
  }[];
}

/** One line of `inspect --json` / `verify --json`. */
export interface PecJson {
  /** The file name, when the caller passed one. */
  file?: string;
  /** The PEC message type. */
  type: PecType;
  /** The message is about a virus (a virus variant of its type). */
  virus: boolean;
  /** The daticert `errore` value, `null` when there is none. */
  errore: string | null;
  /** For busta and avvenuta-consegna: `completa`, `breve` or `sintetica`; `null` otherwise. */
  ricevuta: string | null;
  /** For a preavviso-errore-consegna: `preavviso` (12 h) or `scadenza` (24 h); `null` otherwise. */
  timeout: string | null;
  /** The PEC message was found wrapped inside another message (e.g. forwarded). */
  wrapped: boolean;
  /** Child indexes from the input's root to the PEC message (see `ReadPec.path`). */
  path: number[];
  /** The original subject (without the PEC prefix), `null` when unknown. */
  subject: string | null;
  /** The original sender (daticert mittente, else the busta's "Per conto di", else From), `null` when unknown. */
  sender: string | null;
  /** The time of the event (daticert data, else the Date header) as ISO 8601, `null` when unknown. */
  date: string | null;
  /** The daticert data, `null` when the message has none. */
  daticert: DaticertJson | null;
  /** The signature facts (verdict only after verification). */
  signature: SignatureJson;
  /** The original message (`postacert.eml`). */
  original: {
    /** The message carries `postacert.eml`. */
    present: boolean;
    /** Its decoded subject. */
    subject: string | null;
    /** Its Message-ID. */
    messageId: string | null;
    /** Its attachments' file names (or MIME types when unnamed). */
    attachments: string[];
    /** The PEC message inside it, when the original is itself a PEC message. */
    inner: PecJson | null;
  };
  /** The consistency issues found by `readPec`. */
  issues: {
    /** Stable issue code. */
    code: string;
    /** `error`, `warning` or `info`. */
    severity: string;
    /** Human-readable explanation. */
    message: string;
  }[];
}

/** Signature facts that the JSON can carry, from `verifyPec` or from `readPec` alone. */
export interface SignatureFacts {
  /** The signature matches the signed bytes. */
  valid: boolean;
  /** The signer is trusted at signing time. */
  trusted: boolean;
  /** The signer's subject distinguished name. */
  signer?: string;
  /** The CMS signingTime. */
  signedAt?: Date;
  /** The digest algorithm name. */
  digestAlgorithm?: string;
  /** The CMS-level result, for the signer's revocation check. */
  cms?: {
    /** Each signer, the first one's path taken. */
    readonly signers: readonly {
      /** Per certificate of the signer's path, whether a CRL showed it was not revoked. */
      readonly revocationChecked: readonly boolean[];
    }[];
  };
  /** The verification issues. */
  issues: readonly {
    /** Stable issue code. */
    code: string;
    /** `error`, `warning` or `info`. */
    severity: string;
    /** Human-readable explanation. */
    message: string;
  }[];
}

/**
 * Turns a read message (and, when given, its verification) into the stable JSON shape.
 * Without `verification` the `signature` object has no `valid`/`trusted`, and its `signer`,
 * `signedAt` and `digestAlgorithm` are what the signature names, not checked (inspect).
 *
 * @example
 * ```ts
 * console.log(JSON.stringify(pecToJson(readPec(bytes), { file: "in.eml" })));
 * ```
 */
export function pecToJson(pec: ReadPec, options: { file?: string; verification?: SignatureFacts } = {}): PecJson {
  const d = pec.daticert;
  const v = options.verification;
  // design.md: inspect prints the verify object without valid/trusted, so what the
  // signature names is read from it, without cryptography.
  const facts = v ?? (pec.signature ? claimedSigner(pec.signature.cms) : undefined);
  const signature: SignatureJson = {
    present: pec.signature !== undefined,
    ...(v && { valid: v.valid, trusted: v.trusted }),
    ...(v && { revocationChecked: [...(v.cms?.signers[0]?.revocationChecked ?? [])] }),
    signer: facts?.signer ?? null,
    signedAt: facts?.signedAt?.toISOString() ?? null,
    digestAlgorithm: facts?.digestAlgorithm ?? null,
    issues: v ? v.issues.map((i) => ({ code: i.code, severity: i.severity, message: i.message })) : [],
  };
  return {
    ...(options.file !== undefined && { file: options.file }),
    type: pec.type,
    virus: pec.virus,
    errore: pec.errore ?? null,
    ricevuta: pec.ricevuta ?? null,
    timeout: pec.timeout ?? null,
    wrapped: pec.wrapped,
    path: pec.path,
    subject: pec.originalSubject ?? null,
    sender: pec.sender ?? null,
    date: pec.date?.toISOString() ?? null,
    daticert: d
      ? {
          tipo: d.tipo,
          errore: d.errore,
          mittente: d.intestazione.mittente,
          destinatari: d.intestazione.destinatari.map((x) => ({ address: x.address, tipo: x.tipo })),
          risposte: d.intestazione.risposte,
          oggetto: d.intestazione.oggetto ?? null,
          gestoreEmittente: d.dati.gestoreEmittente,
          data: { ...d.dati.data },
          identificativo: d.dati.identificativo,
          msgid: d.dati.msgid ?? null,
          ricevuta: d.dati.ricevuta ?? null,
          consegna: d.dati.consegna ?? null,
          ricezione: [...d.dati.ricezione],
          erroreEsteso: d.dati.erroreEsteso ?? null,
        }
      : null,
    signature,
    original: {
      present: pec.original !== undefined,
      subject: pec.original?.subject ?? null,
      messageId: pec.original?.messageId ?? null,
      attachments: pec.original?.attachments.map((a) => a.filename ?? a.mimeType) ?? [],
      inner: pec.original?.inner ? pecToJson(pec.original.inner) : null,
    },
    issues: pec.issues.map((i) => ({ code: i.code, severity: i.severity, message: i.message })),
  };
}
