// The real samples of ../shared/wild used by the verifier's tests, and how to verify one.
import { verifyCms, type CmsVerification } from "../../../src/smime/verify.js";
import { readWild } from "../../support/wild.js";
import { splitSigned, toCrlf } from "./split.js";

/** Intact signatures ("sig OK" in SOURCES.md), with the digest the gestore used. */
export const WILD_OK: Readonly<Record<string, "SHA-1" | "SHA-256">> = {
  "OCA__l10n-italy/ACCETTAZIONE_ IT03339130126_00009.xml.txt": "SHA-1",
  "OCA__l10n-italy/CONSEGNA_ IT03339130126_00009.xml.txt": "SHA-1",
  "OCA__l10n-italy/POSTA CERTIFICATA_ Ricevuta di consegna 6782414.txt": "SHA-1",
  "OCA__l10n-italy/POSTA CERTIFICATA_ Invio File 7339338.txt": "SHA-1",
  "OCA__l10n-italy/message1": "SHA-1",
  "OCA__l10n-italy/message2": "SHA-1",
  "OCA__l10n-italy/message2_accettazione": "SHA-1",
  "OCA__l10n-italy/message2_consegna": "SHA-1",
  "3dinformatica__docway-msa/java.lang.ClassCastException.eml": "SHA-1",
  "3dinformatica__docway-msa/address_exception.eml": "SHA-1",
  "3dinformatica__docway-msa/daticertEncoding2.eml": "SHA-256",
  "3dinformatica__docway-msa/domain_contains_control_or_whitespace.eml": "SHA-1",
  "3dinformatica__docway-msa/erroreParsingEccezioneXML.eml": "SHA-1",
  "3dinformatica__docway-msa/fattura_passiva_privati_1.eml": "SHA-256",
  "3dinformatica__docway-msa/fattura_passiva_privati_2.eml": "SHA-256",
  "3dinformatica__docway-msa/notWellFormed_2.eml": "SHA-1",
  "3dinformatica__docway-msa/segnatura_allegati_non_validi.eml": "SHA-1",
  "3dinformatica__docway-msa/segnatura_solo_testo.eml": "SHA-1",
  "3dinformatica__docway-msa/segnatura-tags.eml": "SHA-1",
  "3dinformatica__docway-msa/utf7.eml": "SHA-1",
  "3dinformatica__docway-msa/NoReply01.eml": "SHA-1",
  "3dinformatica__docway-msa/NoReply02.eml": "SHA-1",
  "3dinformatica__docway-msa/NoReply03.eml": "SHA-1",
  "3dinformatica__docway-msa/NoReply04.eml": "SHA-1",
  "3dinformatica__docway-msa/NoReply05.eml": "SHA-1",
  "linux-mailinglist-archives__osst-users.lists.sourceforge.net.0/m": "SHA-1",
};

/** Verifies as received, then (as OpenSSL does) with line ends canonicalised to CRLF. */
export async function verifyWild(name: string): Promise<{ res: CmsVerification; crlf: boolean; p7s: Uint8Array; signed: Uint8Array }> {
  const parts = splitSigned(await readWild(name));
  if (!parts) throw new Error(`no multipart/signed in ${name}`);
  let res = await verifyCms({ cms: parts.p7s, content: parts.signed });
  if (res.valid) return { res, crlf: false, ...parts };
  const signed = toCrlf(parts.signed);
  if (signed !== parts.signed) {
    const again = await verifyCms({ cms: parts.p7s, content: signed });
    if (again.valid || !res.signers.length) return { res: again, crlf: true, p7s: parts.p7s, signed };
    res = again;
  }
  return { res, crlf: signed !== parts.signed, p7s: parts.p7s, signed };
}

