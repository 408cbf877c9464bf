/**
 * The stable JSON shape of a read (and optionally verified) PEC message: what
 * `postacert inspect --json` and `postacert verify --json` print, one object per line.
 *
 * @module
 */
import type { DestinatarioTipo } from "../daticert/index.js";
import type { PecType } from "./constants.js";
import type { ReadPec } from "./types.js";

/** JSON of a daticert.xml, with design.md's camelCase names. */
export interface DaticertJson {
  tipo: string;
  errore: string;
  mittente: string;
  destinatari: { address: string; tipo: DestinatarioTipo }[];
  risposte: string;
  oggetto: string | null;
  gestoreEmittente: string;
  data: { zona: string; giorno: string; ora: string };
  identificativo: string;
  msgid: string | null;
  ricevuta: string | null;
  consegna: string | null;
  ricezione: string[];
  erroreEsteso: string | null;
}

/** JSON of a signature verdict (see `verifyPec`). */
export interface SignatureJson {
  present: boolean;
  valid?: boolean;
  trusted?: boolean;
  signer: string | null;
  signedAt: string | null;
  digestAlgorithm: string | null;
  issues: { code: string; severity: string; message: string }[];
}

/** One line of `inspect --json` / `verify --json`. */
export interface PecJson {
  file?: string;
  type: PecType;
  virus: boolean;
  errore: string | null;
  ricevuta: string | null;
  timeout: string | null;
  wrapped: boolean;
  path: number[];
  subject: string | null;
  sender: string | null;
  date: string | null;
  daticert: DaticertJson | null;
  signature: SignatureJson;
  original: { present: boolean; subject: string | null; messageId: string | null; attachments: string[]; inner: PecJson | null };
  issues: { code: string; severity: string; message: string }[];
}

/** Signature facts that the JSON can carry, from `verifyPec` or from `readPec` alone. */
export interface SignatureFacts {
  valid: boolean;
  trusted: boolean;
  signer?: string;
  signedAt?: Date;
  digestAlgorithm?: string;
  issues: readonly { code: string; severity: string; message: string }[];
}

/**
 * Turns a read message (and, when given, its verification) into the stable JSON shape.
 * Without `verification` the `signature` object has no `valid`/`trusted` (inspect).
 *
 * @example
 * ```ts
 * console.log(JSON.stringify(pecToJson(readPec(bytes), { file: "in.eml" })));
 * ```
 */
export function pecToJson(pec: ReadPec, options: { file?: string; verification?: SignatureFacts } = {}): PecJson {
  const d = pec.daticert;
  const v = options.verification;
  const signature: SignatureJson = {
    present: pec.signature !== undefined,
    ...(v && { valid: v.valid, trusted: v.trusted }),
    signer: v?.signer ?? null,
    signedAt: v?.signedAt?.toISOString() ?? null,
    digestAlgorithm: v?.digestAlgorithm ?? null,
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
