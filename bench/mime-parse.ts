/**
 * Benchmark: postacert's parseMime against postal-mime on generated PEC-shaped messages
 * of about 10 MB and 100 MB.
 *
 * Run (Node 20 has no type stripping, so compile this file and the sources it imports):
 *
 *   npx tsc --outDir bench/tmp --rootDir . --module nodenext --moduleResolution nodenext \
 *     --target es2022 --skipLibCheck --types node bench/mime-parse.ts
 *   node bench/tmp/bench/mime-parse.js            # or: node bench/tmp/bench/mime-parse.js 10
 *
 * (On Node ≥ 22.18, `node bench/mime-parse.ts` also works once the sources use `.ts`
 * specifiers; they use `.js`, as NodeNext requires, hence the compile step.)
 *
 * The message is a busta di trasporto: multipart/signed → multipart/mixed (text,
 * daticert.xml, message/rfc822 postacert.eml → multipart/mixed (text, base64
 * attachments)) + smime.p7s. "parseMime" parses the tree and reads every header of
 * every entity (value and RFC 2047 decoding); "parseMime + decode" also transfer-decodes
 * every leaf body, which is closer to what postal-mime does (it decodes attachments).
 */
import PostalMime from "postal-mime";
import { buildMime, parseMime, walkEntities } from "../src/mime/index.js";
import type { MimeNode } from "../src/mime/index.js";

function filler(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 255;
  }
  return out;
}

function makeBusta(totalBytes: number): Uint8Array {
  // base64 grows data by 4/3 plus CRLF every 76 characters.
  const attachmentBytes = Math.floor((totalBytes - 20_000) * (3 / 4) * (76 / 78));
  const count = 4;
  const original: MimeNode = {
    headers: [
      ["Date", "Mon, 22 Nov 2026 10:00:00 +0100"],
      ["From", "Mario Rossi <mario.rossi@pec.example.it>"],
      ["To", "uffici@pec.comune.example.it"],
      ["Subject", "Invio documentazione pratica n° 12/2026 — città di Forlì"],
      ["Message-ID", "<opec210312.20261122100000.12345.1.1.1@pec.example.it>"],
      ["X-Riferimento-Message-ID", "<orig.12345@client.example.it>"],
      ["MIME-Version", "1.0"],
      ["Content-Type", "multipart/mixed"],
    ],
    children: [
      { headers: [["Content-Type", "text/plain; charset=utf-8"]], body: "Buongiorno,\nin allegato la documentazione.\n".repeat(20) },
      ...Array.from({ length: count }, (_, i) => ({
        headers: [
          ["Content-Type", `application/pdf; name="allegato-${i + 1}.pdf"`],
          ["Content-Disposition", `attachment; filename="allegato-${i + 1}.pdf"`],
        ] as [string, string][],
        body: filler(Math.floor(attachmentBytes / count), i + 1),
      })),
    ],
  };
  const daticert =
    '<?xml version="1.0" encoding="UTF-8"?>\n<postacert tipo="posta-certificata" errore="nessuno"><intestazione>' +
    "<mittente>mario.rossi@pec.example.it</mittente></intestazione><dati><gestore-emittente>EXAMPLE PEC</gestore-emittente>" +
    "</dati></postacert>\n";
  const mixed = buildMime({
    headers: [["Content-Type", "multipart/mixed"]],
    children: [
      {
        headers: [["Content-Type", "text/plain; charset=iso-8859-1"]],
        body: new TextEncoder().encode("Messaggio di posta certificata\r\n".repeat(10)),
      },
      {
        headers: [
          ["Content-Type", 'application/xml; name="daticert.xml"'],
          ["Content-Disposition", 'inline; filename="daticert.xml"'],
        ],
        body: new TextEncoder().encode(daticert),
        transferEncoding: "base64",
      },
      { headers: [["Content-Type", 'message/rfc822; name="postacert.eml"']], children: [original] },
    ],
  });
  return buildMime({
    headers: [
      ["Return-Path", "<posta-certificata@pec.example.it>"],
      ["Received", "from smtp.pec.example.it by mx.pec.example.it with ESMTPS id 4825; Mon, 22 Nov 2026 10:00:01 +0100"],
      ["Date", "Mon, 22 Nov 2026 10:00:00 +0100"],
      ["Subject", "POSTA CERTIFICATA: Invio documentazione pratica n° 12/2026 — città di Forlì"],
      ["From", '"Per conto di: mario.rossi@pec.example.it" <posta-certificata@pec.example.it>'],
      ["To", "uffici@pec.comune.example.it"],
      ["X-Trasporto", "posta-certificata"],
      ["X-TipoRicevuta", "completa"],
      ["X-Riferimento-Message-ID", "<orig.12345@client.example.it>"],
      ["Message-ID", "<opec210312.20261122100000.12345.1.1.1@pec.example.it>"],
      ["MIME-Version", "1.0"],
      ["Content-Type", 'multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256'],
    ],
    children: [
      { raw: mixed },
      {
        headers: [
          ["Content-Type", 'application/pkcs7-signature; name="smime.p7s"'],
          ["Content-Disposition", 'attachment; filename="smime.p7s"'],
        ],
        body: filler(4000, 99),
      },
    ],
  });
}

function touchAll(bytes: Uint8Array, decode: boolean): number {
  const root = parseMime(bytes);
  let n = 0;
  for (const e of walkEntities(root)) {
    for (const h of e.headers) n += h.value.length + h.decoded.length;
    n += e.contentType.mimeType.length + (e.filename?.length ?? 0);
    if (decode && e.children.length === 0) n += e.decodedBody().length;
  }
  return n;
}

function best(runs: number, f: () => unknown): number {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    f();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

async function bestAsync(runs: number, f: () => Promise<unknown>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const mbs = (bytes: number, ms: number): string => ((bytes / 1e6) / (ms / 1000)).toFixed(0).padStart(7) + " MB/s";

for (const mb of sizes.length > 0 ? sizes : [10, 100]) {
  const bytes = makeBusta(mb * 1e6);
  const size = bytes.length;
  touchAll(bytes, false); // warm-up
  const runs = mb >= 100 ? 5 : 15;
  const tParse = best(runs, () => touchAll(bytes, false));
  const tDecode = best(Math.max(2, Math.floor(runs / 2)), () => touchAll(bytes, true));
  const tPostal = await bestAsync(mb >= 100 ? 2 : 3, () => PostalMime.parse(bytes));
  console.log(`message: ${(size / 1e6).toFixed(1)} MB`);
  console.log(`  parseMime           ${tParse.toFixed(1).padStart(8)} ms ${mbs(size, tParse)}   ${(tPostal / tParse).toFixed(0)}x postal-mime`);
  console.log(`  parseMime + decode  ${tDecode.toFixed(1).padStart(8)} ms ${mbs(size, tDecode)}   ${(tPostal / tDecode).toFixed(1)}x postal-mime`);
  console.log(`  postal-mime         ${tPostal.toFixed(1).padStart(8)} ms ${mbs(size, tPostal)}`);
}
