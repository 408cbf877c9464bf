// RFC 3676 format=flowed, as readPec shows a text/plain body: soft breaks joined, space-stuffing
// undone, quote depth kept, the signature separator never joined.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { buildBusta, transactionFromOriginal } from "../../src/pec/build/index.js";
import { readPec } from "../../src/pec/read.js";
import type { PecOriginal } from "../../src/pec/types.js";
import { DATE, IDENTIFICATIVO, type Pki, SENDER, ANNA, makePki } from "../build/helpers.js";

const enc = new TextEncoder();
let pki: Pki;
beforeAll(async () => {
  pki = await makePki();
}, 60_000);

/** The original, as read back from a busta, of a one-part message with this Content-Type and body. */
async function original(contentType: string, body: string): Promise<PecOriginal> {
  const m = enc.encode(`From: ${SENDER}\r\nTo: ${ANNA}\r\nSubject: s\r\nMessage-ID: <flowed@client.test>\r\nContent-Type: ${contentType}\r\n\r\n${body}`);
  const busta = await buildBusta(pki.alfa, transactionFromOriginal(m, { identificativo: IDENTIFICATIVO }), { original: m, date: DATE });
  return readPec(busta.bytes).original!;
}

/** Wraps paragraphs as a flowed writer does (RFC 3676 §4.2, §4.4): soft breaks after spaces, space-stuffing. */
function flow(paragraphs: string[], width: number): string {
  const lines: string[] = [];
  for (const p of paragraphs) {
    const words = p.split(" ");
    let line = "";
    for (let i = 0; i < words.length; i++) {
      const w = words[i]! + (i < words.length - 1 ? " " : "");
      if (line !== "" && line.length + w.length > width) {
        lines.push(line);
        line = "";
      }
      line += w;
    }
    lines.push(line);
  }
  return lines.map((l) => (/^( |>|From )/.test(l) ? " " + l : l)).join("\r\n") + "\r\n";
}

describe("format=flowed text", () => {
  it("joins soft breaks as mail clients show them; without format=flowed the lines stay", async () => {
    const body = "nato a Grosseto (GR) \r\nil 26/01/1969.\r\n\r\n> citato \r\n> insieme\r\n>> piu' \r\n>> profondo\r\n-- \r\nMario\r\n";
    const flowed = await original("text/plain; charset=utf-8; format=flowed", body);
    expect(flowed.text).toBe("nato a Grosseto (GR) il 26/01/1969.\r\n\r\n> citato insieme\r\n>> piu' profondo\r\n-- \r\nMario\r\n");
    expect((await original("text/plain; charset=utf-8", body)).text).toBe(body);
    expect((await original("text/plain; format=flowed; delsp=yes", "abc\r\ndef \r\nghi\r\n")).text).toBe("abc\r\ndefghi\r\n");
  });

  it("gives back the paragraphs a flowed writer wrapped (property)", async () => {
    const word = fc.string({ unit: fc.constantFrom("a", "b", "è", ">", "F", "r", "o", "m", "-", "."), minLength: 1, maxLength: 12 });
    const paragraph = fc.array(word, { minLength: 1, maxLength: 20 }).map((w) => w.join(" "));
    await fc.assert(
      fc.asyncProperty(fc.array(paragraph, { minLength: 1, maxLength: 6 }), fc.integer({ min: 10, max: 78 }), async (paragraphs, width) => {
        expect((await original("text/plain; charset=utf-8; format=flowed", flow(paragraphs, width))).text).toBe(paragraphs.join("\r\n") + "\r\n");
      }),
      { seed: 3676, numRuns: 150 },
    );
  });
});
