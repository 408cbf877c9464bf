/**
 * The gestore simulator: a {@link PecNetwork} of {@link Gestore}s (each one punto di
 * accesso, punto di ricezione and punto di consegna of its domains) that turns an
 * original message into every message of the whole PEC flow, in order, as real gestori
 * would send them (spec §2.2, §2.3, §4, §8.3, §9).
 *
 * The network plays the IGPEC role too: it says whether an address is *certificato* (its
 * domain is listed for a gestore) or *esterno*, finds the gestore of a domain and its
 * service mailbox (`mailReceipt`), and publishes the gestori as an IGPEC LDIF and the
 * test CA as PEM.
 *
 * Time follows a simulated clock: the flow starts at `start` (default `network.now()`)
 * and every step adds a few seconds of realistic delay; timeout notices come at +12 h
 * and +24 h from the busta. With a fixed start time, dates are deterministic (ids and
 * signatures still use random bytes).
 *
 * Isomorphic: WebCrypto only, no Node APIs.
 *
 * @module
 */
import { PecError } from "../errors.js";
import { decodeHeaderValue, parseMime } from "../mime/index.js";
import type { MimeEntity } from "../mime/index.js";
import { mailboxesOf } from "../pec/address.js";
import { bracketMsgId, checkAddress, checkTransaction, toCrlf } from "../pec/build/common.js";
import {
  type BuiltPec,
  type ComposeMessageInput,
  type PecBuildOptions,
  type PecSigner,
  type PecTransaction,
  type PecTransactionRecipient,
  buildAccettazione,
  buildAnomalia,
  buildAvvenutaConsegna,
  buildBusta,
  buildErroreConsegna,
  buildNonAccettazione,
  buildPreavvisoErroreConsegna,
  buildPresaInCarico,
  buildRilevazioneVirus,
  composeMessage,
  newIdentificativo,
  transactionFromBusta,
  transactionFromOriginal,
} from "../pec/build/index.js";
import type { RicevutaTipo } from "../daticert/index.js";
import { PEC_TYPE_LABELS, X_RICEVUTA } from "../pec/constants.js";
import type { PecType } from "../pec/constants.js";
import { readPec } from "../pec/read.js";
import type { ReadPec } from "../pec/types.js";
import { verifyPec } from "../pec/verify.js";
import type { CmsDigest } from "../smime/sign.js";
import { TrustStore } from "../trust/store.js";
import { toHex } from "../util/bytes.js";
import { type Antivirus, defaultAntivirus } from "./antivirus.js";
import { createGestore, createTestCa, toPem } from "./ca.js";
import type { KeyAlgorithm, TestCa, TestGestore } from "./ca.js";
import { buildIgpecLdif } from "./ldif.js";
import type { IgpecLdifOptions } from "./ldif.js";
import { isDenseArray } from "../util/arrays.js";
import { quoted } from "../util/text.js";

// ---------------------------------------------------------------------------------------------
// Timings (spec §9). Small delays make the flow read like a real one and keep its order.

const SECOND = 1000;
const HOUR = 3600 * SECOND;
/** Submission → accettazione and busta. */
const ACCEPTANCE_DELAY = 1 * SECOND;
/** Busta (or a notice) from one gestore to another over SMTP. */
const TRANSIT = 2 * SECOND;
/** Busta from a gestore to its own punto di ricezione (same-domain recipients). */
const LOCAL_TRANSIT = 1 * SECOND;
/** Arrival at the punto di ricezione → presa in carico (or virus notice, anomalia). */
const RECEPTION_DELAY = 1 * SECOND;
/** Arrival → first delivery into a mailbox; each further recipient one second later. */
const DELIVERY_DELAY = 2 * SECOND;
/** Preavviso di mancata consegna (spec §4.11). */
const PREAVVISO_AFTER = 12 * HOUR;
/** Avviso di mancata consegna per superamento tempo massimo; also the SMTP queue limit between gestori. */
const SCADENZA_AFTER = 24 * HOUR;
/** Default size limit at the punto di accesso (message size × recipients; spec §8.3, §9). */
const DEFAULT_MAX_MESSAGE_SIZE = 100 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Public types

/**
 * Whether a gestore's punto di ricezione and punto di consegna work (to simulate the
 * timeout cases of spec §2.2):
 * - `online`: everything works (default);
 * - `unreachable`: the punto di ricezione never answers; the busta stays in the sender
 *   gestore's queue, no presa in carico, no consegna;
 * - `stalled`: the punto di ricezione takes the busta (presa in carico) but the punto di
 *   consegna never delivers it.
 */
export type GestoreAvailability = "online" | "unreachable" | "stalled";

/** How to create a gestore in a {@link PecNetwork}. */
export interface GestoreInit {
  /** Descriptive name (daticert `gestore-emittente`, IGPEC `providerName`). Default: the identity's. */
  name?: string;
  /**
   * The PEC domain(s) it serves; the first is the main one (certificate e-mail, service
   * address, receipt ids). Default: the identity's domain. Required without `identity`.
   */
  domain?: string | readonly string[];
  /** Reuse this signing identity (no key generation). Default: a new one from the network's CA. */
  identity?: TestGestore;
  /** Key type of a new identity. Default: the network's (`RSA-2048` unless set). */
  keyAlgorithm?: KeyAlgorithm;
  /** Service mailbox for presa in carico and virus notices (IGPEC `mailReceipt`). Default `posta-certificata@<domain>`. */
  mailReceipt?: string;
  /** Existing user mailboxes: addresses, or local parts (`anna.bianchi`) at the main domain. */
  mailboxes?: readonly string[];
  /**
   * Domains the IGPEC still lists for this gestore but that it no longer serves (a
   * domain ceased or moved away, not yet removed from the index). Senders see their
   * addresses as certificato and send the busta here; delivery fails with `no-dominio`.
   */
  retiredDomains?: readonly string[];
  /** The antivirus of its punto di accesso and punto di ricezione; `false` for none. Default: detects EICAR. */
  antivirus?: Antivirus | false;
  /** See {@link GestoreAvailability}. Default `online`. */
  availability?: GestoreAvailability;
  /**
   * How long (ms) the punto di ricezione does not answer before it takes a busta (SMTP
   * retries), e.g. 15 h to get a preavviso and then a late delivery. At 24 h or more the
   * sender's queue gives up: the same as `unreachable`. Whole seconds count (the
   * simulated clock keeps whole seconds). Default 0.
   */
  receptionDelay?: number;
  /** Whether ordinary (non-PEC) mail to its users is delivered inside a busta di anomalia (or discarded). Default `true`. */
  acceptsOrdinaryMail?: boolean;
  /** Size limit at the punto di accesso, in bytes, for message size × number of recipients. Default 100 MiB. */
  maxMessageSize?: number;
}

/** Options of {@link PecNetwork.create}. */
export interface PecNetworkOptions {
  /** The test CA that issues the gestori. Default: a new one. */
  ca?: TestCa;
  /** Key type of the CA and of gestori created without an identity. Default `RSA-2048` (what gestori use). */
  keyAlgorithm?: KeyAlgorithm;
  /**
   * Start of validity of the certificates the network creates. Default: an hour ago.
   * Set it before the simulated start time when that lies in the past.
   */
  notBefore?: Date;
  /** The clock: when a flow starts unless `start` is given. Default `() => new Date()`. */
  now?: () => Date;
  /** IANA time zone of the legal time written in messages. Default `Europe/Rome`. */
  timeZone?: string;
  /** WebCrypto implementation. Default `globalThis.crypto`. */
  crypto?: Crypto;
}

/** Options of {@link Gestore.send}. */
export interface SendOptions {
  /** SMTP `MAIL FROM`: the authenticated user. Default: the original's `From` address. */
  mailFrom?: string;
  /** SMTP `RCPT TO`. Default: the original's `To`, `Cc` and `Bcc` addresses, in that order. */
  rcptTo?: readonly string[];
  /** When the user submits the message (whole seconds are kept). Default `network.now()`. */
  start?: Date;
  /** The PEC identificativo to assign (without angle brackets). Default: a fresh OpenPEC-like one. */
  identificativo?: string;
  /** IANA time zone of the legal time. Default: the network's. */
  timeZone?: string;
  /** CMS digest of every signature. Default `SHA-256`. */
  digest?: CmsDigest;
  /** WebCrypto implementation. Default: the network's. */
  crypto?: Crypto;
}

/** Options of {@link Gestore.receive}. */
export interface ReceiveOptions {
  /**
   * SMTP `MAIL FROM`: shown as the sender of a busta di anomalia. `""` is the null
   * reverse-path of a bounce (`MAIL FROM:<>`). Default (and with `""`): the message's
   * `From`; a bounce's `From: <>` (or a `From` that is not a writable address) is still
   * wrapped in a busta di anomalia, the sender shown as `MAILER-DAEMON` (or as written).
   */
  mailFrom?: string;
  /** SMTP `RCPT TO`. Default: the message's `To` and `Cc` addresses. Only those this gestore serves are handled. */
  rcptTo?: readonly string[];
  /** When the message arrives. Default `network.now()`. */
  at?: Date;
  /** IANA time zone of the legal time. Default: the network's. */
  timeZone?: string;
  /** CMS digest of every signature. Default `SHA-256`. */
  digest?: CmsDigest;
  /** WebCrypto implementation. Default: the network's. */
  crypto?: Crypto;
}

/**
 * Where a message of the flow lands:
 * - `mailbox`: user mailboxes (the `to` of the step) at that gestore's punto di consegna;
 * - `service-mailbox`: the gestore's service mailbox (`mailReceipt`), for presa in carico
 *   and rilevazione virus;
 * - `punto-di-ricezione`: a busta travelling to that gestore for the step's `to`;
 * - `internet`: ordinary mail servers of esterno recipients (outside the PEC network).
 */
export type FlowDestination =
  | {
      /** User mailboxes at the gestore's punto di consegna. */
      readonly kind: "mailbox";
      /** The gestore that holds the mailboxes. */
      readonly gestore: Gestore;
    }
  | {
      /** The gestore's service mailbox (`mailReceipt`). */
      readonly kind: "service-mailbox";
      /** The gestore that owns the service mailbox. */
      readonly gestore: Gestore;
    }
  | {
      /** A busta travelling to a gestore's punto di ricezione. */
      readonly kind: "punto-di-ricezione";
      /** The receiving gestore. */
      readonly gestore: Gestore;
    }
  | {
      /** Ordinary mail servers outside the PEC network (esterno recipients). */
      readonly kind: "internet";
    };

/**
 * The variant of a step: the receipt type of a busta or avvenuta consegna, the `errore`
 * of a non accettazione or mancata consegna, `virus` for the rilevazione virus, the
 * timeout kind of a preavviso (`preavviso` 12 h, `scadenza` 24 h).
 */
export type FlowVariant = RicevutaTipo | "no-dest" | "no-dominio" | "altro" | "virus" | "preavviso" | "scadenza";

/** One message of a flow: who sends it, where it lands, and the message itself. */
export interface FlowMessage {
  /** 1-based position in the flow (time order). */
  readonly step: number;
  /** The PEC type. */
  readonly type: PecType;
  /** See {@link FlowVariant}; undefined for accettazione, presa in carico, anomalia. */
  readonly variant?: FlowVariant;
  /**
   * The gestore that emitted and signed the message. For a busta delivered into a
   * mailbox that is the sender's gestore, although the recipient's punto di consegna
   * performs the step (the description says so).
   */
  readonly emitter: Gestore;
  /** Its `From` address (the emitter's service address). */
  readonly from: string;
  /** SMTP recipients of this step: the mailboxes it lands in, or the busta's recipients at that destination. */
  readonly to: readonly string[];
  /** Where it lands. */
  readonly destination: FlowDestination;
  /** The message (bytes, type, daticert, date, ids). A busta appears twice: in transit and when delivered. */
  readonly message: BuiltPec;
  /** When this step happens (the message's own date, or the delivery instant of a busta). */
  readonly date: Date;
  /** One line for people, in English. */
  readonly description: string;
}

/** Something that happens without a message (a queued busta, discarded mail). */
export interface FlowNote {
  /** When. */
  readonly date: Date;
  /** What, in English. */
  readonly text: string;
}

/** Every message of one PEC flow, in order. */
export interface PecFlow {
  /** The original message as submitted (composed when an object was given) or as received. */
  readonly original: Uint8Array;
  /** The PEC identificativo the punto di accesso assigned (absent for a received non-PEC message). */
  readonly identificativo?: string;
  /** When the flow started (submission or arrival, whole seconds). */
  readonly start: Date;
  /** The messages in time order (steps 1…n). */
  readonly messages: readonly FlowMessage[];
  /** Events without a message, in time order. */
  readonly notes: readonly FlowNote[];
}

// ---------------------------------------------------------------------------------------------
// Helpers

function invalid(message: string): PecError {
  return new PecError("ERR_INVALID_ARGUMENT", message);
}

const DOMAIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

function checkDomain(value: unknown, what: string): string {
  if (typeof value !== "string" || !DOMAIN.test(value)) throw invalid(`${what} must be a domain name like pec.example.test, got ${quoted(value)}`);
  return value.toLowerCase();
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1).toLowerCase();
}

function checkDate(value: unknown, what: string): Date {
  if (!(value instanceof Date) || !Number.isFinite(value.getTime())) throw invalid(`${what} must be a valid Date`);
  // Builders keep whole seconds; the clock does too, so step dates equal message dates.
  return new Date(Math.floor(value.getTime() / SECOND) * SECOND);
}

function later(date: Date, ms: number): Date {
  return new Date(date.getTime() + ms);
}

function checkOptionsObject(value: unknown, what: string): void {
  if (value !== undefined && (typeof value !== "object" || value === null)) throw invalid(`${what} must be an object`);
}

/** The addresses of every `name` header, decoded; never throws. */
function headerAddresses(root: MimeEntity, name: string): string[] {
  const out: string[] = [];
  for (const v of root.headerAll(name)) for (const m of mailboxesOf(v)) if (m.address) out.push(m.address);
  return out;
}

function isAddress(value: string): boolean {
  try {
    checkAddress(value, "address");
    return true;
  } catch {
    return false;
  }
}

function isMsgId(value: string): boolean {
  try {
    bracketMsgId(value, "Message-ID");
    return true;
  } catch {
    return false;
  }
}

function uniqueAddresses(list: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const a of list) {
    const k = a.toLowerCase();
    if (!seen.has(k)) {
      seen.add(k);
      out.push(a);
    }
  }
  return out;
}

function variantOf(b: BuiltPec): FlowVariant | undefined {
  switch (b.type) {
    case "posta-certificata":
    case "avvenuta-consegna":
      return b.ricevuta;
    case "non-accettazione":
    case "errore-consegna": {
      const e: string | undefined = b.daticert?.errore;
      return e === "no-dest" || e === "no-dominio" || e === "altro" || e === "virus" ? e : undefined;
    }
    case "preavviso-errore-consegna":
      return b.timeout;
    case "rilevazione-virus":
      return "virus";
    default:
      return undefined;
  }
}

/** A BuiltPec-shaped record of a message this simulator did not build (received from outside). */
function builtFromRead(pec: ReadPec, bytes: Uint8Array, to: readonly string[], at: Date): BuiltPec {
  return {
    bytes,
    type: pec.type,
    virus: pec.virus,
    ...(pec.ricevuta !== undefined && { ricevuta: pec.ricevuta }),
    ...(pec.timeout !== undefined && { timeout: pec.timeout }),
    messageId: pec.message.header("message-id")?.trim() ?? "",
    from: pec.from ?? "",
    to: [...to],
    subject: pec.subject ?? "",
    ...(pec.daticert !== undefined && { daticert: pec.daticert }),
    date: pec.date ?? at,
  };
}

/** A step as produced; `date` defaults to the message's own date (a delivery may come later). */
type Draft = Omit<FlowMessage, "step" | "type" | "variant" | "from" | "date"> & { date?: Date };

/** Collects the steps of a flow as they are produced, then orders them by time. */
class FlowRecorder {
  readonly #drafts: { seq: number; draft: Draft }[] = [];
  readonly #notes: { seq: number; note: FlowNote }[] = [];
  #seq = 0;

  add(draft: Draft): void {
    this.#drafts.push({ seq: this.#seq++, draft });
  }

  note(date: Date, text: string): void {
    this.#notes.push({ seq: this.#seq++, note: { date, text } });
  }

  finish(original: Uint8Array, start: Date, identificativo: string | undefined): PecFlow {
    const order = <T extends { seq: number }>(list: T[], date: (x: T) => Date): T[] =>
      [...list].sort((a, b) => date(a).getTime() - date(b).getTime() || a.seq - b.seq);
    const messages = order(this.#drafts, (d) => d.draft.date ?? d.draft.message.date).map(({ draft }, i): FlowMessage => {
      const variant = variantOf(draft.message);
      return {
        step: i + 1,
        type: draft.message.type,
        ...(variant !== undefined && { variant }),
        emitter: draft.emitter,
        from: draft.message.from,
        to: draft.to,
        destination: draft.destination,
        message: draft.message,
        date: draft.date ?? draft.message.date,
        description: draft.description,
      };
    });
    return {
      original,
      ...(identificativo !== undefined && { identificativo }),
      start,
      messages,
      notes: order(this.#notes, (n) => n.note.date).map((n) => n.note),
    };
  }
}

/** Per recipient: when the sender's gestore learnt of a presa in carico, and of a final outcome. */
interface Tracking {
  presa: Map<string, Date>;
  final: Map<string, Date>;
  virusNotices: BuiltPec[];
}

interface BuildContext {
  timeZone: string;
  crypto: Crypto;
  digest?: CmsDigest;
}

function buildOptions(ctx: BuildContext, date: Date): PecBuildOptions {
  return { date, timeZone: ctx.timeZone, crypto: ctx.crypto, ...(ctx.digest !== undefined && { digest: ctx.digest }) };
}

// ---------------------------------------------------------------------------------------------
// PecNetwork

/**
 * The PEC circuit: the gestori (keyed by the domains the IGPEC lists for them), the
 * test CA that issued them, and the clock. It answers the IGPEC questions (is an address
 * certificato? which gestore, which `mailReceipt`?) and publishes the gestori as LDIF.
 *
 * @example
 * ```ts
 * const network = await PecNetwork.create({ keyAlgorithm: "ECDSA-P256" });
 * const alfa = await network.addGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", mailboxes: ["mario.rossi"] });
 * const beta = await network.addGestore({ name: "Gestore Beta S.p.A.", domain: "pec.beta.test", mailboxes: ["anna.bianchi"] });
 * const flow = await alfa.send({ from: "mario.rossi@pec.alfa.test", to: "anna.bianchi@pec.beta.test", subject: "Offerta", text: "Ciao" });
 * for (const m of flow.messages) console.log(m.step, m.type, m.from, "→", m.to.join(", "));
 * const trust = await TrustStore.fromLdif(await network.igpecLdif());
 * ```
 */
export class PecNetwork {
  /** The test CA that issues the gestori the network creates. */
  readonly ca: TestCa;
  /** Key type of gestori created without an identity. */
  readonly keyAlgorithm: KeyAlgorithm;
  /** Start of validity of certificates the network creates (undefined: an hour before creation). */
  readonly notBefore: Date | undefined;
  /** IANA time zone of the legal time written in messages. */
  readonly timeZone: string;
  /** The WebCrypto implementation. */
  readonly crypto: Crypto;
  readonly #now: () => Date;
  readonly #gestori: Gestore[] = [];
  readonly #byDomain = new Map<string, Gestore>();
  #trust: Promise<TrustStore> | undefined;

  /**
   * A network around an existing CA (see {@link PecNetwork.create} to make one).
   *
   * @throws PecError `ERR_INVALID_ARGUMENT` without a CA or with bad options
   */
  constructor(options: PecNetworkOptions & { ca: TestCa }) {
    if (typeof options !== "object" || options === null) throw invalid("PecNetwork needs options with a ca");
    const ca = options.ca;
    if (typeof ca !== "object" || ca === null || !(ca.certificate instanceof Uint8Array)) throw invalid("options.ca must be a TestCa (createTestCa())");
    if (options.now !== undefined && typeof options.now !== "function") throw invalid("options.now must be a function returning a Date");
    if (options.timeZone !== undefined && typeof options.timeZone !== "string") throw invalid("options.timeZone must be a string");
    const crypto = options.crypto ?? globalThis.crypto;
    if (!crypto?.subtle) throw new PecError("ERR_UNSUPPORTED", "WebCrypto (crypto.subtle) is not available; pass options.crypto");
    this.ca = ca;
    this.keyAlgorithm = options.keyAlgorithm ?? "RSA-2048";
    this.notBefore = options.notBefore === undefined ? undefined : checkDate(options.notBefore, "options.notBefore");
    this.timeZone = options.timeZone ?? "Europe/Rome";
    this.crypto = crypto;
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Creates a network, with a new test CA unless `options.ca` is given.
   *
   * @throws PecError `ERR_INVALID_ARGUMENT` for bad options
   * @example
   * ```ts
   * // Flows dated in the past need certificates valid then:
   * const network = await PecNetwork.create({ notBefore: new Date("2024-01-01T00:00:00Z"), now: () => new Date("2024-03-15T09:30:00Z") });
   * ```
   */
  static async create(options: PecNetworkOptions = {}): Promise<PecNetwork> {
    checkOptionsObject(options, "options");
    const ca =
      options.ca ??
      (await createTestCa({
        keyAlgorithm: options.keyAlgorithm ?? "RSA-2048",
        ...(options.notBefore !== undefined && { notBefore: checkDate(options.notBefore, "options.notBefore") }),
        ...(options.crypto !== undefined && { crypto: options.crypto }),
      }));
    return new PecNetwork({ ...options, ca });
  }

  /** The current time of the simulated clock. */
  now(): Date {
    const d = this.#now();
    return checkDate(d, "the network clock (options.now())");
  }

  /** The gestori, in the order they were added. */
  get gestori(): readonly Gestore[] {
    return [...this.#gestori];
  }

  /**
   * Adds a gestore: with a new signing identity from the network's CA, or with the given
   * one. Its domains (and retired domains) must not belong to another gestore.
   *
   * @throws PecError `ERR_INVALID_ARGUMENT` for bad input or a domain already taken
   * @example
   * ```ts
   * const beta = await network.addGestore({
   *   name: "Gestore Beta S.p.A.", domain: ["pec.beta.test", "beta-pec.test"],
   *   mailboxes: ["anna.bianchi", "luca.verdi@beta-pec.test"], retiredDomains: ["pec.dismesso.test"],
   * });
   * ```
   */
  async addGestore(init: GestoreInit): Promise<Gestore> {
    if (typeof init !== "object" || init === null) throw invalid("addGestore needs a GestoreInit object");
    let identity = init.identity;
    if (identity === undefined) {
      if (typeof init.name !== "string" || init.name.trim() === "") throw invalid("a gestore needs a name (or an identity)");
      const domains = init.domain === undefined ? [] : typeof init.domain === "string" ? [init.domain] : [...init.domain];
      if (domains.length === 0) throw invalid("a gestore needs a domain (or an identity)");
      const domain = checkDomain(domains[0], "domain");
      this.#checkFree([domain], undefined);
      identity = await createGestore({
        name: init.name,
        domain,
        ca: this.ca,
        keyAlgorithm: init.keyAlgorithm ?? this.keyAlgorithm,
        ...(this.notBefore !== undefined && { notBefore: this.notBefore }),
        crypto: this.crypto,
      });
    }
    const gestore = new Gestore(this, identity, init);
    this.#checkFree([...gestore.domains, ...gestore.retiredDomains], gestore);
    this.#gestori.push(gestore);
    for (const d of [...gestore.domains, ...gestore.retiredDomains]) this.#byDomain.set(d, gestore);
    this.#trust = undefined;
    return gestore;
  }

  #checkFree(domains: readonly string[], self: Gestore | undefined): void {
    for (const d of domains) {
      const owner = this.#byDomain.get(d.toLowerCase());
      if (owner !== undefined && owner !== self) throw invalid(`domain ${d} already belongs to ${owner.name}`);
    }
  }

  /** The gestore the IGPEC lists for a domain (served or retired), if any. */
  gestoreForDomain(domain: string): Gestore | undefined {
    return typeof domain === "string" ? this.#byDomain.get(domain.toLowerCase()) : undefined;
  }

  /** The gestore the IGPEC lists for an address's domain, if any. */
  gestoreFor(address: string): Gestore | undefined {
    return typeof address === "string" && address.includes("@") ? this.gestoreForDomain(domainOf(address)) : undefined;
  }

  /** The gestore whose service address (the `From` of its messages, its certificate e-mail) this is. */
  gestoreByEmail(address: string | undefined): Gestore | undefined {
    if (typeof address !== "string") return undefined;
    const a = address.toLowerCase();
    return this.#gestori.find((g) => g.email.toLowerCase() === a);
  }

  /** Whether an address is certificato (a PEC mailbox: its domain is listed in the IGPEC) rather than esterno. */
  isCertificato(address: string): boolean {
    return this.gestoreFor(address) !== undefined;
  }

  /** Root certificates (DER) that anchor every gestore: the network CA and the roots of reused identities. */
  roots(): Uint8Array[] {
    const out = new Map<string, Uint8Array>([[toHex(this.ca.certificate), this.ca.certificate]]);
    for (const g of this.#gestori) {
      const root = g.identity.chain[g.identity.chain.length - 1];
      if (root !== undefined) out.set(toHex(root), root);
    }
    return [...out.values()];
  }

  /**
   * The trust anchors as PEM (what `postacert verify --trust` takes).
   *
   * @example
   * ```ts
   * await writeFile("out/ca.pem", network.caPem());
   * ```
   */
  caPem(): string {
    return this.roots()
      .map((c) => toPem(c))
      .join("");
  }

  /**
   * The gestori as an IGPEC-style LDIF: name, signing certificate and its hash,
   * `mailReceipt`, and `managedDomains` (served and retired domains).
   *
   * @example
   * ```ts
   * const trust = await TrustStore.fromLdif(await network.igpecLdif());
   * ```
   */
  async igpecLdif(options: IgpecLdifOptions = {}): Promise<string> {
    return buildIgpecLdif(
      this.#gestori.map((g) => ({
        name: g.name,
        certificates: [g.certificate],
        mailReceipt: g.mailReceipt,
        domains: [...g.domains, ...g.retiredDomains],
      })),
      { crypto: this.crypto, ...options },
    );
  }

  /** The trust store a punto di ricezione checks inbound messages with: the network's roots. */
  trustStore(): Promise<TrustStore> {
    this.#trust ??= TrustStore.fromCertificates(this.roots(), { crypto: this.crypto });
    return this.#trust;
  }

  /** A JSON-safe summary (the gestori refer back to the network). */
  toJSON(): {
    /** Each gestore's summary ({@link Gestore.toJSON}), in the order they were added. */
    gestori: ReturnType<Gestore["toJSON"]>[];
  } {
    return { gestori: this.#gestori.map((g) => g.toJSON()) };
  }
}

// ---------------------------------------------------------------------------------------------
// Gestore

/**
 * A PEC provider in a {@link PecNetwork}: punto di accesso (accepts its users' messages,
 * emits accettazione or non accettazione, sends the busta, tracks deliveries and emits
 * the timeout notices), punto di ricezione (checks incoming bustas, emits presa in
 * carico or rilevazione virus, wraps anything else in a busta di anomalia) and punto di
 * consegna (delivers, emits avvenuta consegna or mancata consegna) of its domains. It
 * signs as a {@link PecSigner}, so it can also be passed to the builders directly.
 *
 * Create it with {@link PecNetwork.addGestore}. Its behaviour settings (`antivirus`,
 * `availability`, `receptionDelay`, `acceptsOrdinaryMail`, `maxMessageSize`) may be
 * changed between flows; each assignment is checked as {@link GestoreInit} is, and a bad
 * value throws `PecError("ERR_INVALID_ARGUMENT")` at once.
 *
 * @example
 * ```ts
 * const beta = await network.addGestore({ name: "Gestore Beta S.p.A.", domain: "pec.beta.test", mailboxes: ["anna.bianchi"] });
 * beta.availability = "unreachable"; // the next flows end with the 12 h and 24 h notices
 * const receipt = await buildAccettazione(beta, tx); // a Gestore is a PecSigner too
 * ```
 */
export class Gestore implements PecSigner {
  /** The network it belongs to. */
  readonly network: PecNetwork;
  /** Its signing identity (certificate, key, chain). */
  readonly identity: TestGestore;
  /** Descriptive name (daticert `gestore-emittente`). */
  readonly name: string;
  /** Main domain (certificate e-mail, receipt Message-IDs, identificativi). */
  readonly domain: string;
  /** Every domain it serves, main first. */
  readonly domains: readonly string[];
  /** Domains the IGPEC lists for it that it no longer serves (delivery fails with `no-dominio`). */
  readonly retiredDomains: readonly string[];
  /** Service address: the `From` of everything it generates (= its certificate e-mail). */
  readonly email: string;
  /** Service mailbox for presa in carico and virus notices from other gestori (IGPEC `mailReceipt`). */
  readonly mailReceipt: string;
  #antivirus: Antivirus | undefined;
  #availability: GestoreAvailability = "online";
  #receptionDelay = 0;
  #acceptsOrdinaryMail = true;
  #maxMessageSize = DEFAULT_MAX_MESSAGE_SIZE;
  readonly #mailboxes = new Map<string, string>();

  // The behaviour settings may change between flows: every assignment is checked as the
  // constructor checks GestoreInit, so a bad value fails at once (ERR_INVALID_ARGUMENT)
  // rather than as a misleading error, or a silent wrong flow, later.

  /**
   * Antivirus of its punto di accesso and punto di ricezione; undefined: none. Assigning
   * `false` also removes it.
   *
   * @throws PecError `ERR_INVALID_ARGUMENT` on assigning anything but a function, undefined or false
   */
  get antivirus(): Antivirus | undefined {
    return this.#antivirus;
  }
  /** Sets it, checked first. @throws PecError `ERR_INVALID_ARGUMENT` on assigning anything but a function, undefined or false */
  set antivirus(value: Antivirus | undefined) {
    const v: unknown = value;
    if (v !== undefined && v !== false && typeof v !== "function") throw invalid(`antivirus must be a function, undefined or false, got ${quoted(v)}`);
    this.#antivirus = v === false ? undefined : (v as Antivirus | undefined);
  }

  /**
   * See {@link GestoreAvailability}.
   *
   * @throws PecError `ERR_INVALID_ARGUMENT` on assigning another value
   */
  get availability(): GestoreAvailability {
    return this.#availability;
  }
  /** Sets it, checked first. @throws PecError `ERR_INVALID_ARGUMENT` on assigning another value */
  set availability(value: GestoreAvailability) {
    const v: unknown = value;
    if (v !== "online" && v !== "unreachable" && v !== "stalled") throw invalid(`availability must be "online", "unreachable" or "stalled", got ${quoted(v)}`);
    this.#availability = v;
  }

  /**
   * Milliseconds its punto di ricezione does not answer before taking a busta. Whole
   * seconds count: the simulated clock, like the messages' dates, keeps whole seconds.
   *
   * @throws PecError `ERR_INVALID_ARGUMENT` on assigning anything but a finite number ≥ 0
   */
  get receptionDelay(): number {
    return this.#receptionDelay;
  }
  /** Sets it, checked first. @throws PecError `ERR_INVALID_ARGUMENT` on assigning anything but a finite number ≥ 0 */
  set receptionDelay(value: number) {
    const v: unknown = value;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw invalid(`receptionDelay must be a non-negative number of milliseconds, got ${quoted(v)}`);
    this.#receptionDelay = v;
  }

  /**
   * Whether ordinary mail is delivered inside a busta di anomalia (else discarded).
   *
   * @throws PecError `ERR_INVALID_ARGUMENT` on assigning anything but a boolean
   */
  get acceptsOrdinaryMail(): boolean {
    return this.#acceptsOrdinaryMail;
  }
  /** Sets it, checked first. @throws PecError `ERR_INVALID_ARGUMENT` on assigning anything but a boolean */
  set acceptsOrdinaryMail(value: boolean) {
    const v: unknown = value;
    if (typeof v !== "boolean") throw invalid(`acceptsOrdinaryMail must be true or false, got ${quoted(v)}`);
    this.#acceptsOrdinaryMail = v;
  }

  /**
   * Size limit at the punto di accesso (bytes, message size × recipients).
   *
   * @throws PecError `ERR_INVALID_ARGUMENT` on assigning anything but a positive number
   */
  get maxMessageSize(): number {
    return this.#maxMessageSize;
  }
  /** Sets it, checked first. @throws PecError `ERR_INVALID_ARGUMENT` on assigning anything but a positive number */
  set maxMessageSize(value: number) {
    const v: unknown = value;
    if (typeof v !== "number" || !(v > 0)) throw invalid(`maxMessageSize must be a positive number of bytes, got ${quoted(v)}`);
    this.#maxMessageSize = v;
  }

  /**
   * Use {@link PecNetwork.addGestore}, which also registers the gestore in the network.
   *
   * @throws PecError `ERR_INVALID_ARGUMENT` for bad input
   */
  constructor(network: PecNetwork, identity: TestGestore, init: GestoreInit = {}) {
    if (!(network instanceof PecNetwork)) throw invalid("a Gestore belongs to a PecNetwork: use network.addGestore()");
    if (typeof identity !== "object" || identity === null || !(identity.certificate instanceof Uint8Array) || typeof identity.domain !== "string") {
      throw invalid("identity must be a TestGestore (createGestore())");
    }
    if (typeof init !== "object" || init === null) throw invalid("init must be a GestoreInit object");
    this.network = network;
    this.identity = identity;
    const name = init.name ?? identity.name;
    if (typeof name !== "string" || name.trim() === "" || /[\r\n\0]/.test(name)) throw invalid("name must be a non-empty one-line string");
    this.name = name;
    const listed = init.domain === undefined ? [identity.domain] : typeof init.domain === "string" ? [init.domain] : [...init.domain];
    if (listed.length === 0) throw invalid("domain must list at least one domain");
    const domains = uniqueAddresses(listed.map((d, i) => checkDomain(d, `domain[${i}]`)));
    const main = identity.domain.toLowerCase();
    if (domains[0] !== main) {
      throw invalid(`the main domain ${domains[0]} differs from the identity's domain ${identity.domain}: list ${identity.domain} first`);
    }
    this.domain = main;
    this.domains = domains;
    this.retiredDomains = uniqueAddresses((init.retiredDomains ?? []).map((d, i) => checkDomain(d, `retiredDomains[${i}]`)));
    for (const d of this.retiredDomains) if (domains.includes(d)) throw invalid(`domain ${d} cannot be both served and retired`);
    this.email = identity.email;
    this.mailReceipt = checkAddress(init.mailReceipt ?? `posta-certificata@${main}`, "mailReceipt");
    // The setters check each setting.
    this.antivirus = init.antivirus === undefined ? defaultAntivirus() : (init.antivirus as Antivirus | undefined);
    this.availability = init.availability ?? "online";
    this.receptionDelay = init.receptionDelay ?? 0;
    this.acceptsOrdinaryMail = init.acceptsOrdinaryMail ?? true;
    this.maxMessageSize = init.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    for (const m of init.mailboxes ?? []) this.addMailbox(m);
  }

  /** The signing certificate (DER). */
  get certificate(): Uint8Array {
    return this.identity.certificate;
  }

  /** The signing key. */
  get privateKey(): CryptoKey {
    return this.identity.privateKey;
  }

  /** Issuer certificates (DER), included in every signature. */
  get chain(): readonly Uint8Array[] {
    return this.identity.chain;
  }

  /** Existing user mailboxes. */
  get mailboxes(): readonly string[] {
    return [...this.#mailboxes.values()];
  }

  /**
   * Adds a user mailbox: an address at one of its domains, or a local part at the main domain.
   *
   * @throws PecError `ERR_INVALID_ARGUMENT` for a bad address or a domain it does not serve
   */
  addMailbox(address: string): string {
    if (typeof address !== "string") throw invalid("a mailbox must be a string");
    const full = checkAddress(address.includes("@") ? address : `${address}@${this.domain}`, "mailbox");
    if (!this.serves(domainOf(full))) throw invalid(`mailbox ${full} is not at a domain ${this.name} serves (${this.domains.join(", ")})`);
    this.#mailboxes.set(full.toLowerCase(), full);
    return full;
  }

  /** Whether the mailbox exists. */
  hasMailbox(address: string): boolean {
    return typeof address === "string" && this.#mailboxes.has(address.toLowerCase());
  }

  /** Whether it serves the domain (retired domains excluded). */
  serves(domain: string): boolean {
    return typeof domain === "string" && this.domains.includes(domain.toLowerCase());
  }

  /** A JSON-safe summary. */
  toJSON(): {
    /** {@link Gestore.name}. */
    name: string;
    /** {@link Gestore.domain}. */
    domain: string;
    /** {@link Gestore.domains}. */
    domains: string[];
    /** {@link Gestore.retiredDomains}. */
    retiredDomains: string[];
    /** {@link Gestore.email}. */
    email: string;
    /** {@link Gestore.mailReceipt}. */
    mailReceipt: string;
  } {
    return {
      name: this.name,
      domain: this.domain,
      domains: [...this.domains],
      retiredDomains: [...this.retiredDomains],
      email: this.email,
      mailReceipt: this.mailReceipt,
    };
  }

  /** Its certificate must be valid when it signs: a simulation outside the validity would only produce anomalie. */
  #checkValidAt(date: Date): void {
    if (date < this.identity.notBefore || date > this.identity.notAfter) {
      throw invalid(
        `the certificate of ${this.name} is valid from ${this.identity.notBefore.toISOString()} to ${this.identity.notAfter.toISOString()}, ` +
          `not at ${date.toISOString()}: create the network with notBefore before the simulated start`,
      );
    }
  }

  /**
   * Plays the whole flow of a message a user of this gestore submits: the punto di
   * accesso's checks (spec §8.3) and antivirus, then accettazione (or non accettazione),
   * the busta to every recipient's gestore (or the Internet for esterno recipients), each
   * receiving gestore's presa in carico, delivery and avvenuta consegna (or mancata
   * consegna, rilevazione virus), this gestore's mancata consegna per virus, and the
   * 12 h / 24 h timeout notices. Returns every message in time order.
   *
   * A submission that fails the formal checks is not an exception: the flow is one avviso
   * di non accettazione. Only misuse throws.
   *
   * @param original - the message as the user's client submits it (bytes), or an object
   *   to compose it from (its `date` defaults to the start time)
   * @throws PecError `ERR_INVALID_ARGUMENT` when the SMTP sender is not a mailbox of this
   *   gestore, for malformed options, or when a certificate is not valid at the simulated
   *   time; `ERR_MIME_MALFORMED` when the bytes are not a message
   * @example
   * ```ts
   * const flow = await alfa.send(
   *   { from: "mario.rossi@pec.alfa.test", to: "anna.bianchi@pec.beta.test", cc: "luca.verdi@pec.beta.test",
   *     subject: "Offerta", text: "In allegato.", attachments: [{ filename: "offerta.pdf", content: samplePdf("Offerta") }] },
   *   { start: new Date("2026-03-16T09:30:00Z") },
   * );
   * flow.messages.map((m) => `${m.step} ${m.type} ${m.variant ?? ""}`);
   * // 1 accettazione, 2 posta-certificata completa, 3 presa-in-carico, 4 posta-certificata completa (delivered),
   * // 5 avvenuta-consegna completa, 6 posta-certificata (delivered), 7 avvenuta-consegna sintetica
   * ```
   */
  async send(original: Uint8Array | ComposeMessageInput, options: SendOptions = {}): Promise<PecFlow> {
    checkOptionsObject(options, "options");
    const net = this.network;
    const start = checkDate(options.start ?? net.now(), "options.start");
    const ctx = this.#context(options);
    let bytes: Uint8Array;
    if (original instanceof Uint8Array) bytes = toCrlf(original);
    else if (typeof original === "object" && original !== null) bytes = composeMessage({ ...original, date: original.date ?? start, crypto: original.crypto ?? ctx.crypto });
    else throw invalid("original must be the message bytes or a ComposeMessageInput object");
    const root = parseMime(bytes);

    const accepted = later(start, ACCEPTANCE_DELAY);
    this.#checkValidAt(accepted);
    const sub = this.#examine(root, bytes, options);
    const identificativo =
      options.identificativo ?? newIdentificativo(this.domain, { date: accepted, timeZone: ctx.timeZone, crypto: ctx.crypto });
    const tx = this.#transaction(bytes, sub, identificativo);
    const rec = new FlowRecorder();
    const toSender = (message: BuiltPec, description: string): void => this.#toSender(rec, tx.sender, this, message, description);

    // Punto di accesso: formal checks, then the antivirus (spec §2.2 rows 1-3).
    const virus = sub.problems.length === 0 ? this.antivirus?.(bytes) : undefined;
    if (sub.problems.length > 0 || virus !== undefined) {
      const erroreEsteso = virus ?? sub.problems.join("; ");
      const notice = await buildNonAccettazione(this, tx, { ...buildOptions(ctx, accepted), errore: virus !== undefined ? "virus" : "altro", erroreEsteso });
      toSender(
        notice,
        virus !== undefined
          ? `${this.name} finds ${virus} at submission: the message is not accepted (and kept in the virus store)`
          : `${this.name} refuses the message at submission: ${erroreEsteso}`,
      );
      return rec.finish(bytes, start, identificativo);
    }

    const accettazione = await buildAccettazione(this, tx, buildOptions(ctx, accepted));
    const esterni = tx.recipients.filter((r) => r.tipo === "esterno").length;
    toSender(accettazione, `${this.name} accepts the message for ${plural(tx.recipients.length, "recipient")}${esterni ? ` (${esterni} esterno)` : ""}`);
    const busta = await buildBusta(this, tx, { ...buildOptions(ctx, accepted), original: bytes });

    // One SMTP transaction per receiving gestore (and per Internet domain), in recipient order.
    const groups = new Map<string, { gestore?: Gestore; domain: string; recipients: string[] }>();
    for (const r of tx.recipients) {
      const g = r.tipo === "certificato" ? net.gestoreFor(r.address) : undefined;
      const key = g ? `g:${g.domain}` : `i:${domainOf(r.address)}`;
      const group = groups.get(key) ?? { ...(g && { gestore: g }), domain: domainOf(r.address), recipients: [] };
      group.recipients.push(r.address);
      groups.set(key, group);
    }
    for (const group of groups.values()) {
      const g = group.gestore;
      rec.add({
        emitter: this,
        to: group.recipients,
        destination: g ? { kind: "punto-di-ricezione", gestore: g } : { kind: "internet" },
        message: busta,
        description: g
          ? `${this.name} sends the busta di trasporto to ${g === this ? "its own" : `${g.name}'s`} punto di ricezione for ${group.recipients.join(", ")}`
          : `${this.name} sends the busta di trasporto to the Internet for ${group.recipients.join(", ")} (esterno: no receipt will come back)`,
      });
    }

    const tracking: Tracking = { presa: new Map(), final: new Map(), virusNotices: [] };
    for (const group of groups.values()) {
      const g = group.gestore;
      if (!g) continue;
      // Whole seconds, as every date of the flow: a step dated with milliseconds would sort
      // after the message that follows it (messages keep whole seconds).
      const delay = Math.floor(g.receptionDelay / SECOND) * SECOND;
      const arrival = later(busta.date, (g === this ? LOCAL_TRANSIT : TRANSIT) + delay);
      if (g.availability === "unreachable" || delay >= SCADENZA_AFTER) {
        rec.note(later(busta.date, g === this ? LOCAL_TRANSIT : TRANSIT), `${g.name}'s punto di ricezione does not answer: the busta for ${group.recipients.join(", ")} stays queued at ${this.name}`);
        continue;
      }
      if (delay > 0) {
        rec.note(later(busta.date, TRANSIT), `${g.name}'s punto di ricezione does not answer yet: ${this.name} retries until ${arrival.toISOString()}`);
      }
      await g.#takeBusta(busta, readPec(busta.bytes), group.recipients, arrival, ctx, rec, tracking);
    }

    // Punto di ricezione of this gestore: a rilevazione virus becomes the user's mancata consegna per virus.
    for (const rv of tracking.virusNotices) {
      const at = later(rv.date, (this.network.gestoreByEmail(rv.from) === this ? LOCAL_TRANSIT : TRANSIT) + RECEPTION_DELAY);
      this.#checkValidAt(at);
      const consegna = rv.daticert?.dati.consegna ?? "";
      const notice = await buildErroreConsegna(this, transactionFromBusta(rv.bytes), {
        ...buildOptions(ctx, at),
        consegna,
        errore: "virus",
        ...(rv.daticert?.dati.erroreEsteso !== undefined && { erroreEsteso: rv.daticert.dati.erroreEsteso }),
      });
      toSender(notice, `${this.name} tells the sender that ${consegna} did not get the message because of a virus`);
    }

    // Timeouts (spec §2.2 notes, §4.11): per certificato recipient, from the busta's dispatch.
    const certificati = tx.recipients.filter((r) => r.tipo === "certificato").map((r) => r.address);
    for (const [kind, after] of [
      ["preavviso", PREAVVISO_AFTER],
      ["scadenza", SCADENZA_AFTER],
    ] as const) {
      const deadline = later(busta.date, after);
      for (const r of certificati) {
        const key = r.toLowerCase();
        const presa = tracking.presa.get(key);
        const final = tracking.final.get(key);
        const due =
          kind === "preavviso"
            ? (presa === undefined || presa > deadline) && (final === undefined || final > deadline)
            : final === undefined || final > deadline;
        if (!due) continue;
        this.#checkValidAt(deadline);
        const notice = await buildPreavvisoErroreConsegna(this, tx, { ...buildOptions(ctx, deadline), consegna: r, kind });
        toSender(
          notice,
          kind === "preavviso"
            ? `${this.name} warns the sender: no presa in carico nor consegna for ${r} within 12 hours`
            : `${this.name} ends the transaction for ${r}: no consegna within 24 hours`,
        );
      }
    }
    return rec.finish(bytes, start, identificativo);
  }

  /**
   * The punto di ricezione for a message arriving from outside (another network, the
   * Internet): a valid busta di trasporto from a gestore of the network is taken
   * (presa in carico, delivery, consegna, or the failure notices); a valid receipt is
   * delivered to the mailbox (or service mailbox) it is addressed to; ordinary mail is
   * delivered inside a busta di anomalia (or discarded, when `acceptsOrdinaryMail` is
   * false or it carries a virus); a signed message that fails the checks becomes a busta
   * di anomalia too, and so does a valid busta for an SMTP recipient its daticert does not
   * list (no receipt could name that recipient).
   *
   * Ordinary mail includes Internet bounces: a `From: <>` (or `options.mailFrom: ""`,
   * the null sender) is delivered as `ANOMALIA MESSAGGIO: …` too (spec §4.2, §11 item 23).
   *
   * @throws PecError `ERR_INVALID_ARGUMENT` when no SMTP recipient is at this gestore, or
   *   when a message to wrap has no `From` and no `options.mailFrom` was given;
   *   `ERR_MIME_MALFORMED` when the bytes are not a message
   * @example
   * ```ts
   * const flow = await beta.receive({ from: "info@azienda.example", to: "anna.bianchi@pec.beta.test", subject: "Ciao", text: "Posta ordinaria" });
   * flow.messages[0]?.type; // "anomalia", delivered to anna.bianchi@pec.beta.test
   * ```
   */
  async receive(message: Uint8Array | ComposeMessageInput, options: ReceiveOptions = {}): Promise<PecFlow> {
    checkOptionsObject(options, "options");
    const at = checkDate(options.at ?? this.network.now(), "options.at");
    const ctx = this.#context(options);
    let bytes: Uint8Array;
    if (message instanceof Uint8Array) bytes = toCrlf(message);
    else if (typeof message === "object" && message !== null) bytes = composeMessage({ ...message, date: message.date ?? at, crypto: message.crypto ?? ctx.crypto });
    else throw invalid("message must be the message bytes or a ComposeMessageInput object");
    // Parsed once: its root gives the envelope's recipients and, for an anomalia, its From.
    const pec = readPec(bytes);
    const root = pec.root;
    if (options.rcptTo !== undefined && !isDenseArray(options.rcptTo)) throw invalid("options.rcptTo must be an array of addresses");
    const rcpts = uniqueAddresses(
      options.rcptTo !== undefined
        ? options.rcptTo.map((r, i) => checkAddress(r, `options.rcptTo[${i}]`))
        : [...headerAddresses(root, "to"), ...headerAddresses(root, "cc")].filter(isAddress),
    );
    const local = rcpts.filter((r) => this.serves(domainOf(r)) || this.retiredDomains.includes(domainOf(r)));
    if (local.length === 0) throw invalid(`none of the recipients (${rcpts.join(", ") || "none"}) is at a domain of ${this.name}`);
    // "" is the null reverse-path (MAIL FROM:<>) of a bounce.
    const mailFrom = options.mailFrom === undefined || options.mailFrom === "" ? options.mailFrom : checkAddress(options.mailFrom, "options.mailFrom");
    const rec = new FlowRecorder();
    const arrival = at;

    if (pec.type === "posta-certificata") {
      const built = builtFromRead(pec, bytes, local, at);
      await this.#takeBusta(built, pec, local, arrival, ctx, rec, undefined, mailFrom);
      return rec.finish(bytes, at, pec.identificativo);
    }
    if ((X_RICEVUTA as readonly string[]).includes(pec.type)) {
      const v = await verifyPec(pec, { trust: await this.network.trustStore(), crypto: ctx.crypto });
      const emitter = this.network.gestoreByEmail(pec.from);
      if (v.valid && v.trusted && emitter) {
        const boxes = local.filter((r) => this.hasMailbox(r) || r.toLowerCase() === this.mailReceipt.toLowerCase());
        for (const r of boxes) {
          const service = r.toLowerCase() === this.mailReceipt.toLowerCase();
          rec.add({
            emitter,
            to: [r],
            destination: { kind: service ? "service-mailbox" : "mailbox", gestore: this },
            message: builtFromRead(pec, bytes, [r], at),
            date: later(at, RECEPTION_DELAY),
            description: `${this.name} delivers the ${PEC_TYPE_LABELS[pec.type].it.toLowerCase()} from ${emitter.name} to ${r}`,
          });
        }
        if (boxes.length === 0) rec.note(at, `${this.name} has no mailbox ${local.join(", ")}: the receipt is refused at SMTP level`);
        return rec.finish(bytes, at, pec.identificativo);
      }
      await this.#anomalia(bytes, root.header("from"), local, later(arrival, RECEPTION_DELAY), "la firma digitale del messaggio non risulta attendibile", ctx, rec, mailFrom);
      return rec.finish(bytes, at, pec.identificativo);
    }

    // Ordinary mail (or a busta di anomalia from elsewhere: not a valid PEC either).
    const virus = this.antivirus?.(bytes);
    if (virus !== undefined) {
      rec.note(later(at, RECEPTION_DELAY), `${this.name} finds ${virus} in ordinary mail: the message is discarded and kept in the virus store`);
    } else if (!this.acceptsOrdinaryMail) {
      rec.note(later(at, RECEPTION_DELAY), `${this.name} does not deliver ordinary mail: the message is discarded`);
    } else {
      await this.#anomalia(bytes, root.header("from"), local, later(at, RECEPTION_DELAY), "il messaggio non proviene da un gestore di posta elettronica certificata (posta ordinaria)", ctx, rec, mailFrom);
    }
    return rec.finish(bytes, at, undefined);
  }

  #context(options: { timeZone?: string | undefined; crypto?: Crypto | undefined; digest?: CmsDigest | undefined }): BuildContext {
    const crypto = options.crypto ?? this.network.crypto;
    if (!crypto?.subtle) throw new PecError("ERR_UNSUPPORTED", "WebCrypto (crypto.subtle) is not available; pass options.crypto");
    return { timeZone: options.timeZone ?? this.network.timeZone, crypto, ...(options.digest !== undefined && { digest: options.digest }) };
  }

  /** Records a notice from this gestore to the sender's mailbox at `home`. */
  #toSender(rec: FlowRecorder, sender: string, home: Gestore, message: BuiltPec, description: string): void {
    rec.add({ emitter: this, to: [sender], destination: { kind: "mailbox", gestore: home }, message, description });
  }

  /** A busta di anomalia around `bytes` (whose From header is `from`), delivered to the existing mailboxes among `rcpts`. */
  async #anomalia(bytes: Uint8Array, from: string | undefined, rcpts: readonly string[], date: Date, reason: string, ctx: BuildContext, rec: FlowRecorder, mailFrom?: string): Promise<void> {
    const boxes = rcpts.filter((r) => this.hasMailbox(r));
    if (boxes.length === 0) {
      rec.note(date, `${this.name} has no mailbox ${rcpts.join(", ")}: the message is refused at SMTP level`);
      return;
    }
    this.#checkValidAt(date);
    // The sender shown: the SMTP MAIL FROM, else the received From (a bounce's From: <>
    // or a From that is not a writable address is handled by buildAnomalia, spec §4.2 and
    // §11 item 23: real gestori deliver bounces as ANOMALIA MESSAGGIO).
    let sender = mailFrom === "" ? undefined : mailFrom;
    if (sender === undefined) {
      const hasFrom = from !== undefined && decodeHeaderValue(from).trim() !== "";
      if (!hasFrom) {
        if (mailFrom !== "") throw invalid('the received message has no From: pass options.mailFrom (the SMTP MAIL FROM, "" for the null sender of a bounce)');
        sender = "";
      }
    }
    const anomalia = await buildAnomalia(this, { ...buildOptions(ctx, date), received: bytes, reason, recipients: boxes, ...(sender !== undefined && { sender }) });
    rec.add({
      emitter: this,
      to: boxes,
      destination: { kind: "mailbox", gestore: this },
      message: anomalia,
      description: `${this.name} delivers the message to ${boxes.join(", ")} inside a busta di anomalia: ${reason}`,
    });
  }

  /**
   * Punto di ricezione and punto di consegna for a busta that reaches this gestore at
   * `arrival` for `rcpts`. Records every message; reports presa in carico and final
   * outcomes to `tracking` (the sender gestore's view), when given.
   */
  async #takeBusta(
    busta: BuiltPec,
    pec: ReadPec,
    arrivedFor: readonly string[],
    arrival: Date,
    ctx: BuildContext,
    rec: FlowRecorder,
    tracking: Tracking | undefined,
    mailFrom?: string,
  ): Promise<void> {
    const received = later(arrival, RECEPTION_DELAY);
    this.#checkValidAt(received);
    // Spec §2.2 notes: signature, origin (a gestore of the network) and validity first.
    const v = await verifyPec(pec, { trust: await this.network.trustStore(), crypto: ctx.crypto });
    const origin = this.network.gestoreByEmail(pec.from);
    if (!(v.valid && v.trusted && origin && pec.daticert)) {
      await this.#anomalia(busta.bytes, pec.root.header("from"), arrivedFor, received, "la firma digitale del messaggio non risulta attendibile", ctx, rec, mailFrom);
      return;
    }
    const tx = transactionFromBusta(pec);
    try {
      checkTransaction(tx);
    } catch (err) {
      if (!(err instanceof PecError)) throw err;
      // Signed and trusted, but the receipts could not carry its data (a msgid that is no msg-id,
      // an address postacert cannot write): a format failure, which §8.5 turns into an anomalia
      // and no receipt. The wording is ours (UNCONFIRMED: no real gestore's text is known).
      await this.#anomalia(busta.bytes, pec.root.header("from"), arrivedFor, received, "i dati di certificazione del messaggio non sono conformi al formato previsto", ctx, rec, mailFrom);
      return;
    }
    // An envelope recipient the daticert does not list (a Bcc, a forwarding): no receipt
    // can name it, so it gets the message inside a busta di anomalia (our wording, UNCONFIRMED).
    const listed = new Set(tx.recipients.map((r) => r.address.toLowerCase()));
    const unlisted = arrivedFor.filter((r) => !listed.has(r.toLowerCase()));
    if (unlisted.length > 0) {
      await this.#anomalia(busta.bytes, pec.root.header("from"), unlisted, received, "il destinatario non è tra quelli indicati nei dati di certificazione del messaggio", ctx, rec, mailFrom);
    }
    const rcpts = unlisted.length === 0 ? arrivedFor : arrivedFor.filter((r) => listed.has(r.toLowerCase()));
    if (rcpts.length === 0) return;
    const senderHome = this.network.gestoreFor(tx.sender) ?? origin;
    const toSender = (message: BuiltPec, description: string): void => this.#toSender(rec, tx.sender, senderHome, message, description);

    const virus = this.antivirus?.(busta.bytes);
    if (virus !== undefined) {
      // Not forwarded, kept in the virus store; one notice per recipient to the sender gestore's service mailbox.
      let t = received;
      for (const r of rcpts) {
        const notice = await buildRilevazioneVirus(this, tx, { ...buildOptions(ctx, t), consegna: r, erroreEsteso: virus, to: origin.mailReceipt });
        rec.add({
          emitter: this,
          to: [origin.mailReceipt],
          destination: { kind: "service-mailbox", gestore: origin },
          message: notice,
          description: `${this.name} finds ${virus} in the busta for ${r}: the message is not delivered, ${origin.name} is told`,
        });
        tracking?.final.set(r.toLowerCase(), t);
        tracking?.virusNotices.push(notice);
        t = later(t, SECOND);
      }
      return;
    }

    const presa = await buildPresaInCarico(this, tx, { ...buildOptions(ctx, received), ricezione: [...rcpts], to: origin.mailReceipt });
    rec.add({
      emitter: this,
      to: [origin.mailReceipt],
      destination: { kind: "service-mailbox", gestore: origin },
      message: presa,
      description: `${this.name} takes charge of the busta for ${rcpts.join(", ")} and tells ${origin === this ? "itself" : origin.name}`,
    });
    for (const r of rcpts) tracking?.presa.set(r.toLowerCase(), presa.date);
    if (this.availability === "stalled") {
      rec.note(received, `${this.name}'s punto di consegna is stalled: the busta for ${rcpts.join(", ")} is never delivered`);
      return;
    }

    let t = later(arrival, DELIVERY_DELAY);
    for (const r of rcpts) {
      this.#checkValidAt(t);
      const domain = domainOf(r);
      if (!this.serves(domain) || !this.hasMailbox(r)) {
        const errore = this.serves(domain) ? "no-dest" : "no-dominio";
        const notice = await buildErroreConsegna(this, tx, { ...buildOptions(ctx, t), consegna: r, errore });
        toSender(
          notice,
          errore === "no-dest"
            ? `${this.name} cannot deliver to ${r}: no such mailbox`
            : `${this.name} cannot deliver to ${r}: it no longer serves ${domain}`,
        );
      } else {
        rec.add({
          // The step is the punto di consegna's, but the message is the one the origin signed.
          emitter: origin,
          to: [r],
          destination: { kind: "mailbox", gestore: this },
          message: busta,
          date: t,
          description: `${this.name} delivers the busta di trasporto into ${r}'s mailbox`,
        });
        const consegna = await buildAvvenutaConsegna(this, tx, { ...buildOptions(ctx, t), consegna: r, original: busta.bytes });
        toSender(consegna, `${this.name} certifies the delivery to ${r} (ricevuta ${consegna.ricevuta ?? "completa"})`);
      }
      tracking?.final.set(r.toLowerCase(), t);
      t = later(t, SECOND);
    }
  }

  /** SMTP envelope and the formal checks of the punto di accesso (spec §8.3). */
  #examine(root: MimeEntity, bytes: Uint8Array, options: SendOptions): Submission {
    const problems: string[] = [];
    const fromValues = root.headerAll("from");
    const from = headerAddresses(root, "from");
    if (fromValues.length !== 1 || from.length !== 1 || !isAddress(from[0]!)) problems.push("il campo From deve contenere un solo indirizzo valido");
    let mailFrom: string;
    if (options.mailFrom !== undefined) mailFrom = checkAddress(options.mailFrom, "options.mailFrom");
    else {
      const first = from.find(isAddress);
      if (first === undefined) throw invalid("the message has no usable From address: pass options.mailFrom (the SMTP MAIL FROM)");
      mailFrom = first;
    }
    if (!this.hasMailbox(mailFrom)) {
      // Authentication happens before any PEC check: an unknown user gets no receipt at all.
      throw invalid(`${mailFrom} is not a mailbox of ${this.name}: its punto di accesso only takes messages from its own users (add it with mailboxes)`);
    }
    const to = headerAddresses(root, "to");
    const cc = headerAddresses(root, "cc");
    const bcc = headerAddresses(root, "bcc");
    if (to.filter(isAddress).length === 0) problems.push("il campo To deve contenere almeno un indirizzo valido");
    for (const [field, list] of [
      ["To", to],
      ["Cc", cc],
    ] as const) {
      for (const a of list) if (!isAddress(a)) problems.push(`l'indirizzo ${JSON.stringify(a)} nel campo ${field} non è valido`);
    }
    if (from.length === 1 && isAddress(from[0]!) && from[0]!.toLowerCase() !== mailFrom.toLowerCase()) {
      problems.push(`il mittente della sessione SMTP (MAIL FROM ${mailFrom}) non corrisponde al campo From (${from[0]})`);
    }
    if (root.headerAll("bcc").some((v) => v.trim() !== "")) problems.push("il campo Bcc non deve contenere valori");
    // The client's Message-ID goes into X-Riferimento-Message-ID and daticert msgid: one
    // that is not an RFC 5322 msg-id (no @, non-ASCII) makes the message non-conformant.
    const messageId = root.header("message-id")?.trim();
    if (messageId !== undefined && messageId !== "" && !isMsgId(messageId)) {
      problems.push(`il campo Message-ID (${JSON.stringify(messageId)}) non è un identificativo di messaggio valido`);
    }
    if (options.rcptTo !== undefined && !isDenseArray(options.rcptTo)) throw invalid("options.rcptTo must be an array of addresses");
    const rcptTo = uniqueAddresses(
      options.rcptTo !== undefined ? options.rcptTo.map((r, i) => checkAddress(r, `options.rcptTo[${i}]`)) : [...to, ...cc, ...bcc].filter(isAddress),
    );
    if (rcptTo.length === 0) throw invalid("the message has no recipient: pass options.rcptTo (the SMTP RCPT TO)");
    const visible = new Set([...to, ...cc].map((a) => a.toLowerCase()));
    for (const r of rcptTo) if (!visible.has(r.toLowerCase())) problems.push(`il destinatario ${r} non è presente nei campi To o Cc`);
    const total = bytes.length * rcptTo.length;
    if (total > this.maxMessageSize) {
      const mb = (n: number): string => `${(n / (1024 * 1024)).toFixed(1).replace(".", ",")} MB`;
      // In bytes where megabytes would read "0,0" or show the two sizes as equal.
      const inMb = this.maxMessageSize >= 1024 * 1024 && mb(total) !== mb(this.maxMessageSize);
      const size = inMb ? mb : (n: number): string => `${n} byte`;
      problems.push(`la dimensione del messaggio per il numero di destinatari (${size(total)}) supera il limite di ${size(this.maxMessageSize)}`);
    }
    const fields = new Map<string, "to" | "cc">();
    for (const a of to) if (!fields.has(a.toLowerCase())) fields.set(a.toLowerCase(), "to");
    for (const a of cc) if (!fields.has(a.toLowerCase())) fields.set(a.toLowerCase(), "cc");
    return { mailFrom, rcptTo, problems, fields };
  }

  /**
   * The transaction facts: sender from MAIL FROM, recipients from RCPT TO (To/Cc only say
   * primary or copy, spec §3.2), the rest from the original's headers.
   */
  #transaction(bytes: Uint8Array, sub: Submission, identificativo: string): PecTransaction {
    const isCertificato = (a: string): boolean => this.network.isCertificato(a);
    const recipients: PecTransactionRecipient[] = sub.rcptTo.map((address) => {
      const field = sub.fields.get(address.toLowerCase());
      return { address, tipo: isCertificato(address) ? "certificato" : "esterno", ...(field !== undefined && { field }) };
    });
    let base: PecTransaction;
    try {
      base = transactionFromOriginal(bytes, { identificativo, isCertificato, sender: sub.mailFrom });
    } catch (err) {
      // Headers too broken for the reader (no To, say): still enough for a non accettazione.
      if (!(err instanceof PecError) || sub.problems.length === 0) throw err;
      let subject = "";
      try {
        subject = decodeHeaderValue(parseMime(bytes).header("subject") ?? "").replace(/[\r\n\0]/g, " ").trim();
      } catch {
        // keep the empty subject
      }
      base = { sender: sub.mailFrom, recipients, subject, identificativo };
    }
    return { ...base, sender: sub.mailFrom, recipients };
  }
}

interface Submission {
  mailFrom: string;
  rcptTo: string[];
  problems: string[];
  fields: Map<string, "to" | "cc">;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/**
 * Where a step lands, for people: `mailbox anna@… (Gestore Beta S.p.A.)`, `service
 * mailbox posta-certificata@… (Gestore Alfa S.p.A.)`, `punto di ricezione of Gestore
 * Beta S.p.A.`, `Internet`.
 *
 * @example
 * ```ts
 * const flow = await alfa.send({ from: "mario.rossi@pec.alfa.test", to: "anna.bianchi@pec.beta.test", subject: "Prova", text: "Ciao" });
 * for (const m of flow.messages) console.log(`${m.step}. ${m.type} → ${destinationLabel(m)}`);
 * ```
 */
export function destinationLabel(m: Pick<FlowMessage, "destination" | "to">): string {
  const d = m.destination;
  switch (d.kind) {
    case "mailbox":
      return `mailbox ${m.to.join(", ")} (${d.gestore.name})`;
    case "service-mailbox":
      return `service mailbox ${m.to.join(", ")} (${d.gestore.name})`;
    case "punto-di-ricezione":
      return `punto di ricezione of ${d.gestore.name}`;
    case "internet":
      return "Internet (ordinary mail)";
  }
}
