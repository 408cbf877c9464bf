// The original message: composing, the punto di accesso's edit, transaction facts.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeHeaderValue, parseMime } from "../../src/mime/index.js";
import {
  buildAnomalia,
  buildBusta,
  composeMessage,
  deliveryReceiptType,
  newIdentificativo,
  prepareOriginal,
  transactionFromBusta,
  transactionFromOriginal,
} from "../../src/pec/build/index.js";
import { readPec } from "../../src/pec/read.js";
import { ANNA, DATE, ESTERNO, IDENTIFICATIVO, LUCA, MSGID, PDF, type Pki, SENDER, SUBJECT, hasBareLineBreaks, makeOriginal, makePki, txOf } from "./helpers.js";

const enc = new TextEncoder();
const dec = (b: Uint8Array): string => new TextDecoder("latin1").decode(b);

/** The bytes from the end of the header block on. */
function bodyOf(bytes: Uint8Array): Uint8Array {
  const root = parseMime(bytes);
  return bytes.subarray(root.bodyStart);
}

describe("prepareOriginal", () => {
  it("replaces Message-ID in place, appends X-Riferimento-Message-ID, keeps the body byte for byte", () => {
    const original = makeOriginal();
    const prepared = prepareOriginal(original, { identificativo: IDENTIFICATIVO });
    const root = parseMime(prepared);
    expect(root.headerAll("message-id")).toEqual([`<${IDENTIFICATIVO}>`]);
    expect(root.headerAll("x-riferimento-message-id")).toEqual([MSGID]);
    expect(bodyOf(prepared)).toEqual(bodyOf(original));
    // Same field order, Message-ID where it was, X-Riferimento last.
    const before = parseMime(original).headers.map((h) => h.lname);
    expect(root.headers.map((h) => h.lname)).toEqual([...before, "x-riferimento-message-id"]);
    // Every other field byte for byte.
    const origFields = parseMime(original).headers.filter((h) => h.lname !== "message-id").map((h) => dec(h.raw));
    const newFields = root.headers.filter((h) => h.lname !== "message-id" && h.lname !== "x-riferimento-message-id").map((h) => dec(h.raw));
    expect(newFields).toEqual(origFields);
  });

  it("is idempotent", () => {
    const prepared = prepareOriginal(makeOriginal(), { identificativo: IDENTIFICATIVO });
    expect(prepareOriginal(prepared, { identificativo: IDENTIFICATIVO })).toBe(prepared);
  });

  it("keeps LF line endings of an LF message and adds lines in that style", () => {
    const lf = enc.encode("From: a@pec.alfa.test\nTo: b@pec.beta.test\nMessage-ID: <x@y>\nSubject: s\n\nbody\r\nmixed\n");
    const out = dec(prepareOriginal(lf, { identificativo: "id1@pec.alfa.test" }));
    expect(out).toBe("From: a@pec.alfa.test\nTo: b@pec.beta.test\nMessage-ID: <id1@pec.alfa.test>\nSubject: s\nX-Riferimento-Message-ID: <x@y>\n\nbody\r\nmixed\n");
  });

  it("adds a Message-ID when there is none (and no X-Riferimento-Message-ID)", () => {
    const m = enc.encode("From: a@pec.alfa.test\r\nTo: b@pec.beta.test\r\nSubject: s\r\n\r\nbody\r\n");
    expect(dec(prepareOriginal(m, { identificativo: "id1@pec.alfa.test" }))).toBe(
      "From: a@pec.alfa.test\r\nTo: b@pec.beta.test\r\nSubject: s\r\nMessage-ID: <id1@pec.alfa.test>\r\n\r\nbody\r\n",
    );
  });

  it("copies a folded Message-ID byte for byte, drops an earlier X-Riferimento-Message-ID and duplicate Message-IDs", () => {
    const m = enc.encode("X-Riferimento-Message-ID: <old@x>\r\nMessage-ID:\r\n <folded@client>\r\nMessage-ID: <dup@client>\r\nFrom: a@pec.alfa.test\r\n\r\nbody");
    expect(dec(prepareOriginal(m, { identificativo: "id1@pec.alfa.test" }))).toBe(
      "Message-ID: <id1@pec.alfa.test>\r\nFrom: a@pec.alfa.test\r\nX-Riferimento-Message-ID:\r\n <folded@client>\r\n\r\nbody",
    );
  });

  it("handles a message that is only a header block", () => {
    const m = enc.encode("From: a@pec.alfa.test\r\nMessage-ID: <m@x>");
    expect(dec(prepareOriginal(m, { identificativo: "id1@pec.alfa.test" }))).toBe(
      "From: a@pec.alfa.test\r\nMessage-ID: <id1@pec.alfa.test>\r\nX-Riferimento-Message-ID: <m@x>\r\n",
    );
  });
});

describe("composeMessage", () => {
  it("writes a plain RFC 5322 message that parses back", () => {
    const m = composeMessage({
      from: { name: "Mario Rossi", address: SENDER },
      to: [ANNA, { name: "Ufficio Città", address: ESTERNO }],
      cc: LUCA,
      replyTo: "segreteria@pec.alfa.test",
      subject: "Città € 🚀",
      text: "ciao\nè",
      attachments: [{ filename: "a b è.pdf", contentType: "application/pdf", content: PDF }],
      date: DATE,
      messageId: "m1@client",
      tipoRicevuta: "breve",
      headers: [["X-Mailer", "postacert tests"]],
    });
    expect(hasBareLineBreaks(m)).toBe(false);
    const pec = readPec(m);
    expect(pec.type).toBe("not-pec");
    const root = parseMime(m);
    expect(root.header("message-id")).toBe("<m1@client>");
    expect(root.header("x-tiporicevuta")).toBe("breve");
    expect(root.header("x-mailer")).toBe("postacert tests");
    expect(root.header("date")).toBe("Fri, 15 Mar 2024 10:30:00 +0100");
    expect(pec.subject).toBe("Città € 🚀");
    const tx = transactionFromOriginal(m, { identificativo: IDENTIFICATIVO });
    expect(tx).toEqual({
      sender: SENDER,
      recipients: [
        { address: ANNA, tipo: "certificato", field: "to" },
        { address: ESTERNO, tipo: "certificato", field: "to" },
        { address: LUCA, tipo: "certificato", field: "cc" },
      ],
      replyTo: "segreteria@pec.alfa.test",
      subject: "Città € 🚀",
      identificativo: IDENTIFICATIVO,
      msgid: "<m1@client>",
      ricevuta: "breve",
    });
    const att = root.children[1]!;
    expect(att.filename).toBe("a b è.pdf");
    expect(att.decodedBody()).toEqual(PDF);
  });

  it("writes non-ASCII display names as encoded words", () => {
    const m = composeMessage({ from: { name: "Niccolò Ü", address: SENDER }, to: ANNA, subject: "x", text: "y" });
    const from = parseMime(m).header("from")!;
    expect(from).toMatch(/^=\?UTF-8\?B\?[^ ]+\?= <mario\.rossi@pec\.alfa\.test>$/);
    // An ASCII name holding "=?" too: readers decode encoded words even in a quoted string.
    const odd = composeMessage({ from: { name: "Studio =?UTF-8?Q?x?= Rossi", address: SENDER }, to: ANNA, subject: "x", text: "y" });
    expect(decodeHeaderValue(parseMime(odd).header("from")!)).toBe(`Studio =?UTF-8?Q?x?= Rossi <${SENDER}>`);
  });

  it("makes a single text/plain without attachments, and a Message-ID at the sender's domain", () => {
    const m = composeMessage({ from: SENDER, to: ANNA, subject: "x", text: "y" });
    const root = parseMime(m);
    expect(root.contentType.mimeType).toBe("text/plain");
    expect(root.header("message-id")).toMatch(/^<[0-9a-f]+@pec\.alfa\.test>$/);
  });
});

describe("transaction facts", () => {
  it("transactionFromOriginal reads sender, To then Cc with their type, Reply-To default, msgid, X-TipoRicevuta", () => {
    expect(txOf(makeOriginal("sintetica"))).toEqual({
      sender: SENDER,
      recipients: [
        { address: ANNA, tipo: "certificato", field: "to" },
        { address: ESTERNO, tipo: "esterno", field: "to" },
        { address: LUCA, tipo: "certificato", field: "cc" },
      ],
      subject: SUBJECT,
      identificativo: IDENTIFICATIVO,
      msgid: MSGID,
      ricevuta: "sintetica",
    });
  });

  it("on a prepared original, msgid comes from X-Riferimento-Message-ID", () => {
    const prepared = prepareOriginal(makeOriginal(), { identificativo: IDENTIFICATIVO });
    expect(txOf(prepared).msgid).toBe(MSGID);
  });

  it("flattens CR/LF hidden in an encoded-word subject instead of refusing the message", () => {
    const m = enc.encode(`From: ${SENDER}\r\nTo: ${ANNA}\r\nSubject: =?UTF-8?Q?a=0D=0ABcc:_x@y?=\r\n\r\n`);
    expect(transactionFromOriginal(m, { identificativo: IDENTIFICATIVO }).subject).toBe("a  Bcc: x@y");
  });

  it("a display name whose encoded word holds a comma, semicolon or angle bracket stays one mailbox", () => {
    // As mail clients write "Surname, Name" with an accent; composeMessage too.
    const composed = composeMessage({
      from: { name: "Rossi, Mario è", address: SENDER },
      to: [{ name: "Bianchi, Anna è", address: ANNA }, { name: "Uff. <protocollo>; sede è", address: LUCA }],
      subject: SUBJECT,
      text: "x",
    });
    expect(dec(composed)).toMatch(/^To: =\?UTF-8\?/m);
    const tx = transactionFromOriginal(composed, { identificativo: IDENTIFICATIVO });
    expect(tx.sender).toBe(SENDER);
    expect(tx.recipients.map((r) => r.address)).toEqual([ANNA, LUCA]);
    const pec = readPec(composed);
    expect(pec.from).toBe(SENDER);
    expect(pec.recipients.map((r) => r.address)).toEqual([ANNA, LUCA]);
    // Writers that put a raw comma inside a Q word; and a field written whole as one encoded word.
    const raw = enc.encode(
      `From: =?utf-8?Q?Rossi,_Mario_=C3=A8?= <${SENDER}>\r\nTo: =?utf-8?B?${btoa(`Anna <${ANNA}>, ${LUCA}`)}?=\r\nSubject: s\r\n\r\n`,
    );
    const tx2 = transactionFromOriginal(raw, { identificativo: IDENTIFICATIVO });
    expect(tx2.sender).toBe(SENDER);
    expect(tx2.recipients.map((r) => r.address)).toEqual([ANNA, LUCA]);
  });

  it("a quoted local part stays the address; name words before a bare address are a name, not part of it", () => {
    const m = enc.encode(`From: Mario Rossi ${SENDER}\r\nTo: Ufficio Protocollo ${ANNA}, "mario rossi"@x.it, <"a b"@y.it>\r\nCc: pct@pec. agenziariscossione.gov.it\r\nSubject: s\r\n\r\nx\r\n`);
    const pec = readPec(m);
    expect(pec.from).toBe(SENDER);
    expect(pec.recipients.map((r) => r.address)).toEqual([ANNA, '"mario rossi"@x.it', '"a b"@y.it', "pct@pec.agenziariscossione.gov.it"]);
  });

  it("any display name: the addresses composeMessage wrote are the ones read back (property)", () => {
    const name = fc.string({ unit: fc.constantFrom("a", "Z", " ", ",", ";", ":", "<", ">", '"', "(", ")", "@", "\\", "=?", "?=", "è", "日", "😀"), maxLength: 30 });
    fc.assert(
      fc.property(name, fc.array(name, { minLength: 1, maxLength: 4 }), (from, names) => {
        const to = names.map((n, i) => ({ name: n, address: `r${i}@pec.beta.test` }));
        const m = composeMessage({ from: { name: from, address: SENDER }, to, subject: SUBJECT, text: "x" });
        const pec = readPec(m);
        expect(pec.from).toBe(SENDER);
        expect(pec.recipients.map((r) => r.address)).toEqual(to.map((r) => r.address));
        expect(transactionFromOriginal(m, { identificativo: IDENTIFICATIVO }).recipients.map((r) => r.address)).toEqual(to.map((r) => r.address));
      }),
      { seed: 7, numRuns: 500 },
    );
  });

  it("uses the SMTP sender when given, drops duplicate recipients", () => {
    const m = enc.encode(`From: x@pec.alfa.test\r\nTo: ${ANNA}, ${ANNA}\r\nCc: ${ANNA}\r\nSubject: s\r\n\r\n`);
    const tx = transactionFromOriginal(m, { identificativo: IDENTIFICATIVO, sender: SENDER });
    expect(tx.sender).toBe(SENDER);
    expect(tx.recipients).toEqual([{ address: ANNA, tipo: "certificato", field: "to" }]);
    expect(tx.msgid).toBeUndefined();
  });

  describe("with a PKI", () => {
    let pki: Pki;
    beforeAll(async () => {
      pki = await makePki();
    }, 60_000);

    it("transactionFromBusta gives back the transaction of a busta", async () => {
      const original = makeOriginal("breve");
      const tx = txOf(original);
      const busta = await buildBusta(pki.alfa, tx, { original, date: DATE });
      expect(transactionFromBusta(busta.bytes)).toEqual({ ...tx, replyTo: SENDER });
      expect(transactionFromBusta(readPec(busta.bytes))).toEqual({ ...tx, replyTo: SENDER });
    });

    it("a busta and an anomalia of a message whose display names hold encoded commas name the right recipients", async () => {
      const composed = composeMessage({ from: { name: "Rossi, Mario è", address: SENDER }, to: [{ name: "Bianchi, Anna è", address: ANNA }], cc: LUCA, subject: SUBJECT, text: "x" });
      const busta = await buildBusta(pki.alfa, transactionFromOriginal(composed, { identificativo: IDENTIFICATIVO }), { original: composed, date: DATE });
      const read = readPec(busta.bytes);
      expect(read.original?.to).toEqual([ANNA]);
      expect(read.original?.from).toBe(SENDER);
      const anomalia = await buildAnomalia(pki.beta, { received: composed, reason: "non PEC", date: DATE });
      expect(anomalia.to).toEqual([ANNA, LUCA]);
    });

    it("transactionFromBusta refuses ordinary mail", () => {
      expect(() => transactionFromBusta(makeOriginal())).toThrow(expect.objectContaining({ code: "ERR_NOT_PEC" }));
    });
  });

  it("deliveryReceiptType: requested type for To (or unknown), sintetica for Cc only", () => {
    const tx = txOf(makeOriginal("breve"));
    expect(deliveryReceiptType(tx, ANNA)).toBe("breve");
    expect(deliveryReceiptType(tx, ANNA.toUpperCase())).toBe("breve");
    expect(deliveryReceiptType(tx, LUCA)).toBe("sintetica");
    expect(deliveryReceiptType({ ...tx, ricevuta: undefined }, ANNA)).toBe("completa");
    expect(deliveryReceiptType({ ...tx, ricevuta: undefined }, LUCA)).toBe("sintetica");
    // In To and in Cc: ambiguous, primary.
    const both = { ...tx, recipients: [...tx.recipients, { address: ANNA, field: "cc" as const }] };
    expect(deliveryReceiptType(both, ANNA)).toBe("breve");
    const unknown = { ...tx, recipients: tx.recipients.map((r) => ({ address: r.address })) };
    expect(deliveryReceiptType(unknown, LUCA)).toBe("breve");
  });

  it("newIdentificativo: OpenPEC-like, unique, at the domain, in Italian time", () => {
    const a = newIdentificativo("pec.alfa.test", { date: DATE });
    const b = newIdentificativo("pec.alfa.test", { date: DATE });
    expect(a).toMatch(/^opec[0-9a-f]{6}\.20240315103000\.[0-9a-f]{8}\.1\.1@pec\.alfa\.test$/);
    expect(a).not.toBe(b);
  });
});
