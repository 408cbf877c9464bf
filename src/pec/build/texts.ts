/**
 * The human-readable bodies of every PEC message: the Italian model first, then an
 * English translation after a separator line, as InfoCert and Aruba write them.
 *
 * Italian wording: where the spec (§4) quotes a model observed verbatim in real
 * messages, it is reproduced verbatim (busta di trasporto, ricevuta di accettazione,
 * ricevuta di avvenuta consegna, avviso di mancata consegna, avviso di non
 * accettazione). Everything marked UNCONFIRMED below is our reconstruction from the
 * content RFC 6109 prescribes: the Allegato's Italian text was not available. The
 * English text is ours (RFC 6109's models, lightly adapted).
 *
 * Never parse these texts: the semantics are in `daticert.xml` (RFC 6109 "Parsing MUST
 * be done on the XML part only"). The one exception the rules leave is the 12 h / 24 h
 * timeout notice, told apart only by its text: the 12 h text says "12 ore" / "12 hours",
 * the 24 h text says "24 ore" / "24 hours" and never "12".
 *
 * @module
 */
import type { DatiData, RicevutaTipo } from "../../daticert/index.js";

/** One line of a section: text, or a list of items (recipients), one per line. */
export type BodyLine = string | { list: readonly string[] };

/** A titled block of lines in one language. */
export interface BodySection {
  /** Title line (also the HTML `<title>` and `<h3>`). */
  title: string;
  /** The lines after the title. */
  lines: readonly BodyLine[];
}

/** A bilingual body. */
export interface BodyModel {
  /** Italian (first). */
  it: BodySection;
  /** English (after the separator). */
  en: BodySection;
}

/** Separator between the Italian and English texts. */
export const SEPARATOR = "-".repeat(72);

/** `Il giorno dd/mm/yyyy alle ore hh:mm:ss (+hhmm)`. */
export function quandoIt(d: DatiData): string {
  return `Il giorno ${d.giorno} alle ore ${d.ora} (${d.zona})`;
}

/** `On dd/mm/yyyy at hh:mm:ss (+hhmm)`. */
export function quandoEn(d: DatiData): string {
  return `On ${d.giorno} at ${d.ora} (${d.zona})`;
}

function q(s: string): string {
  return `"${s}"`;
}

function sectionText(s: BodySection): string {
  const out: string[] = [s.title];
  for (const l of s.lines) {
    if (typeof l === "string") out.push(l);
    else out.push(...l.list);
  }
  return out.join("\r\n") + "\r\n";
}

/** Escapes text for HTML; characters outside ISO-8859-1 become numeric references. */
export function escapeHtml(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === "&") out += "&amp;";
    else if (ch === "<") out += "&lt;";
    else if (ch === ">") out += "&gt;";
    else if (ch === '"') out += "&quot;";
    else if (c < 0x20 && c !== 9) out += "";
    else if (c > 0xff) out += `&#${c};`;
    else out += ch;
  }
  return out;
}

function sectionHtml(s: BodySection): string {
  let out = `<h3>${escapeHtml(s.title)}</h3>\r\n<p>\r\n`;
  for (const l of s.lines) {
    if (typeof l === "string") out += `${escapeHtml(l)}<br>\r\n`;
    else out += `</p>\r\n<ul>\r\n${l.list.map((i) => `<li>${escapeHtml(i)}</li>\r\n`).join("")}</ul>\r\n<p>\r\n`;
  }
  return out + "</p>\r\n";
}

/**
 * Renders a bilingual body as text/plain and as HTML. The HTML carries the same
 * information and nothing else: no images, style sheets, fonts, scripts or links
 * (spec §3.4).
 */
export function renderBody(m: BodyModel): { text: string; html: string } {
  const text = sectionText(m.it) + "\r\n" + SEPARATOR + "\r\n\r\n" + sectionText(m.en);
  const html =
    "<html>\r\n" +
    `<head><title>${escapeHtml(m.it.title)}</title></head>\r\n` +
    "<body>\r\n" +
    sectionHtml(m.it) +
    "<hr>\r\n" +
    sectionHtml(m.en) +
    "</body>\r\n</html>\r\n";
  return { text, html };
}

/** Facts every body shows. */
export interface BodyFacts {
  /** Event time. */
  data: DatiData;
  /** Original subject. */
  subject: string;
  /** Original sender. */
  sender: string;
  /** PEC identificativo. */
  identificativo: string;
}

/** Busta di trasporto — Italian verbatim (spec §4.1, observed at seven gestori). */
export function bustaBody(f: BodyFacts, recipients: readonly string[]): BodyModel {
  return {
    it: {
      title: "Messaggio di posta certificata",
      lines: [
        `${quandoIt(f.data)} il messaggio`,
        `${q(f.subject)} è stato inviato da ${q(f.sender)}`,
        "indirizzato a:",
        { list: recipients },
        "Il messaggio originale è incluso in allegato.",
        `Identificativo messaggio: ${f.identificativo}`,
      ],
    },
    en: {
      title: "Certified email message",
      lines: [
        `${quandoEn(f.data)} the message`,
        `${q(f.subject)} was sent by ${q(f.sender)}`,
        "and addressed to:",
        { list: recipients },
        "The original message is attached.",
        `Message identifier: ${f.identificativo}`,
      ],
    },
  };
}

/**
 * Busta di anomalia — UNCONFIRMED reconstruction (spec §4.2) around the confirmed phrase
 * "Tali dati non sono stati certificati per il seguente errore:".
 */
export function anomaliaBody(data: DatiData, subject: string, sender: string, recipients: readonly string[], reason: string): BodyModel {
  return {
    it: {
      title: "Anomalia nel messaggio",
      lines: [
        `${quandoIt(data)} è stato ricevuto`,
        `il messaggio ${q(subject)} proveniente da ${q(sender)}`,
        "ed indirizzato a:",
        { list: recipients },
        "Tali dati non sono stati certificati per il seguente errore:",
        reason,
        "Il messaggio originale è incluso in allegato.",
      ],
    },
    en: {
      title: "Message anomaly",
      lines: [
        `${quandoEn(data)} the message`,
        `${q(subject)} from ${q(sender)}`,
        "and addressed to:",
        { list: recipients },
        "was received.",
        "These data have not been certified due to the following error:",
        reason,
        "The original message is attached.",
      ],
    },
  };
}

/**
 * Ricevuta di accettazione — Italian verbatim (spec §4.3, Aruba). The label
 * `("posta ordinaria")` for non-PEC recipients is UNCONFIRMED (RFC: "ordinary mail").
 */
export function accettazioneBody(f: BodyFacts, recipients: readonly { address: string; tipo: "certificato" | "esterno" }[]): BodyModel {
  const it = recipients.map((r) => `${r.address} (${r.tipo === "esterno" ? '"posta ordinaria"' : '"posta certificata"'})`);
  const en = recipients.map((r) => `${r.address} (${r.tipo === "esterno" ? '"ordinary mail"' : '"certified mail"'})`);
  return {
    it: {
      title: "Ricevuta di accettazione",
      lines: [
        `${quandoIt(f.data)} il messaggio`,
        `${q(f.subject)} proveniente da ${q(f.sender)}`,
        "ed indirizzato a:",
        { list: it },
        "è stato accettato dal sistema ed inoltrato.",
        `Identificativo messaggio: ${f.identificativo}`,
      ],
    },
    en: {
      title: "Acceptance notification",
      lines: [
        `${quandoEn(f.data)} the message`,
        `${q(f.subject)} from ${q(f.sender)}`,
        "and addressed to:",
        { list: en },
        "has been accepted by the system and forwarded.",
        `Message identifier: ${f.identificativo}`,
      ],
    },
  };
}

/**
 * Avviso di non accettazione. Formal errors: sentences verbatim from a real notice
 * (spec §4.4, emarche.it); the title "Errore nell'accettazione del messaggio" is
 * UNCONFIRMED. Virus: UNCONFIRMED reconstruction (spec §4.5).
 */
export function nonAccettazioneBody(f: BodyFacts, recipients: readonly string[], virus: boolean, erroreEsteso: string): BodyModel {
  return {
    it: {
      title: virus ? "Errore nell'accettazione del messaggio per presenza di virus" : "Errore nell'accettazione del messaggio",
      lines: [
        `${quandoIt(f.data)} nel messaggio ${q(f.subject)} proveniente da ${q(f.sender)}`,
        "ed indirizzato a:",
        { list: recipients },
        virus
          ? `è stato rilevato un problema di sicurezza: ${erroreEsteso}`
          : `è stato rilevato un problema che ne impedisce l'accettazione: a causa di ${erroreEsteso}`,
        "Il messaggio non è stato accettato.",
        `Identificativo messaggio: ${f.identificativo}`,
      ],
    },
    en: {
      title: virus ? "Error in message acceptance due to virus presence" : "Error in message acceptance",
      lines: [
        `${quandoEn(f.data)} in the message ${q(f.subject)} from ${q(f.sender)}`,
        "and addressed to:",
        { list: recipients },
        virus
          ? `a security problem was detected: ${erroreEsteso}`
          : `a problem was detected that prevents its acceptance, due to: ${erroreEsteso}`,
        "The message was not accepted.",
        `Message identifier: ${f.identificativo}`,
      ],
    },
  };
}

/** Ricevuta di presa in carico — UNCONFIRMED reconstruction (spec §4.6). */
export function presaInCaricoBody(f: BodyFacts, ricezione: readonly string[]): BodyModel {
  return {
    it: {
      title: "Ricevuta di presa in carico",
      lines: [
        `${quandoIt(f.data)} il messaggio`,
        `${q(f.subject)} proveniente da ${q(f.sender)}`,
        "ed indirizzato a:",
        { list: ricezione },
        "è stato accettato dal sistema.",
        `Identificativo messaggio: ${f.identificativo}`,
      ],
    },
    en: {
      title: "Take-charge notification",
      lines: [
        `${quandoEn(f.data)} the message`,
        `${q(f.subject)} from ${q(f.sender)}`,
        "and addressed to:",
        { list: ricezione },
        "has been accepted by the system.",
        `Message identifier: ${f.identificativo}`,
      ],
    },
  };
}

/**
 * Ricevuta di avvenuta consegna — Italian verbatim (spec §4.7, Aruba). The titles of the
 * breve and sintetica variants ("Ricevuta breve/sintetica di avvenuta consegna") are
 * UNCONFIRMED.
 */
export function consegnaBody(f: BodyFacts, consegna: string, ricevuta: RicevutaTipo): BodyModel {
  const itTitle = { completa: "Ricevuta di avvenuta consegna", breve: "Ricevuta breve di avvenuta consegna", sintetica: "Ricevuta sintetica di avvenuta consegna" }[ricevuta];
  const enTitle = { completa: "Delivery notification", breve: "Brief delivery notification", sintetica: "Concise delivery notification" }[ricevuta];
  return {
    it: {
      title: itTitle,
      lines: [
        `${quandoIt(f.data)} il messaggio`,
        `${q(f.subject)} proveniente da ${q(f.sender)}`,
        `ed indirizzato a ${q(consegna)}`,
        "è stato consegnato nella casella di destinazione.",
        `Identificativo messaggio: ${f.identificativo}`,
      ],
    },
    en: {
      title: enTitle,
      lines: [
        `${quandoEn(f.data)} the message`,
        `${q(f.subject)} from ${q(f.sender)}`,
        `and addressed to ${q(consegna)}`,
        "was delivered to the destination mailbox.",
        `Message identifier: ${f.identificativo}`,
      ],
    },
  };
}

/**
 * Avviso di mancata consegna — Italian verbatim (spec §4.8, Aruba). The virus variant
 * (spec §4.10) is an UNCONFIRMED reconstruction.
 */
export function erroreConsegnaBody(f: BodyFacts, consegna: string, virus: boolean, erroreEsteso: string): BodyModel {
  return {
    it: {
      title: virus ? "Avviso di mancata consegna per virus" : "Avviso di mancata consegna",
      lines: [
        `${quandoIt(f.data)} nel messaggio`,
        `${q(f.subject)} proveniente da ${q(f.sender)}`,
        `e destinato all'utente ${q(consegna)}`,
        virus ? `è stato rilevato un problema di sicurezza: ${erroreEsteso}` : `è stato rilevato un errore ${erroreEsteso}.`,
        virus ? "Il messaggio non è stato consegnato." : "Il messaggio è stato rifiutato dal sistema.",
        `Identificativo messaggio: ${f.identificativo}`,
      ],
    },
    en: {
      title: virus ? "Non-delivery notification due to virus" : "Non-delivery notification",
      lines: [
        `${quandoEn(f.data)} the message`,
        `${q(f.subject)} from ${q(f.sender)}`,
        `addressed to the user ${q(consegna)}`,
        virus ? `a security problem was detected: ${erroreEsteso}` : `encountered an error: ${erroreEsteso}.`,
        virus ? "The message was not delivered." : "The message was rejected by the system.",
        `Message identifier: ${f.identificativo}`,
      ],
    },
  };
}

/** Avviso di rilevazione virus — UNCONFIRMED reconstruction (spec §4.9). */
export function rilevazioneVirusBody(f: BodyFacts, consegna: string, erroreEsteso: string): BodyModel {
  return {
    it: {
      title: "Avviso di rilevazione virus",
      lines: [
        `${quandoIt(f.data)} nel messaggio`,
        `${q(f.subject)} proveniente da ${q(f.sender)}`,
        `e destinato all'utente ${q(consegna)}`,
        `è stato rilevato un problema di sicurezza: ${erroreEsteso}`,
        "La trasmissione non è stata completata: il messaggio non è stato inoltrato al destinatario.",
        `Identificativo messaggio: ${f.identificativo}`,
      ],
    },
    en: {
      title: "Virus detection notification",
      lines: [
        `${quandoEn(f.data)} the message`,
        `${q(f.subject)} from ${q(f.sender)}`,
        `addressed to the user ${q(consegna)}`,
        `a security problem was detected: ${erroreEsteso}`,
        "The transmission could not be completed: the message was not forwarded to the recipient.",
        `Message identifier: ${f.identificativo}`,
      ],
    },
  };
}

/**
 * Avviso di mancata consegna per superamento tempo massimo — UNCONFIRMED reconstruction
 * (spec §4.11). The 12 h text names "12 ore"/"12 hours"; the 24 h text names "24
 * ore"/"24 hours" and never "12", since only the text tells them apart.
 */
export function timeoutBody(f: BodyFacts, consegna: string, kind: "preavviso" | "scadenza", erroreEsteso?: string): BodyModel {
  const detailIt = erroreEsteso === undefined ? [] : [`Dettaglio: ${erroreEsteso}`];
  const detailEn = erroreEsteso === undefined ? [] : [`Detail: ${erroreEsteso}`];
  if (kind === "preavviso") {
    return {
      it: {
        title: "Preavviso di mancata consegna per superamento tempo massimo",
        lines: [
          `${quandoIt(f.data)} il messaggio`,
          `${q(f.subject)} proveniente da ${q(f.sender)}`,
          `e destinato all'utente ${q(consegna)}`,
          "non risulta consegnato entro le prime 12 ore dal suo invio.",
          "Il gestore del destinatario potrebbe non essere in grado di consegnarlo: la consegna è ancora possibile,",
          "ma occorre considerare l'eventualità di un esito negativo.",
          "Se entro le successive 12 ore non perverrà la ricevuta di avvenuta consegna, seguirà un ulteriore avviso.",
          ...detailIt,
          `Identificativo messaggio: ${f.identificativo}`,
        ],
      },
      en: {
        title: "Delivery delay warning",
        lines: [
          `${quandoEn(f.data)} the message`,
          `${q(f.subject)} from ${q(f.sender)}`,
          `addressed to the user ${q(consegna)}`,
          "has not been delivered within the first 12 hours following its dispatch.",
          "The recipient's provider might be unable to deliver it: delivery is still possible,",
          "but a negative outcome should be considered.",
          "Another notice will follow if no delivery receipt arrives within the next 12 hours.",
          ...detailEn,
          `Message identifier: ${f.identificativo}`,
        ],
      },
    };
  }
  return {
    it: {
      title: "Avviso di mancata consegna per superamento tempo massimo",
      lines: [
        `${quandoIt(f.data)} il messaggio`,
        `${q(f.subject)} proveniente da ${q(f.sender)}`,
        `e destinato all'utente ${q(consegna)}`,
        "non risulta consegnato entro 24 ore dal suo invio.",
        "La transazione è da considerarsi conclusa con esito negativo.",
        ...detailIt,
        `Identificativo messaggio: ${f.identificativo}`,
      ],
    },
    en: {
      title: "Delivery timeout notification",
      lines: [
        `${quandoEn(f.data)} the message`,
        `${q(f.subject)} from ${q(f.sender)}`,
        `addressed to the user ${q(consegna)}`,
        "has not been delivered within 24 hours of its dispatch.",
        "The transaction is considered terminated with a negative outcome.",
        ...detailEn,
        `Message identifier: ${f.identificativo}`,
      ],
    },
  };
}
