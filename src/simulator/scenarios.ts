/**
 * Named PEC flows ("scenarios") played between two test gestori, for the `postacert
 * simulate` command, the demo and the tests: every outcome the rules describe (all
 * delivered with each receipt type, unknown recipient or domain, virus at either
 * gestore, formal error, the three timeout combinations, esterno recipient, anomalia).
 *
 * Every scenario uses the same gestori and domains, so one CA PEM and one IGPEC LDIF
 * cover all of them:
 * - Gestore Alfa S.p.A. (`pec.alfa.test`): mailboxes `mario.rossi` (the sender) and
 *   `giulia.neri`; its antivirus knows the EICAR test file.
 * - Gestore Beta S.p.A. (`pec.beta.test`): mailboxes `anna.bianchi` and `luca.verdi`;
 *   the IGPEC also lists `pec.dismesso.test` for it, a domain it no longer serves; its
 *   antivirus also knows the postacert test signature (a fresher database than Alfa's).
 * - `info@azienda.example`: an ordinary (esterno) mailbox.
 *
 * @module
 */
import { PecError } from "../errors.js";
import type { ComposeMessageInput } from "../pec/build/index.js";
import { latin1Bytes } from "../util/bytes.js";
import {
  EICAR_SIGNATURE_NAME,
  POSTACERT_TEST_SIGNATURE_NAME,
  POSTACERT_TEST_VIRUS,
  eicarTestFile,
  signatureAntivirus,
} from "./antivirus.js";
import { createGestore, createTestCa } from "./ca.js";
import type { KeyAlgorithm, TestCa, TestGestore } from "./ca.js";
import { type Gestore, type GestoreInit, PecNetwork, type PecFlow } from "./gestore.js";

/** The scenario names, in the order `simulate --scenario all` plays them. */
export const SCENARIO_NAMES = [
  "ok-completa",
  "ok-breve",
  "ok-sintetica",
  "unknown-recipient",
  "unknown-domain",
  "virus-sender",
  "virus-recipient",
  "formal-error",
  "timeout",
  "timeout-stalled",
  "timeout-late",
  "esterno",
  "anomalia",
] as const;

/** A scenario name (see {@link SCENARIOS}). */
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** A scenario and what it shows. */
export interface ScenarioInfo {
  /** Its name (the folder `simulate` writes it to). */
  readonly name: ScenarioName;
  /** One line, in English. */
  readonly description: string;
}

/** Every scenario with its description. */
export const SCENARIOS: readonly ScenarioInfo[] = [
  {
    name: "ok-completa",
    description:
      "All delivered: two recipients at another gestore (To and Cc) and one at the sender's own; ricevuta completa for To, sintetica for Cc",
  },
  { name: "ok-breve", description: "As ok-completa with X-TipoRicevuta: breve: To receipts carry the original with the attachment replaced by its hash" },
  { name: "ok-sintetica", description: "As ok-completa with X-TipoRicevuta: sintetica: every receipt is sintetica, without the original" },
  {
    name: "unknown-recipient",
    description: "An existing and a non-existent mailbox: presa in carico for both, consegna for one, mancata consegna (no-dest) for the other",
  },
  {
    name: "unknown-domain",
    description: "A domain the IGPEC still lists for the recipient gestore but that it no longer serves: presa in carico, then mancata consegna (no-dominio)",
  },
  { name: "virus-sender", description: "EICAR test file attached: the sender's gestore refuses the message (non accettazione per virus); nothing else is sent" },
  {
    name: "virus-recipient",
    description:
      "A virus the sender's antivirus misses and the recipient's catches: rilevazione virus to the sender gestore, then mancata consegna per virus; the busta is not delivered",
  },
  { name: "formal-error", description: "A Bcc recipient: the punto di accesso refuses the message (non accettazione)" },
  { name: "timeout", description: "The recipient gestore is unreachable: preavviso at +12 h, mancata consegna per superamento tempo massimo at +24 h" },
  { name: "timeout-stalled", description: "Presa in carico received but the message is never delivered: only the 24 h notice" },
  { name: "timeout-late", description: "The recipient gestore answers only after 15 h: the 12 h preavviso, then presa in carico and consegna; no 24 h notice" },
  {
    name: "esterno",
    description: "A PEC and an ordinary (esterno) recipient: the busta also goes to the Internet; no presa in carico and no consegna for the esterno one",
  },
  { name: "anomalia", description: "Ordinary mail to a PEC mailbox: the recipient gestore delivers it inside a busta di anomalia" },
];

/**
 * Whether a string names a scenario.
 *
 * @example
 * ```ts
 * const arg = process.argv[2];
 * if (!isScenarioName(arg)) throw new Error(`known scenarios: ${SCENARIO_NAMES.join(", ")}`);
 * ```
 */
export function isScenarioName(name: unknown): name is ScenarioName {
  return typeof name === "string" && (SCENARIO_NAMES as readonly string[]).includes(name);
}

/** The addresses the scenarios use. */
export const SCENARIO_ADDRESSES = {
  /** The sender, at Alfa. */
  mario: "mario.rossi@pec.alfa.test",
  /** A recipient at the sender's own gestore. */
  giulia: "giulia.neri@pec.alfa.test",
  /** The primary recipient, at Beta. */
  anna: "anna.bianchi@pec.beta.test",
  /** The Cc recipient, at Beta. */
  luca: "luca.verdi@pec.beta.test",
  /** No such mailbox at Beta. */
  nessuno: "nessuno@pec.beta.test",
  /** At a domain the IGPEC lists for Beta but Beta no longer serves. */
  dismesso: "protocollo@pec.dismesso.test",
  /** An ordinary mailbox outside the PEC network. */
  esterno: "info@azienda.example",
} as const;

/** The test PKI of the scenarios: one CA and the two gestori identities. */
export interface ScenarioPki {
  /** The test root CA. */
  readonly ca: TestCa;
  /** Gestore Alfa S.p.A. (`pec.alfa.test`). */
  readonly alfa: TestGestore;
  /** Gestore Beta S.p.A. (`pec.beta.test`). */
  readonly beta: TestGestore;
}

/** Options of {@link createScenarioPki}. */
export interface ScenarioPkiOptions {
  /** Key type. Default `RSA-2048` (what gestori use; a few hundred ms to generate). `ECDSA-P256` is faster. */
  keyAlgorithm?: KeyAlgorithm;
  /** Start of validity. Default: an hour ago. Set it before a simulated start in the past. */
  notBefore?: Date;
  /** WebCrypto implementation. Default `globalThis.crypto`. */
  crypto?: Crypto;
}

/**
 * Creates the CA and the two gestori of the scenarios. Create it once and pass it to
 * every {@link runScenario} call: key generation is the slow part.
 *
 * @example
 * ```ts
 * const pki = await createScenarioPki({ keyAlgorithm: "ECDSA-P256" });
 * const runs = await Promise.all(SCENARIO_NAMES.map((name) => runScenario(name, { pki })));
 * ```
 */
export async function createScenarioPki(options: ScenarioPkiOptions = {}): Promise<ScenarioPki> {
  if (typeof options !== "object" || options === null) throw new PecError("ERR_INVALID_ARGUMENT", "options must be an object");
  const common = {
    keyAlgorithm: options.keyAlgorithm ?? "RSA-2048",
    ...(options.notBefore !== undefined && { notBefore: options.notBefore }),
    ...(options.crypto !== undefined && { crypto: options.crypto }),
  };
  const ca = await createTestCa(common);
  const [alfa, beta] = await Promise.all([
    createGestore({ ...common, name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca }),
    createGestore({ ...common, name: "Gestore Beta S.p.A.", domain: "pec.beta.test", ca }),
  ]);
  return { ca, alfa, beta };
}

/** Options of {@link scenarioNetwork}. */
export interface ScenarioNetworkOptions {
  /** The network clock. Default `() => new Date()`. */
  now?: () => Date;
  /** IANA time zone. Default `Europe/Rome`. */
  timeZone?: string;
  /** WebCrypto implementation. */
  crypto?: Crypto;
  /** Settings of Beta for this scenario (availability, reception delay). */
  beta?: Pick<GestoreInit, "availability" | "receptionDelay">;
}

/** The network of the scenarios with its two gestori. */
export interface ScenarioNetwork {
  /** The network (IGPEC, CA, clock). */
  readonly network: PecNetwork;
  /** Gestore Alfa S.p.A. */
  readonly alfa: Gestore;
  /** Gestore Beta S.p.A. */
  readonly beta: Gestore;
}

/**
 * The scenarios' network, from their PKI (no key generation): Alfa and Beta with their
 * mailboxes, Beta's retired domain, and the antivirus databases described in the module
 * comment.
 *
 * @example
 * ```ts
 * const pki = await createScenarioPki();
 * const { network, alfa } = await scenarioNetwork(pki);
 * await writeFile("gestori.ldif", await network.igpecLdif());
 * ```
 */
export async function scenarioNetwork(pki: ScenarioPki, options: ScenarioNetworkOptions = {}): Promise<ScenarioNetwork> {
  if (typeof pki !== "object" || pki === null || !pki.ca || !pki.alfa || !pki.beta) {
    throw new PecError("ERR_INVALID_ARGUMENT", "pki must come from createScenarioPki()");
  }
  const network = new PecNetwork({
    ca: pki.ca,
    ...(options.now !== undefined && { now: options.now }),
    ...(options.timeZone !== undefined && { timeZone: options.timeZone }),
    ...(options.crypto !== undefined && { crypto: options.crypto }),
  });
  const alfa = await network.addGestore({ identity: pki.alfa, mailboxes: ["mario.rossi", "giulia.neri"] });
  const beta = await network.addGestore({
    identity: pki.beta,
    mailboxes: ["anna.bianchi", "luca.verdi"],
    retiredDomains: ["pec.dismesso.test"],
    antivirus: signatureAntivirus({ [EICAR_SIGNATURE_NAME]: eicarTestFile(), [POSTACERT_TEST_SIGNATURE_NAME]: POSTACERT_TEST_VIRUS }),
    ...options.beta,
  });
  return { network, alfa, beta };
}

/** Options of {@link runScenario}. */
export interface RunScenarioOptions {
  /** The PKI (shared by runs). Default: a new one, valid from a day before `start`. */
  pki?: ScenarioPki;
  /** When the sender submits the message. Default: now. */
  start?: Date;
  /** Key type when a PKI is created. Default `RSA-2048`. */
  keyAlgorithm?: KeyAlgorithm;
  /** IANA time zone. Default `Europe/Rome`. */
  timeZone?: string;
  /** WebCrypto implementation. */
  crypto?: Crypto;
}

/** A played scenario. */
export interface ScenarioRun extends ScenarioNetwork {
  /** The scenario. */
  readonly info: ScenarioInfo;
  /** Every message, in order. */
  readonly flow: PecFlow;
}

const { mario, giulia, anna, luca, nessuno, dismesso, esterno } = SCENARIO_ADDRESSES;

/**
 * A small, valid one-page PDF saying `text` (ASCII), for attachments that look real.
 *
 * @example
 * ```ts
 * composeMessage({ from: "mario.rossi@pec.alfa.test", to: "anna.bianchi@pec.beta.test", subject: "Offerta", attachments: [{ filename: "offerta.pdf", contentType: "application/pdf", content: samplePdf("Offerta n. 12") }] });
 * ```
 */
export function samplePdf(text: string): Uint8Array {
  const safe = String(text).replace(/[^\x20-\x7e]/g, "?").replace(/[\\()]/g, "\\$&");
  const stream = `BT /F1 18 Tf 72 770 Td (${safe}) Tj ET`;
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  ];
  let pdf = "%PDF-1.4\n";
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(pdf.length);
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) pdf += `${String(o).padStart(10, "0")} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return latin1Bytes(pdf);
}

function offer(name: ScenarioName, start: Date, extra: Partial<ComposeMessageInput> = {}): ComposeMessageInput {
  return {
    from: { name: "Mario Rossi", address: mario },
    to: [{ name: "Anna Bianchi", address: anna }],
    subject: "Offerta n. 12/2026",
    text: "Buongiorno,\nin allegato l'offerta richiesta.\n\nCordiali saluti,\nMario Rossi\n",
    attachments: [{ filename: "offerta.pdf", contentType: "application/pdf", content: samplePdf("Offerta n. 12/2026") }],
    messageId: `<${name}.${Math.floor(start.getTime() / 1000)}@client.alfa.test>`,
    date: start,
    ...extra,
  };
}

const HOUR = 3600_000;

/**
 * Plays one scenario and returns its network and flow.
 *
 * @throws PecError `ERR_INVALID_ARGUMENT` for an unknown scenario name or a start time
 *   outside the PKI's validity
 * @example
 * ```ts
 * const pki = await createScenarioPki();
 * const run = await runScenario("timeout", { pki, start: new Date("2026-03-16T09:30:00Z") });
 * run.flow.messages.map((m) => [m.type, m.variant, m.date.toISOString()]);
 * ```
 */
export async function runScenario(name: ScenarioName, options: RunScenarioOptions = {}): Promise<ScenarioRun> {
  if (!isScenarioName(name)) throw new PecError("ERR_INVALID_ARGUMENT", `unknown scenario ${JSON.stringify(name)}; known: ${SCENARIO_NAMES.join(", ")}`);
  if (typeof options !== "object" || options === null) throw new PecError("ERR_INVALID_ARGUMENT", "options must be an object");
  const start = options.start ?? new Date();
  if (!(start instanceof Date) || !Number.isFinite(start.getTime())) throw new PecError("ERR_INVALID_ARGUMENT", "options.start must be a valid Date");
  const pki =
    options.pki ??
    (await createScenarioPki({
      notBefore: new Date(start.getTime() - 24 * HOUR),
      ...(options.keyAlgorithm !== undefined && { keyAlgorithm: options.keyAlgorithm }),
      ...(options.crypto !== undefined && { crypto: options.crypto }),
    }));
  const betaSettings: ScenarioNetworkOptions["beta"] =
    name === "timeout"
      ? { availability: "unreachable" }
      : name === "timeout-stalled"
        ? { availability: "stalled" }
        : name === "timeout-late"
          ? { receptionDelay: 15 * HOUR }
          : {};
  const net = await scenarioNetwork(pki, {
    now: () => start,
    beta: betaSettings,
    ...(options.timeZone !== undefined && { timeZone: options.timeZone }),
    ...(options.crypto !== undefined && { crypto: options.crypto }),
  });
  const { alfa, beta } = net;
  const send = { start };
  let flow: PecFlow;
  switch (name) {
    case "ok-completa":
    case "ok-breve":
    case "ok-sintetica": {
      const tipo = name === "ok-breve" ? "breve" : name === "ok-sintetica" ? "sintetica" : undefined;
      flow = await alfa.send(
        offer(name, start, {
          to: [{ name: "Anna Bianchi", address: anna }, { name: "Giulia Neri", address: giulia }],
          cc: [{ name: "Luca Verdi", address: luca }],
          ...(tipo !== undefined && { tipoRicevuta: tipo }),
        }),
        send,
      );
      break;
    }
    case "unknown-recipient":
      flow = await alfa.send(offer(name, start, { to: [anna, nessuno] }), send);
      break;
    case "unknown-domain":
      flow = await alfa.send(offer(name, start, { to: dismesso }), send);
      break;
    case "virus-sender":
      flow = await alfa.send(
        offer(name, start, { attachments: [{ filename: "eicar.com", contentType: "application/octet-stream", content: eicarTestFile() }] }),
        send,
      );
      break;
    case "virus-recipient":
      flow = await alfa.send(
        offer(name, start, {
          attachments: [{ filename: "documento.txt", contentType: "text/plain", content: `Documento di prova.\n${POSTACERT_TEST_VIRUS}\n` }],
        }),
        send,
      );
      break;
    case "formal-error":
      flow = await alfa.send(offer(name, start, { headers: [["Bcc", luca]] }), send);
      break;
    case "timeout":
    case "timeout-stalled":
    case "timeout-late":
      flow = await alfa.send(offer(name, start), send);
      break;
    case "esterno":
      flow = await alfa.send(offer(name, start, { to: [{ name: "Anna Bianchi", address: anna }, { name: "Ufficio Acquisti", address: esterno }] }), send);
      break;
    case "anomalia":
      flow = await beta.receive(
        {
          from: { name: "Ufficio Acquisti", address: esterno },
          to: [{ name: "Anna Bianchi", address: anna }],
          subject: "Richiesta di preventivo",
          text: "Buongiorno,\nvorremmo un preventivo. Questo messaggio è posta ordinaria.\n",
          messageId: `<anomalia.${Math.floor(start.getTime() / 1000)}@azienda.example>`,
          date: start,
        },
        { at: start },
      );
      break;
  }
  const info = SCENARIOS.find((s) => s.name === name)!;
  return { ...net, info, flow };
}
