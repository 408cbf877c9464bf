/**
 * PEC protocol constants (spec Appendix A). Header names are compared case-insensitively.
 *
 * @module
 */

/** PEC header names, as the rules spell them. */
export const PEC_HEADERS = {
  /** `X-Trasporto`: `posta-certificata` or `errore` on a busta. */
  TRASPORTO: "X-Trasporto",
  /** `X-Ricevuta`: the receipt type on a ricevuta or avviso. */
  RICEVUTA: "X-Ricevuta",
  /** `X-Riferimento-Message-ID`: the original's Message-ID. */
  RIFERIMENTO_MESSAGE_ID: "X-Riferimento-Message-ID",
  /** `X-TipoRicevuta`: `completa`, `breve` or `sintetica`, asked by the sender. */
  TIPO_RICEVUTA: "X-TipoRicevuta",
  /** `X-VerificaSicurezza`: `errore` on the virus notices (non accettazione, mancata consegna per virus). */
  VERIFICA_SICUREZZA: "X-VerificaSicurezza",
  /** `X-Mittente`: the original sender on an avviso di rilevazione virus. */
  MITTENTE: "X-Mittente",
} as const;

/** Values of `X-Ricevuta`. */
export const X_RICEVUTA = [
  "accettazione",
  "non-accettazione",
  "presa-in-carico",
  "avvenuta-consegna",
  "errore-consegna",
  "preavviso-errore-consegna",
  "rilevazione-virus",
] as const;

/** A value of `X-Ricevuta`. */
export type XRicevuta = (typeof X_RICEVUTA)[number];

export { DATICERT_FILENAME } from "../daticert/model.js";
/** File name of the original message inside a busta or receipt. */
export const POSTACERT_FILENAME = "postacert.eml";
/** File name of the detached signature. */
export const SIGNATURE_FILENAME = "smime.p7s";

/** Display-name prefix of the busta's From (`"Per conto di: x@y" <posta-certificata@G>`). */
export const FROM_DISPLAY_PREFIX = "Per conto di:";

/**
 * Every PEC message type: the daticert `tipo` vocabulary plus `anomalia` (busta di
 * anomalia, which has no daticert) and `not-pec` (ordinary mail).
 */
export const PEC_TYPES = [
  "posta-certificata",
  "anomalia",
  "accettazione",
  "non-accettazione",
  "presa-in-carico",
  "avvenuta-consegna",
  "errore-consegna",
  "preavviso-errore-consegna",
  "rilevazione-virus",
  "not-pec",
] as const;

/** A PEC message type (see {@link PEC_TYPES}). */
export type PecType = (typeof PEC_TYPES)[number];

/**
 * Subject prefixes, longest first so that a prefix is never shadowed by a shorter one
 * it contains. Each is followed by ": " and the original subject.
 */
export const SUBJECT_PREFIXES: readonly (readonly [prefix: string, type: PecType, virus: boolean])[] = [
  ["AVVISO DI MANCATA CONSEGNA PER SUP. TEMPO MASSIMO", "preavviso-errore-consegna", false],
  ["AVVISO DI NON ACCETTAZIONE PER VIRUS", "non-accettazione", true],
  ["AVVISO DI MANCATA CONSEGNA PER VIRUS", "errore-consegna", true],
  ["AVVISO DI NON ACCETTAZIONE", "non-accettazione", false],
  ["AVVISO DI MANCATA CONSEGNA", "errore-consegna", false],
  ["PROBLEMA DI SICUREZZA", "rilevazione-virus", true],
  ["ANOMALIA MESSAGGIO", "anomalia", false],
  ["POSTA CERTIFICATA", "posta-certificata", false],
  ["PRESA IN CARICO", "presa-in-carico", false],
  ["ACCETTAZIONE", "accettazione", false],
  ["CONSEGNA", "avvenuta-consegna", false],
];

/** Italian and English labels of each type, for people. */
export const PEC_TYPE_LABELS: Readonly<
  Record<
    PecType,
    {
      /** The Italian name, as the rules call it. */
      it: string;
      /** An English translation. */
      en: string;
    }
  >
> = {
  "posta-certificata": { it: "Busta di trasporto", en: "Transport envelope" },
  anomalia: { it: "Busta di anomalia", en: "Anomaly envelope" },
  accettazione: { it: "Ricevuta di accettazione", en: "Acceptance receipt" },
  "non-accettazione": { it: "Avviso di non accettazione", en: "Non-acceptance notice" },
  "presa-in-carico": { it: "Ricevuta di presa in carico", en: "Take-charge receipt" },
  "avvenuta-consegna": { it: "Ricevuta di avvenuta consegna", en: "Delivery receipt" },
  "errore-consegna": { it: "Avviso di mancata consegna", en: "Non-delivery notice" },
  "preavviso-errore-consegna": {
    it: "Avviso di mancata consegna per superamento tempo massimo",
    en: "Delivery timeout notice",
  },
  "rilevazione-virus": { it: "Avviso di rilevazione virus", en: "Virus detection notice" },
  "not-pec": { it: "Messaggio non PEC", en: "Not a PEC message" },
};
