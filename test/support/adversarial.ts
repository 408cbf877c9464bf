// Inputs under the default size limits that made a loop quadratic (see quadratic.test.ts and
// linear.node.test.ts): one for what they read as, one for the time they take.
import { latin1Bytes } from "../../src/util/bytes.js";

/** `a0="" a1="" …`: about 10 bytes an attribute. */
export function manyAttributes(n: number): string {
  return Array.from({ length: n }, (_, i) => `a${i}=""`).join(" ");
}

/** A well-formed accettazione daticert.xml whose root element also carries `attributes`. */
export function daticertWithAttributes(attributes: string): Uint8Array {
  return latin1Bytes(
    `<?xml version="1.0"?><postacert ${attributes} tipo="accettazione" errore="nessuno"><intestazione><mittente>a@b.it</mittente>` +
      '<destinatari tipo="certificato">c@d.it</destinatari><risposte>a@b.it</risposte><oggetto>x</oggetto></intestazione>' +
      '<dati><gestore-emittente>G</gestore-emittente><data zona="+0100"><giorno>01/01/2026</giorno><ora>10:00:00</ora></data>' +
      "<identificativo>x</identificativo><msgid>&lt;m@x&gt;</msgid></dati></postacert>",
  );
}

/** `text/plain; a*0=A;a*1=A;…` with the given segment indices: about 10 bytes a segment. */
export function rfc2231Segments(indices: readonly number[]): string {
  return "text/plain; " + indices.map((i) => `a*${i}=A`).join(";");
}
