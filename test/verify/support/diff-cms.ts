// The CMS side of the differential test (differential.node.test.ts): base signatures
// (postacert's signer or openssl's) read into a mutable tree, and the mutations applied
// to them, each at the ASN.1 level and keeping the structure parseable. A mutation that
// changes signed bytes on purpose re-signs them with the signer's key, so that what is
// tested is the check of the mutated field, not merely a broken signature.
import { CMS, DIGEST_OID, SIG } from "../../../src/smime/oids.js";
import { ECDSA_WITH, SHA_WITH_RSA, type SignDigest } from "../../../src/smime/sign-alg.js";
import { signCms } from "../../../src/smime/sign.js";
import { asBufferSource, concatBytes } from "../../../src/util/bytes.js";
import { T, clone, encode, oidOf, parse, sortSet, walk, type Node } from "./asn1-tree.js";
import { signWith, type SignPlan, type World } from "./diff-pki.js";

export type Digest = SignDigest;
/** Who made the signature the mutations start from. */
export type BaseKind = "postacert" | "postacert-ber" | "openssl" | "openssl-stream" | "openssl-noattr" | "openssl-keyid";
/** RSA signature flavour (EC signers always use ECDSA). */
export type RsaFlavour = "rsaEncryption" | "sha-with-rsa" | "pss";

/** openssl cms -sign, provided by the Node-only test. */
export type OpensslSigner = (world: World, content: Uint8Array, digest: Digest, flags: string[]) => Promise<Uint8Array>;

/** One case under construction. */
export interface CaseCtx {
  ci: Node;
  content: Uint8Array;
  readonly world: World;
  /** How the signer signs when a mutation asks for a new signature. */
  plan: SignPlan;
  /** Set by mutations that change signed bytes: re-sign the signed attributes (or the content) this way. */
  resign?: SignMode;
  /** The signing time meant (what OpenSSL validates at). */
  when: Date;
  /** No usable signingTime attribute: postacert is told `when` as its fallback time. */
  noTime: boolean;
  /** Bytes appended after the ContentInfo. */
  trailing?: Uint8Array;
  /** What the mutations could not do (not applicable to this base). */
  skipped: string[];
}

// --- navigation ---

export function signedData(ci: Node): Node {
  return ci.children![1]!.children![0]!;
}

/** SignedData fields by role (optional ones undefined). */
export function sdFields(ci: Node): { version: Node; digestAlgs: Node; eci: Node; certs?: Node; crls?: Node; sis: Node } {
  const f = signedData(ci).children!;
  let i = 3;
  const certs = f[i]?.tag === 0xa0 ? f[i++] : undefined;
  const crls = f[i]?.tag === 0xa1 ? f[i++] : undefined;
  return { version: f[0]!, digestAlgs: f[1]!, eci: f[2]!, certs, crls, sis: f[i]! };
}

export function signerInfo(ci: Node, k = 0): Node {
  return sdFields(ci).sis.children![k]!;
}

/** SignerInfo fields by role. */
export function siFields(si: Node): { version: Node; sid: Node; digestAlg: Node; attrs?: Node; sigAlg: Node; signature: Node; rest: Node[] } {
  const f = si.children!;
  let i = 3;
  const attrs = f[i]?.tag === 0xa0 ? f[i++] : undefined;
  return { version: f[0]!, sid: f[1]!, digestAlg: f[2]!, attrs, sigAlg: f[i]!, signature: f[i + 1]!, rest: f.slice(i + 2) };
}

function findAttr(attrs: Node, oid: string): Node | undefined {
  return attrs.children!.find((a) => oidOf(a.children![0]!) === oid);
}

/** The attribute, or a throw (its mutation is then skipped: another mutation removed it). */
function attr(attrs: Node, oid: string): Node {
  const a = findAttr(attrs, oid);
  if (!a) throw new Error(`no attribute ${oid}`);
  return a;
}

function removeAttr(attrs: Node, oid: string): void {
  attrs.children = attrs.children!.filter((a) => oidOf(a.children![0]!) !== oid);
}

const DIGEST_BY_OID: Readonly<Record<string, Digest>> = Object.fromEntries(Object.entries(DIGEST_OID).map(([n, o]) => [o, n as Digest]));

/** The digest of the signer's digestAlgorithm (SHA-256 when unknown). */
function siDigest(si: Node): Digest {
  return DIGEST_BY_OID[oidOf(siFields(si).digestAlg.children![0]!)] ?? "SHA-256";
}

/** How the base signature was made, from its SignerInfo. */
function planOf(si: Node, ec: boolean): SignPlan {
  const f = siFields(si);
  const hash = siDigest(si);
  if (ec) return { scheme: "ecdsa", hash };
  if (oidOf(f.sigAlg.children![0]!) !== SIG.rsaPSS) return { scheme: "pkcs1", hash };
  let salt = 20;
  for (const p of f.sigAlg.children![1]?.children ?? []) if (p.tag === 0xa2) salt = p.children![0]!.value!.reduce((a, b) => a * 256 + b, 0);
  return { scheme: "pss", hash, saltLength: salt };
}

function readTime(n: Node): Date {
  const s = new TextDecoder().decode(n.value);
  const m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)!;
  const y = Number(m[1]);
  return new Date(Date.UTC(y + (y >= 50 ? 1900 : 2000), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

async function digestOf(hash: Digest, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(hash, asBufferSource(data)));
}

// --- bases ---

export interface BaseSpec {
  kind: BaseKind;
  digest: Digest;
  rsa: RsaFlavour;
}

/** The base signature of a case, as a tree, with its certificates replaced by the world's bag. */
export async function makeBase(world: World, content: Uint8Array, b: BaseSpec, t0: number, openssl: OpensslSigner): Promise<CaseCtx> {
  const ec = world.signerKey.kind === "ec";
  let der: Uint8Array;
  if (b.kind === "postacert" || b.kind === "postacert-ber") {
    der = await signCms({
      content,
      signer: { certificate: world.signerCert, privateKey: world.signerKey.pair.privateKey },
      digest: b.digest,
      signingTime: new Date(t0),
      encoding: b.kind === "postacert-ber" ? "ber" : "der",
      rsaPss: !ec && b.rsa === "pss",
      rsaSignatureAlgorithm: b.rsa === "sha-with-rsa" ? "sha-with-rsa" : "rsaEncryption",
    });
  } else {
    const flags: string[] = [];
    // OpenSSL 3.0 cannot write RSA-PSS in streaming mode ("illegal zero content"): the BER shape is made below instead.
    if (b.kind === "openssl-stream" && (ec || b.rsa !== "pss")) flags.push("-stream");
    if (b.kind === "openssl-noattr") flags.push("-noattr");
    if (b.kind === "openssl-keyid") flags.push("-keyid");
    if (!ec && b.rsa === "pss") flags.push("-keyopt", "rsa_padding_mode:pss");
    der = await openssl(world, content, b.digest, flags);
  }
  const ci = parse(der);
  if (b.kind === "openssl-stream" && !ec && b.rsa === "pss") for (const n of [ci, ci.children![1]!, signedData(ci)]) n.len = "indef";
  const f = sdFields(ci);
  // The world decides the certificates: replace what the signer put in.
  const certs: Node = { tag: 0xa0, children: world.bag.map((c) => parse(c)), ...(f.certs?.len === "indef" ? { len: "indef" as const } : {}) };
  const sd = signedData(ci);
  sd.children = [f.version, f.digestAlgs, f.eci, certs, ...(world.crls.length ? [T.ctx(1, ...world.crls.map((c) => parse(c)))] : []), f.sis];
  const si = signerInfo(ci);
  const attrs = siFields(si).attrs;
  const st = attrs && findAttr(attrs, CMS.signingTime);
  const when = st ? readTime(st.children![1]!.children![0]!) : new Date(t0);
  return { ci, content, world, plan: planOf(si, ec), when, noTime: !st, skipped: [] };
}

// --- re-signing ---

/** DER of a BER subtree: minimal lengths, constructed strings made primitive (SET OF order is the caller's). */
function derLengths(n: Node): Node {
  const c = clone(n);
  walk(c, (x) => {
    delete x.len;
    if (x.children && (x.tag === 0x24 || x.tag === 0x23 || x.tag === 0x2c)) {
      const parts: Uint8Array[] = [];
      walk(x, (y) => void (y.value && parts.push(x.tag === 0x23 && y !== x ? y.value.subarray(1) : y.value)));
      x.value = x.tag === 0x23 ? concatBytes([Uint8Array.of(0), ...parts]) : concatBytes(parts);
      x.tag &= ~0x20;
      delete x.children;
    }
  });
  return c;
}

/** The bytes the signature covers: the signed attributes as a SET (or the content). */
export function signedBytes(ctx: CaseCtx, mode: SignMode): Uint8Array {
  const attrs = siFields(signerInfo(ctx.ci)).attrs;
  if (!attrs) return ctx.content;
  const set = mode === "as-sent" ? clone(attrs) : derLengths(attrs);
  set.tag = 0x31;
  if (mode === "der") sortSet(set);
  return encode(set);
}

async function resign(ctx: CaseCtx): Promise<void> {
  const f = siFields(signerInfo(ctx.ci));
  f.signature.value = await signWith(ctx.world.signerKey.pair.privateKey, ctx.plan, signedBytes(ctx, ctx.resign ?? "der"));
  // A tree made from a BER base may carry a constructed signature; the value is primitive now.
  f.signature.tag = 0x04;
  delete f.signature.children;
}

// --- mutations ---

/**
 * When a mutation runs: 0 the signed attributes' content, 1 their order and encoding (after
 * every change of content, which re-sorts them), then re-signing, 2 the signature, 3 the
 * structure, 4 last.
 */
type Stage = 0 | 1 | 2 | 3 | 4;

type SignMode = "der" | "as-sent" | "der-unsorted";
/** Of two modes asked for, the one that keeps more of what was sent. */
const MODE_RANK: Readonly<Record<SignMode, number>> = { der: 0, "der-unsorted": 1, "as-sent": 2 };

export interface Mutation {
  readonly name: string;
  readonly stage: Stage;
  /** Whether it makes sense for this case (otherwise it is skipped and recorded). */
  readonly applies?: (ctx: CaseCtx) => boolean;
  readonly run: (ctx: CaseCtx) => void | Promise<void>;
}

const hasAttrs = (ctx: CaseCtx): boolean => siFields(signerInfo(ctx.ci)).attrs !== undefined;
const isEc = (ctx: CaseCtx): boolean => ctx.plan.scheme === "ecdsa";
const isPkcs1 = (ctx: CaseCtx): boolean => ctx.plan.scheme === "pkcs1";
const isPss = (ctx: CaseCtx): boolean => ctx.plan.scheme === "pss";
const attrsOf = (ctx: CaseCtx): Node => siFields(signerInfo(ctx.ci)).attrs!;
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/**
 * Attribute mutation: change the signed attributes, then re-sign (over DER unless `mode`).
 * The attributes are sent in DER SET order too unless `keepOrder` (the order is the mutation):
 * OpenSSL re-encodes them in the order received, so an unsorted SET would fail there for
 * that reason alone.
 */
/** The messageDigest value as a constructed OCTET STRING of two pieces (BER). */
function constructedDigest(a: Node): void {
  const v = attr(a, CMS.messageDigest).children![1]!.children![0]!;
  const d = v.value!;
  v.tag = 0x24;
  v.children = [T.octets(d.slice(0, 5)), T.octets(d.slice(5))];
  delete v.value;
}

function attrMutation(name: string, run: (attrs: Node, ctx: CaseCtx) => void | Promise<void>, mode: SignMode = "der", keepOrder = false): Mutation {
  return {
    name,
    // Order and encoding changes come after content changes (which re-sort the SET).
    stage: keepOrder || mode !== "der" ? 1 : 0,
    applies: hasAttrs,
    run: async (ctx) => {
      const attrs = attrsOf(ctx);
      const before = clone(attrs);
      try {
        await run(attrs, ctx);
      } catch {
        // The attribute it changes is not there (another mutation removed it).
        attrs.children = before.children!;
        ctx.skipped.push(name);
        return;
      }
      if (!keepOrder) {
        // Sorted by the DER encodings, as the signature covers them.
        const order = new Map(attrs.children!.map((a) => [a, encode(derLengths(a))]));
        const sorted = T.set(...attrs.children!.map((a) => derLengths(a)));
        sortSet(sorted);
        const keys = sorted.children!.map((c) => encode(c).join());
        attrs.children = [...attrs.children!].sort((a, b) => keys.indexOf(order.get(a)!.join()) - keys.indexOf(order.get(b)!.join()));
      }
      if (!ctx.resign || MODE_RANK[mode] > MODE_RANK[ctx.resign]) ctx.resign = mode;
    },
  };
}

function setSigningTime(attrs: Node, value: Node): void {
  const st = findAttr(attrs, CMS.signingTime);
  if (st) st.children![1]!.children = [value];
  else attrs.children!.push(T.seq(T.oid(CMS.signingTime), T.set(value)));
}

/** The ECDSA-Sig-Value in the signature OCTET STRING, changed by `f`. */
function ecdsaMutation(name: string, f: (sig: Node, ctx: CaseCtx) => boolean): Mutation {
  return {
    name,
    stage: 2,
    applies: isEc,
    run: (ctx) => {
      const s = siFields(signerInfo(ctx.ci)).signature;
      const tree = parse(s.value!);
      if (!f(tree, ctx)) {
        ctx.skipped.push(name);
        return;
      }
      s.value = encode(tree);
    },
  };
}

const ALL_DIGESTS: readonly Digest[] = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"];
const another = (d: Digest): Digest => (d === "SHA-256" ? "SHA-512" : "SHA-256");

export const MUTATIONS: readonly Mutation[] = [
  // signed attributes: messageDigest
  attrMutation("md-wrong", (a) => {
    attr(a, CMS.messageDigest).children![1]!.children![0]!.value![0]! ^= 1;
  }),
  {
    name: "md-wrong-not-resigned",
    stage: 0,
    applies: hasAttrs,
    run: (ctx) => {
      attr(attrsOf(ctx), CMS.messageDigest).children![1]!.children![0]!.value![0]! ^= 1;
    },
  },
  attrMutation("md-missing", (a) => removeAttr(a, CMS.messageDigest)),
  attrMutation("md-twice", (a) => void a.children!.push(clone(attr(a, CMS.messageDigest)))),
  attrMutation("md-two-values", (a) => {
    const values = attr(a, CMS.messageDigest).children![1]!;
    values.children!.push(clone(values.children![0]!));
  }),
  attrMutation("md-bit-string", (a) => {
    const v = attr(a, CMS.messageDigest).children![1]!.children![0]!;
    v.tag = 0x03;
    v.value = concatBytes([Uint8Array.of(0), v.value!]);
  }),
  // BER: the digest as a constructed OCTET STRING of two pieces, signed as DER (primitive) or as sent.
  attrMutation("md-constructed", constructedDigest, "der", true),
  attrMutation("md-constructed-signed-as-sent", constructedDigest, "as-sent"),
  // contentType
  attrMutation("ct-wrong", (a) => void (attr(a, CMS.contentType).children![1]!.children = [T.oid(CMS.signedData)])),
  attrMutation("ct-missing", (a) => removeAttr(a, CMS.contentType)),
  attrMutation("ct-twice", (a) => void a.children!.push(clone(attr(a, CMS.contentType)))),
  // signingTime
  attrMutation("st-missing", (a, ctx) => {
    removeAttr(a, CMS.signingTime);
    ctx.noTime = true;
  }),
  attrMutation("st-twice", (a) => {
    const st = findAttr(a, CMS.signingTime);
    if (st) a.children!.push(clone(st));
  }),
  attrMutation("st-generalized", (a, ctx) => {
    const d = ctx.when;
    setSigningTime(a, T.timeText(pad(d.getUTCFullYear(), 4) + pad(d.getUTCMonth() + 1) + pad(d.getUTCDate()) + pad(d.getUTCHours()) + pad(d.getUTCMinutes()) + pad(d.getUTCSeconds()) + "Z", true));
  }),
  attrMutation("st-fraction", (a, ctx) => {
    const d = ctx.when;
    setSigningTime(a, T.timeText(pad(d.getUTCFullYear(), 4) + pad(d.getUTCMonth() + 1) + pad(d.getUTCDate()) + pad(d.getUTCHours()) + pad(d.getUTCMinutes()) + pad(d.getUTCSeconds()) + ".5Z", true));
  }),
  attrMutation("st-no-seconds", (a, ctx) => {
    const d = new Date(Math.floor(ctx.when.getTime() / 60_000) * 60_000);
    ctx.when = d;
    setSigningTime(a, T.timeText(pad(d.getUTCFullYear() % 100) + pad(d.getUTCMonth() + 1) + pad(d.getUTCDate()) + pad(d.getUTCHours()) + pad(d.getUTCMinutes()) + "Z"));
  }),
  attrMutation("st-offset", (a, ctx) => {
    const d = new Date(ctx.when.getTime() + 2 * 3_600_000);
    setSigningTime(a, T.timeText(pad(d.getUTCFullYear() % 100) + pad(d.getUTCMonth() + 1) + pad(d.getUTCDate()) + pad(d.getUTCHours()) + pad(d.getUTCMinutes()) + pad(d.getUTCSeconds()) + "+0200"));
  }),
  attrMutation("st-garbage", (a, ctx) => {
    setSigningTime(a, T.timeText("not a time!!Z"));
    ctx.noTime = true;
  }),
  attrMutation("st-month-13", (a, ctx) => {
    setSigningTime(a, T.timeText(pad(ctx.when.getUTCFullYear() % 100) + "1301000000Z"));
    ctx.noTime = true;
  }),
  attrMutation("st-hour-24", (a, ctx) => {
    const d = ctx.when;
    setSigningTime(a, T.timeText(pad(d.getUTCFullYear() % 100) + pad(d.getUTCMonth() + 1) + pad(d.getUTCDate()) + "240000Z"));
    ctx.noTime = true;
  }),
  attrMutation("st-octets", (a, ctx) => {
    // A signingTime that is no time type at all.
    setSigningTime(a, T.octets(ascii("20250101000000Z")));
    ctx.noTime = true;
  }),
  // the SET of attributes: order and encoding
  attrMutation("attrs-reversed-signed-as-sent", (a) => void a.children!.reverse(), "der-unsorted", true),
  attrMutation("attrs-reversed-signed-sorted", (a) => void a.children!.reverse(), "der", true),
  attrMutation("attrs-indefinite", (a) => void (a.len = "indef"), "der", true),
  attrMutation("attrs-indefinite-signed-as-sent", (a) => void (a.len = "indef"), "as-sent"),
  attrMutation("attrs-long-length", (a) => void (a.children![0]!.len = "long"), "der", true),
  attrMutation("attrs-long-length-signed-as-sent", (a) => void (a.children![0]!.len = "long"), "as-sent"),
  attrMutation("attr-unknown-extra", (a) => void a.children!.push(T.seq(T.oid("1.3.6.1.4.1.55555.2.1"), T.set(T.utf8("extra"))))),
  attrMutation("attrs-empty", (a, ctx) => {
    a.children = [];
    ctx.noTime = true;
  }),
  {
    name: "attrs-removed",
    stage: 0,
    applies: hasAttrs,
    run: (ctx) => {
      const si = signerInfo(ctx.ci);
      const attrs = siFields(si).attrs;
      si.children = si.children!.filter((c) => c !== attrs);
      ctx.noTime = true;
      ctx.resign ??= "der";
    },
  },
  attrMutation("algprot-right", (a, ctx) => {
    const f = siFields(signerInfo(ctx.ci));
    a.children!.push(T.seq(T.oid(CMS.cmsAlgorithmProtection), T.set(T.seq(clone(f.digestAlg), { tag: 0xa1, children: clone(f.sigAlg).children! }))));
  }),
  attrMutation("algprot-wrong-digest", (a, ctx) => {
    const f = siFields(signerInfo(ctx.ci));
    const d = another(siDigest(signerInfo(ctx.ci)));
    a.children!.push(T.seq(T.oid(CMS.cmsAlgorithmProtection), T.set(T.seq(T.seq(T.oid(DIGEST_OID[d])), { tag: 0xa1, children: clone(f.sigAlg).children! }))));
  }),
  attrMutation("ess-v2-right", async (a, ctx) => {
    const h = await digestOf("SHA-256", ctx.world.signerCert);
    a.children!.push(T.seq(T.oid(CMS.signingCertificateV2), T.set(T.seq(T.seq(T.seq(T.octets(h)))))));
  }),
  attrMutation("ess-v2-wrong", async (a, ctx) => {
    const h = await digestOf("SHA-256", ctx.world.int);
    a.children!.push(T.seq(T.oid(CMS.signingCertificateV2), T.set(T.seq(T.seq(T.seq(T.octets(h)))))));
  }),
  attrMutation("ess-v2-empty", (a) => {
    // No ESSCertID at all: the attribute names no certificate.
    a.children!.push(T.seq(T.oid(CMS.signingCertificateV2), T.set(T.seq(T.seq()))));
  }),
  attrMutation("ess-v2-unknown-hash", async (a, ctx) => {
    // SHA3-256 (2.16.840.1.101.3.4.2.8): no WebCrypto computes it.
    const h = await digestOf("SHA-256", ctx.world.signerCert);
    a.children!.push(T.seq(T.oid(CMS.signingCertificateV2), T.set(T.seq(T.seq(T.seq(T.seq(T.oid("2.16.840.1.101.3.4.2.8")), T.octets(h)))))));
  }),
  {
    name: "content-type-and-econtent-other",
    // eContentType and the contentType attribute agree on a type other than id-data.
    stage: 0,
    applies: hasAttrs,
    run: (ctx) => {
      const other = "1.2.840.113549.1.9.16.1.4"; // id-ct-TSTInfo
      attr(attrsOf(ctx), CMS.contentType).children![1]!.children = [T.oid(other)];
      sdFields(ctx.ci).eci.children![0] = T.oid(other);
      ctx.resign ??= "der";
    },
  },
  // PSS parameters (re-signed as the mutation says)
  {
    name: "pss-salt-differs",
    stage: 0,
    applies: isPss,
    run: (ctx) => {
      const declared = ctx.plan.saltLength ?? 20;
      // OpenSSL signs with the largest salt by default: a smaller one then.
      ctx.plan = { ...ctx.plan, saltLength: declared > 64 ? 32 : declared + 1 };
      ctx.resign ??= "der";
    },
  },
  {
    name: "pss-hash-differs",
    stage: 0,
    applies: isPss,
    run: (ctx) => {
      // The parameters name another hash (and MGF1 hash); the signature uses the digestAlgorithm's.
      const f = siFields(signerInfo(ctx.ci));
      const h = another(ctx.plan.hash);
      const params = f.sigAlg.children![1]!;
      params.children = params.children!.filter((p) => p.tag !== 0xa0 && p.tag !== 0xa1);
      params.children.unshift(T.ctx(0, T.seq(T.oid(DIGEST_OID[h]))), T.ctx(1, T.seq(T.oid(SIG.mgf1), T.seq(T.oid(DIGEST_OID[h])))));
      ctx.resign ??= "der";
    },
  },
  {
    name: "pss-mgf-differs",
    stage: 0,
    applies: isPss,
    run: (ctx) => {
      // MGF1 named with another hash than the one the signature was made with.
      const params = siFields(signerInfo(ctx.ci)).sigAlg.children![1]!;
      const h = another(ctx.plan.hash);
      params.children = params.children!.filter((p) => p.tag !== 0xa1);
      params.children.splice(params.children[0]?.tag === 0xa0 ? 1 : 0, 0, T.ctx(1, T.seq(T.oid(SIG.mgf1), T.seq(T.oid(DIGEST_OID[h])))));
      ctx.resign ??= "der";
    },
  },
  {
    name: "pss-trailer-2",
    stage: 0,
    applies: isPss,
    run: (ctx) => {
      siFields(signerInfo(ctx.ci)).sigAlg.children![1]!.children!.push(T.ctx(3, T.int(2)));
      ctx.resign ??= "der";
    },
  },
  // signature value
  {
    name: "sig-bit-flipped",
    stage: 2,
    run: (ctx) => {
      const s = siFields(signerInfo(ctx.ci)).signature;
      s.value![s.value!.length - 3]! ^= 0x20;
    },
  },
  {
    name: "sig-trailing-byte",
    stage: 2,
    run: (ctx) => {
      const s = siFields(signerInfo(ctx.ci)).signature;
      s.value = concatBytes([s.value!, Uint8Array.of(0)]);
    },
  },
  {
    name: "sig-leading-zero",
    stage: 2,
    applies: (ctx) => !isEc(ctx),
    run: (ctx) => {
      const s = siFields(signerInfo(ctx.ci)).signature;
      s.value = concatBytes([Uint8Array.of(0), s.value!]);
    },
  },
  {
    name: "sig-truncated",
    stage: 2,
    run: (ctx) => {
      const s = siFields(signerInfo(ctx.ci)).signature;
      s.value = s.value!.slice(0, -1);
    },
  },
  {
    name: "sig-constructed",
    stage: 3,
    run: (ctx) => {
      const s = siFields(signerInfo(ctx.ci)).signature;
      const v = s.value!;
      s.tag = 0x24;
      s.children = [T.octets(v.slice(0, 7)), T.octets(v.slice(7))];
      delete s.value;
    },
  },
  ecdsaMutation("ecdsa-r-padded", (sig) => {
    const r = sig.children![0]!;
    r.value = concatBytes([Uint8Array.of(0), r.value!]);
    return true;
  }),
  ecdsaMutation("ecdsa-long-length", (sig) => {
    sig.len = "long";
    return true;
  }),
  ecdsaMutation("ecdsa-negative", (sig) => {
    // An integer with its high bit set loses its 0x00 sign octet: negative in two's complement.
    for (const n of sig.children!) {
      if (n.value![0] === 0 && n.value!.length > 1 && n.value![1]! & 0x80) {
        n.value = n.value!.slice(1);
        return true;
      }
    }
    return false;
  }),
  ecdsaMutation("ecdsa-indefinite", (sig) => {
    sig.len = "indef";
    return true;
  }),
  ecdsaMutation("ecdsa-third-integer", (sig) => {
    sig.children!.push(T.int(1));
    return true;
  }),
  {
    name: "ecdsa-trailing-inside",
    stage: 2,
    applies: isEc,
    run: (ctx) => {
      const s = siFields(signerInfo(ctx.ci)).signature;
      s.value = concatBytes([s.value!, Uint8Array.of(0, 0)]);
    },
  },
  // algorithm identifiers
  {
    name: "sigalg-ecdsa-on-rsa",
    stage: 2,
    applies: (ctx) => !isEc(ctx),
    run: (ctx) => {
      const si = signerInfo(ctx.ci);
      const i = si.children!.indexOf(siFields(si).sigAlg);
      si.children![i] = T.seq(T.oid(ECDSA_WITH[ctx.plan.hash]));
    },
  },
  {
    name: "sigalg-rsa-on-ec",
    stage: 2,
    applies: isEc,
    run: (ctx) => {
      const si = signerInfo(ctx.ci);
      const i = si.children!.indexOf(siFields(si).sigAlg);
      si.children![i] = T.seq(T.oid(SHA_WITH_RSA[ctx.plan.hash]), T.null());
    },
  },
  {
    name: "sigalg-hash-differs",
    // sha<X>WithRSAEncryption / ecdsa-with-SHA<X> naming another hash than the digestAlgorithm the signature was made with.
    stage: 2,
    applies: (ctx) => isPkcs1(ctx) || isEc(ctx),
    run: (ctx) => {
      const si = signerInfo(ctx.ci);
      const i = si.children!.indexOf(siFields(si).sigAlg);
      const h = another(ctx.plan.hash);
      si.children![i] = isEc(ctx) ? T.seq(T.oid(ECDSA_WITH[h])) : T.seq(T.oid(SHA_WITH_RSA[h]), T.null());
    },
  },
  {
    name: "sigalg-rsa-oid-swapped",
    // rsaEncryption ↔ sha<X>WithRSAEncryption for the same hash: the same signature value.
    stage: 2,
    applies: isPkcs1,
    run: (ctx) => {
      const a = siFields(signerInfo(ctx.ci)).sigAlg;
      a.children![0] = oidOf(a.children![0]!) === SIG.rsaEncryption ? T.oid(SHA_WITH_RSA[ctx.plan.hash]) : T.oid(SIG.rsaEncryption);
    },
  },
  {
    name: "sigalg-no-null",
    stage: 2,
    applies: isPkcs1,
    run: (ctx) => {
      const a = siFields(signerInfo(ctx.ci)).sigAlg;
      a.children = a.children!.slice(0, 1);
    },
  },
  {
    name: "sigalg-unknown",
    stage: 2,
    run: (ctx) => {
      const a = siFields(signerInfo(ctx.ci)).sigAlg;
      a.children = [T.oid("1.3.6.1.4.1.55555.3.1"), T.null()];
    },
  },
  {
    name: "digestalgs-other",
    stage: 3,
    run: (ctx) => {
      const d = siDigest(signerInfo(ctx.ci));
      sdFields(ctx.ci).digestAlgs.children = [T.seq(T.oid(DIGEST_OID[ALL_DIGESTS.find((x) => x !== d)!]))];
    },
  },
  {
    name: "digestalgs-empty",
    stage: 3,
    run: (ctx) => void (sdFields(ctx.ci).digestAlgs.children = []),
  },
  {
    name: "digestalgs-all",
    stage: 3,
    run: (ctx) => void (sdFields(ctx.ci).digestAlgs.children = ALL_DIGESTS.map((d) => T.seq(T.oid(DIGEST_OID[d])))),
  },
  {
    name: "digestalg-null-params",
    stage: 3,
    run: (ctx) => {
      const d = siFields(signerInfo(ctx.ci)).digestAlg;
      d.children = [d.children![0]!, T.null()];
    },
  },
  {
    name: "digestalg-swapped",
    stage: 3,
    run: (ctx) => {
      const d = siFields(signerInfo(ctx.ci)).digestAlg;
      d.children = [T.oid(DIGEST_OID[another(siDigest(signerInfo(ctx.ci)))])];
    },
  },
  {
    name: "digestalg-unknown",
    stage: 3,
    run: (ctx) => void (siFields(signerInfo(ctx.ci)).digestAlg.children = [T.oid("1.3.6.1.4.1.55555.4.1")]),
  },
  // the signer identifier (not signed)
  {
    name: "sid-ski",
    stage: 3,
    run: (ctx) => {
      const si = signerInfo(ctx.ci);
      const f = siFields(si);
      si.children![si.children!.indexOf(f.sid)] = { tag: 0x80, value: ctx.world.signerKey.id.slice() };
      f.version.value = Uint8Array.of(3);
      sdFields(ctx.ci).version.value = Uint8Array.of(3);
    },
  },
  {
    name: "sid-ski-of-intermediate",
    stage: 3,
    run: (ctx) => {
      const si = signerInfo(ctx.ci);
      const f = siFields(si);
      const int = parse(ctx.world.int);
      let ski: Uint8Array | undefined;
      walk(int, (n) => {
        if (n.tag === 0x30 && n.children?.[0]?.tag === 0x06 && oidOf(n.children[0]) === "2.5.29.14") ski = parse(n.children[n.children.length - 1]!.value!).value;
      });
      si.children![si.children!.indexOf(f.sid)] = { tag: 0x80, value: ski ?? Uint8Array.of(1, 2, 3) };
      f.version.value = Uint8Array.of(3);
    },
  },
  {
    name: "sid-serial-other",
    stage: 3,
    run: (ctx) => {
      const f = siFields(signerInfo(ctx.ci));
      if (f.sid.tag !== 0x30) return void ctx.skipped.push("sid-serial-other");
      f.sid.children![1] = T.int(2);
    },
  },
  {
    name: "sid-serial-padded",
    stage: 3,
    run: (ctx) => {
      const f = siFields(signerInfo(ctx.ci));
      if (f.sid.tag !== 0x30) return void ctx.skipped.push("sid-serial-padded");
      const s = f.sid.children![1]!;
      s.value = concatBytes([Uint8Array.of(0), s.value!]);
    },
  },
  {
    name: "sid-issuer-lower-case",
    stage: 3,
    run: (ctx) => {
      const f = siFields(signerInfo(ctx.ci));
      if (f.sid.tag !== 0x30) return void ctx.skipped.push("sid-issuer-lower-case");
      walk(f.sid.children![0]!, (n) => {
        // ASCII letters only: Unicode case folding is a difference of its own (see the leaf-issuer-unicode-case world).
        if ((n.tag === 0x0c || n.tag === 0x13) && n.value) n.value = n.value.map((b) => (b >= 0x41 && b <= 0x5a ? b + 0x20 : b));
      });
    },
  },
  // certificates and structure
  {
    name: "bag-without-signer",
    stage: 3,
    run: (ctx) => {
      const c = sdFields(ctx.ci).certs!;
      const signer = encode(parse(ctx.world.signerCert));
      c.children = c.children!.filter((x) => encode(x).join() !== signer.join());
    },
  },
  { name: "bag-reversed", stage: 3, run: (ctx) => void sdFields(ctx.ci).certs!.children!.reverse() },
  {
    name: "bag-doubled",
    stage: 3,
    run: (ctx) => {
      const c = sdFields(ctx.ci).certs!;
      c.children = [...c.children!, ...c.children!.map(clone)];
    },
  },
  { name: "bag-decoy-first", stage: 3, run: (ctx) => void sdFields(ctx.ci).certs!.children!.unshift(parse(ctx.world.decoy)) },
  { name: "bag-decoy-last", stage: 3, run: (ctx) => void sdFields(ctx.ci).certs!.children!.push(parse(ctx.world.decoy)) },
  { name: "bag-unrelated", stage: 3, run: (ctx) => void sdFields(ctx.ci).certs!.children!.unshift(parse(ctx.world.other)) },
  {
    name: "bag-absent",
    stage: 3,
    run: (ctx) => {
      const sd = signedData(ctx.ci);
      sd.children = sd.children!.filter((c) => c.tag !== 0xa0);
    },
  },
  {
    name: "ber-outer",
    stage: 3,
    run: (ctx) => {
      ctx.ci.len = "indef";
      ctx.ci.children![1]!.len = "indef";
      signedData(ctx.ci).len = "indef";
      sdFields(ctx.ci).sis.len = "indef";
      sdFields(ctx.ci).eci.len = "indef";
    },
  },
  { name: "ber-certificates", stage: 3, run: (ctx) => void (sdFields(ctx.ci).certs!.len = "indef") },
  {
    name: "ber-long-lengths",
    stage: 3,
    run: (ctx) => {
      signedData(ctx.ci).len = "long";
      signerInfo(ctx.ci).len = "long";
      siFields(signerInfo(ctx.ci)).digestAlg.len = "long";
    },
  },
  { name: "trailing-garbage", stage: 3, run: (ctx) => void (ctx.trailing = Uint8Array.of(0, 0, 0x0d, 0x0a, 0x41)) },
  {
    name: "si-unknown-field",
    stage: 3,
    run: (ctx) => void signerInfo(ctx.ci).children!.push({ tag: 0x85, value: Uint8Array.of(1, 2, 3) }),
  },
  {
    name: "unsigned-attribute",
    stage: 3,
    run: (ctx) => void signerInfo(ctx.ci).children!.push(T.ctx(1, T.seq(T.oid("1.3.6.1.4.1.55555.2.2"), T.set(T.utf8("unsigned"))))),
  },
  {
    name: "signer-twice",
    stage: 3,
    run: (ctx) => {
      const sis = sdFields(ctx.ci).sis;
      sis.children!.push(clone(sis.children![0]!));
    },
  },
  {
    name: "second-signer-broken",
    stage: 3,
    run: (ctx) => {
      const sis = sdFields(ctx.ci).sis;
      const copy = clone(sis.children![0]!);
      const s = siFields(copy).signature;
      if (s.value) s.value[5]! ^= 1;
      else s.children![0]!.value![5]! ^= 1;
      sis.children!.push(copy);
    },
  },
  {
    name: "no-signers",
    stage: 4,
    run: (ctx) => void (sdFields(ctx.ci).sis.children = []),
  },
  {
    name: "content-altered",
    stage: 3,
    run: (ctx) => {
      const c = ctx.content.slice();
      c[c.length - 3]! ^= 0x01;
      ctx.content = c;
    },
  },
];

export const MUTATION_NAMES: readonly string[] = MUTATIONS.map((m) => m.name);

/** Applies the named mutations in stage order, re-signing where asked. */
export async function mutate(ctx: CaseCtx, names: readonly string[]): Promise<void> {
  const list = names.map((n) => MUTATIONS.find((m) => m.name === n)!).sort((a, b) => a.stage - b.stage);
  let resigned = false;
  for (const m of list) {
    if (m.stage > 1 && ctx.resign && !resigned) {
      await resign(ctx);
      resigned = true;
    }
    if (m.applies && !m.applies(ctx)) {
      ctx.skipped.push(m.name);
      continue;
    }
    try {
      await m.run(ctx);
    } catch {
      // What it changes is gone (e.g. the SignerInfos, removed by another mutation).
      ctx.skipped.push(m.name);
    }
  }
  if (ctx.resign && !resigned) await resign(ctx);
}

/** The bytes of the case. */
export function bytesOf(ctx: CaseCtx): Uint8Array {
  const der = encode(ctx.ci);
  return ctx.trailing ? concatBytes([der, ctx.trailing]) : der;
}
