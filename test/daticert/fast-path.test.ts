// The fast daticert readers (src/daticert/parse.ts: the canonical-layout expression, then
// the hand-written fastRead) must give exactly what the saxes reader gives: the same model,
// the same warnings, the same errors. Each is compared on its own. Compared on
// every fixture and real sample, on generated documents in many spellings, and on
// mutations of all of them (most mutations push the document off the fast path, which
// is the point: the hand-over to saxes must be invisible).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { listFiles, readBytes } from "#files";
import { buildDaticert, DATICERT_ERRORE, DATICERT_TIPO, RICEVUTA_TIPO, type Daticert } from "../../src/daticert/index.js";
import {
  daticertCanonicalReads,
  daticertFastReads,
  parseDaticert,
  parseDaticertWithoutCanonical,
  parseDaticertWithSaxes,
  type DaticertParseOptions,
} from "../../src/daticert/parse.js";
import { outcome } from "../support/outcome.js";
import { parseEmbedded, parseMime, type MimeEntity } from "../../src/mime/index.js";
import { latin1 } from "../../src/util/bytes.js";
import { readWild, wildFiles } from "../support/wild.js";

// Node and Chromium: FUZZ_RUNS from import.meta.env or process.env, as in test/hardening/fuzz.test.ts.
const envRuns =
  (import.meta as unknown as { env?: Record<string, string | undefined> }).env?.["FUZZ_RUNS"] ??
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.["FUZZ_RUNS"];
const RUNS = Number.isFinite(Number(envRuns)) && Number(envRuns) > 0 ? Math.floor(Number(envRuns)) : 400;


/** The three readers agree (same JSON, so the same key order too). */
function same(input: Uint8Array | string, options?: DaticertParseOptions): void {
  const reference = outcome(() => parseDaticertWithSaxes(input, options));
  expect(outcome(() => parseDaticertWithoutCanonical(input, options))).toEqual(reference);
  expect(outcome(() => parseDaticert(input, options))).toEqual(reference);
}

function latin1Bytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

/** Every daticert.xml part of a message, also inside attached messages. */
function daticertsOf(root: MimeEntity, out: Uint8Array[], depth = 0): void {
  if (depth > 6) return;
  const stack = [root];
  while (stack.length) {
    const e = stack.pop()!;
    if (e.filename?.toLowerCase() === "daticert.xml") out.push(e.decodedBody());
    stack.push(...e.children);
    if (e.children.length === 0 && e.filename?.toLowerCase().endsWith(".eml")) {
      try {
        daticertsOf(parseEmbedded(e), out, depth + 1);
      } catch {
        /* not a message */
      }
    }
  }
}

const corpus: Uint8Array[] = [];
for (const f of (await listFiles("fixtures/daticert/examples")) ?? []) if (f.endsWith(".xml")) corpus.push(await readBytes(`fixtures/daticert/examples/${f}`));
for (const file of wildFiles ?? []) {
  try {
    daticertsOf(parseMime(await readWild(file)), corpus);
  } catch {
    /* unreadable sample: the MIME suites deal with it */
  }
}

const text = fc.string({ unit: fc.constantFrom("a", "Z", "0", " ", "\t", "\n", "\r", "&", "<", ">", '"', "'", "]", "è", "€", "\u00a0", "😀", ";", "#", "x"), maxLength: 12 });
const address = fc.constantFrom("mario.rossi@pec.alfa.test", " anna@beta.test ", "info@azienda.example");
const model: fc.Arbitrary<Daticert> = fc.record({
  tipo: fc.constantFrom(...DATICERT_TIPO),
  errore: fc.constantFrom(...DATICERT_ERRORE),
  intestazione: fc.record(
    {
      mittente: address,
      destinatari: fc.array(fc.record({ address, tipo: fc.constantFrom("certificato" as const, "esterno" as const) }), { minLength: 1, maxLength: 3 }),
      risposte: address,
      oggetto: text,
    },
    { requiredKeys: ["mittente", "destinatari", "risposte"] },
  ),
  dati: fc.record(
    {
      gestoreEmittente: text.map((t) => "Gestore " + t),
      data: fc.record({ zona: fc.constantFrom("+0100", "+0200", "-0000"), giorno: fc.constant("15/03/2024"), ora: fc.constant("10:30:00") }),
      identificativo: fc.constant("opec1.2@pec.alfa.test"),
      msgid: text.map((t) => `<${t}@x>`),
      ricevuta: fc.constantFrom(...RICEVUTA_TIPO),
      consegna: address,
      ricezione: fc.array(address, { maxLength: 2 }),
      erroreEsteso: text,
    },
    { requiredKeys: ["gestoreEmittente", "data", "identificativo", "ricezione"] },
  ),
});

/** Spelling variations a gestore may write that keep the document on the fast path (mostly). */
const spelling = fc.record({
  newline: fc.constantFrom("\n" as const, "\r\n" as const),
  indent: fc.constantFrom("", "  ", "\t"),
  singleQuotes: fc.boolean(),
  spaceInTags: fc.boolean(),
  upperTokens: fc.boolean(),
  noDeclaration: fc.boolean(),
  latin1: fc.boolean(),
  extraAttribute: fc.boolean(),
  charRefs: fc.boolean(),
});

type Spelling = typeof spelling extends fc.Arbitrary<infer T> ? T : never;

function spell(m: Daticert, s: Spelling): string {
  let x = buildDaticert(m, { newline: s.newline, indent: s.indent, invalidCharacters: "drop" });
  if (s.singleQuotes) x = x.replace(/(\w)="([^"]*)"/g, "$1='$2'");
  if (s.spaceInTags) x = x.replace(/<(\/?)([\w-]+)>/g, "<$1$2 >").replace(/" \/>/g, '"/>');
  if (s.upperTokens) x = x.replace(/tipo="([a-z-]+)"/, (_, t: string) => `tipo=" ${t.toUpperCase()} "`);
  if (s.noDeclaration) x = x.replace(/^<\?xml[^>]*\?>\s*/, "");
  if (s.latin1) x = x.replace(/encoding="UTF-8"/i, 'encoding="ISO-8859-1"');
  if (s.extraAttribute) x = x.replace("<intestazione", '<intestazione lang="it"');
  if (s.spaceInTags) x = x.replace(/zona="([^"]*)"/, 'zona = " $1 "');
  if (s.charRefs) x = x.replace(/(<mittente>)m/, "$1&#109;").replace(/(<oggetto>)/, "$1&#x20AC;&amp;&apos;");
  return x;
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 127 }) }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 12 }) }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    text: fc.constantFrom(
      "<!-- c -->", "<![CDATA[x]]>", "]]>", "<?pi x?>", "<!DOCTYPE postacert>", "&amp;", "&lt;", "&#65;", "&#x41;", "&#X41;", "&#0;", "&#;", "&bogus;", "&",
      "<", ">", "/>", "</", '"', "'", "=", " ", "\t", "\r", "\n", "\r\n", "\u0000", "\u00a0", "è", "\uFFFE", "<x>", "</x>", "<x/>",
      "<mittente>a</mittente>", "<destinatari>b</destinatari>", "<risposte/>", "<oggetto>o</oggetto>", "<msgid>m</msgid>",
      "<ricevuta tipo=\"breve\"/>", "<data zona=\"+0100\"><giorno>1</giorno><ora>2</ora></data>", "<giorno>3</giorno>", "<dati>", "<intestazione>",
      " tipo=\"esterno\"", " zona='x'", " a=\"b\"", " a=\"b\" a=\"c\"", " a=b", "x:y", "<Mittente>", "errore=\"altro\"", "errore=\"boh\"",
    ),
  }),
);

function mutate(t: string, ms: { kind: string; at: number; xor?: number; len?: number; text?: string }[]): string {
  for (const m of ms) {
    const at = t.length ? m.at % (t.length + 1) : 0;
    if (m.kind === "flip" && at < t.length) t = t.slice(0, at) + String.fromCharCode(t.charCodeAt(at) ^ m.xor!) + t.slice(at + 1);
    else if (m.kind === "cut") t = t.slice(0, at) + t.slice(at + m.len!);
    else if (m.kind === "insert") t = t.slice(0, at) + m.text! + t.slice(at);
  }
  return t;
}

describe("daticert fast reader ≡ saxes reader", () => {
  it("on every fixture and real sample, and takes the fast path for them", () => {
    expect(corpus.length).toBeGreaterThan(10);
    const before = daticertFastReads();
    const canonicalBefore = daticertCanonicalReads();
    for (const b of corpus) {
      same(b);
      same(latin1(b));
    }
    // Most real files are the plain shape; the fast readers must take (at least) those,
    // and the canonical layout a good part of them.
    expect(daticertFastReads() - before).toBeGreaterThan(corpus.length);
    expect(daticertCanonicalReads() - canonicalBefore).toBeGreaterThan(corpus.length / 2);
  });

  it("on generated documents in many spellings, as bytes and as text", () => {
    const before = daticertFastReads();
    const canonicalBefore = daticertCanonicalReads();
    fc.assert(
      fc.property(model, spelling, (m, s) => {
        const x = spell(m, s);
        same(x);
        same(s.latin1 ? latin1Bytes(x) : new TextEncoder().encode(x));
      }),
      { seed: 8, numRuns: RUNS },
    );
    expect(daticertFastReads() - before).toBeGreaterThan(RUNS / 2);
    // Single quotes, spaces inside tags, extra attributes, ">" and surrogate pairs in text
    // are left to the fast reader (or saxes).
    expect(daticertCanonicalReads() - canonicalBefore).toBeGreaterThan(RUNS / 20);
  });

  it("on mutated documents (fixtures, samples, generated)", () => {
    fc.assert(
      fc.property(fc.nat(), model, spelling, fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), (i, m, s, ms, fromCorpus) => {
        const base = fromCorpus && corpus.length ? latin1(corpus[i % corpus.length]!) : spell(m, s);
        const x = mutate(base, ms);
        same(x);
        same(latin1Bytes(x));
      }),
      { seed: 9, numRuns: RUNS * 4 },
    );
  });

  it("with options that change the outcome (depth, replacement)", () => {
    const x = latin1(corpus[0]!);
    for (const maxDepth of [1, 2, 3, 4, 5]) same(x, { maxDepth });
    same(x.replace("<oggetto>", "<oggetto>\u0001&#1;"), { replacement: "?" });
    same(x.replace("<oggetto>", "<oggetto>\u0001&#1;"));
  });
});
