// Shared data of the daticert tests: the scenario of spec §5.3 and small utilities.
import type { Daticert, Destinatario } from "../../src/daticert/index.js";
import { PecError } from "../../src/errors.js";
import { expect } from "vitest";

export const MARIO = "mario.rossi@pec.mittente.example";
export const ANNA = "anna.bianchi@pec.destinatario.example";
export const LUCA = "luca.verdi@pec.destinatario.example";
export const INFO = "info@azienda.example";
export const MSGID = "<20240315.abc123@client.example>";
export const IDENT = "opec001.20240315103000.12345.01.1.1@pec.mittente.example";
export const G_MITT = "Gestore Mittente S.p.A.";
export const G_DEST = "Gestore Destinatario S.p.A.";

export const THREE: Destinatario[] = [
  { address: ANNA, tipo: "certificato" },
  { address: INFO, tipo: "esterno" },
  { address: LUCA, tipo: "certificato" },
];
export const ONE: Destinatario[] = [{ address: ANNA, tipo: "certificato" }];

/** A model of the scenario; `dati` fields override the defaults. */
export function model(
  tipo: Daticert["tipo"],
  errore: Daticert["errore"],
  destinatari: Destinatario[],
  dati: Partial<Daticert["dati"]> & { ora?: string },
): Daticert {
  const { ora = "10:30:00", ...rest } = dati;
  return {
    tipo,
    errore,
    intestazione: { mittente: MARIO, destinatari, risposte: MARIO, oggetto: "Offerta n. 12/2024" },
    dati: {
      gestoreEmittente: G_MITT,
      data: { zona: "+0100", giorno: "15/03/2024", ora },
      identificativo: IDENT,
      msgid: MSGID,
      ricezione: [],
      ...rest,
    },
  };
}

/** Runs `fn` and returns the PecError it throws (fails the test otherwise). */
export function catchPec(fn: () => unknown): PecError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PecError);
    return e as PecError;
  }
  throw new Error("expected a PecError, nothing was thrown");
}

/** The smallest valid document, with `inner` replacing the default oggetto element. */
export function doc(oggetto = "<oggetto>Prova</oggetto>", decl = '<?xml version="1.0" encoding="UTF-8"?>\n'): string {
  return (
    decl +
    '<postacert tipo="accettazione" errore="nessuno">\n' +
    "  <intestazione>\n" +
    "    <mittente>a@pec.example</mittente>\n" +
    '    <destinatari tipo="certificato">b@pec.example</destinatari>\n' +
    "    <risposte>a@pec.example</risposte>\n" +
    `    ${oggetto}\n` +
    "  </intestazione>\n" +
    "  <dati>\n" +
    "    <gestore-emittente>Gestore S.p.A.</gestore-emittente>\n" +
    '    <data zona="+0100"><giorno>15/03/2024</giorno><ora>10:30:00</ora></data>\n' +
    "    <identificativo>id1@pec.example</identificativo>\n" +
    "    <msgid>&lt;m1@client&gt;</msgid>\n" +
    "  </dati>\n" +
    "</postacert>\n"
  );
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** ISO-8859-1 bytes of a string made of code points < 256. */
export function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) throw new Error("not latin1");
    out[i] = c;
  }
  return out;
}
