/**
 * `postacert inspect` and `postacert verify`: batches of files, one bad file never stops
 * the batch, a summary at the end.
 */
import { PecError } from "../errors.js";
import { PEC_TYPE_LABELS } from "../pec/constants.js";
import { pecToJson } from "../pec/json.js";
import { readPec } from "../pec/read.js";
import type { ReadPec } from "../pec/types.js";
import { verifyPec } from "../pec/verify.js";
import { claimedSigner } from "../smime/verify.js";
import type { PecVerification } from "../pec/verify.js";
import { systemTrust } from "../node/system-trust.js";
import { type EntryOrError, looksLikeMessage } from "../node/sources.js";
import { type Io, UsageError, jsonLine, gatherInputs, paint } from "./io.js";
import { loadCrls, loadTrust } from "./trust-files.js";
import { printable } from "../util/text.js";

interface Tally {
  ok: number;
  failed: number;
  notPec: number;
  unreadable: number;
}

async function batch(
  args: string[],
  io: Io,
  each: (name: string, bytes: Uint8Array, tally: Tally) => Promise<void>,
): Promise<Tally> {
  const inputs = await gatherInputs(args, io);
  const tally: Tally = { ok: 0, failed: 0, notPec: 0, unreadable: 0 };
  const started = Date.now();
  const showProgress = io.progress && inputs.length > 20;
  let drawn = false;
  const unreadable = (name: string, err: unknown): void => {
    tally.unreadable++;
    // The sources' own messages may already say "cannot read <name>: …".
    const message = (err as Error).message;
    const own = `cannot read ${name}: `;
    io.err(printable(`${name}: cannot read: ${message.startsWith(own) ? message.slice(own.length) : message}`) + "\n");
  };
  const one = async (name: string, bytes: Uint8Array, sniff: boolean): Promise<void> => {
    // A folder's file that is not a message (notes, scripts) is skipped, as scan skips it.
    if (sniff && !looksLikeMessage(bytes)) return;
    try {
      await each(name, bytes, tally);
    } catch (err) {
      if (!(err instanceof PecError)) throw err;
      tally.unreadable++;
      io.err(printable(`${name}: ${err.code}: ${err.message}`) + "\n");
    }
  };
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i]!;
    // The progress line ends without a line break: cleared before this file's lines are
    // printed, or on a terminal they would be glued to it.
    if (drawn) {
      io.err("\r\x1b[2K");
      drawn = false;
    }
    if ("messages" in input) {
      // Only the archive's reading is caught here: what the command does with a message is one()'s.
      const messages = input.messages()[Symbol.asyncIterator]();
      for (;;) {
        let next: IteratorResult<EntryOrError>;
        try {
          next = await messages.next();
        } catch (err) {
          unreadable(input.name, err);
          break;
        }
        if (next.done) break;
        // A message left out (too large, an unreadable ZIP entry) is unreadable; the next ones are read.
        if ("error" in next.value) unreadable(next.value.id, next.value.error);
        else await one(next.value.id, next.value.bytes, false);
      }
    } else {
      let bytes: Uint8Array | undefined;
      try {
        bytes = await input.read();
      } catch (err) {
        unreadable(input.name, err);
      }
      if (bytes) await one(input.name, bytes, input.sniff === true);
    }
    if (showProgress && (i % 10 === 9 || i === inputs.length - 1)) {
      const rate = ((i + 1) / Math.max(1, Date.now() - started)) * 1000;
      io.err(`\r${i + 1}/${inputs.length} files, ${rate.toFixed(0)}/s, ${tally.failed + tally.unreadable} failed`);
      if (i === inputs.length - 1) io.err("\n");
      else drawn = true;
    }
  }
  // A folder with no message in it (certificates, notes) must not pass for a verified one.
  if (tally.ok + tally.failed + tally.notPec + tally.unreadable === 0) throw new UsageError(`no messages in ${args.map((a) => `"${a}"`).join(", ")}`);
  return tally;
}

/** The contract's status: 2 when any input could not be read, else 1 when any failed or is not PEC. */
function exitStatus(t: Tally): number {
  if (t.unreadable > 0) return 2;
  return t.failed + t.notPec > 0 ? 1 : 0;
}

/** `postacert inspect` */
export async function runInspect(args: string[], opts: { json: boolean }, io: Io): Promise<number> {
  const tally = await batch(args, io, async (name, bytes, t) => {
    const pec = readPec(bytes);
    if (pec.type === "not-pec") t.notPec++;
    else t.ok++;
    io.out(opts.json ? jsonLine(pecToJson(pec, { file: name })) : describe(name, pec, io));
  });
  summary(io, tally, "inspected", opts.json);
  return exitStatus(tally);
}

/** `postacert verify` */
export async function runVerify(
  args: string[],
  opts: { json: boolean; trust: string[]; crl: string[]; at?: Date },
  io: Io,
): Promise<number> {
  const trust = opts.trust.length ? await loadTrust(opts.trust) : await systemTrust();
  const crls = await loadCrls(opts.crl);
  const crlsGiven = crls.length > 0 || trust.crls.length > 0;
  const tally = await batch(args, io, async (name, bytes, t) => {
    const pec = readPec(bytes);
    const res = await verifyPec(pec, { trust, crls, ...(opts.at && { at: opts.at }) });
    if (pec.type === "not-pec") t.notPec++;
    else if (res.valid && res.trusted) t.ok++;
    else t.failed++;
    if (opts.json) {
      io.out(jsonLine(pecToJson(pec, { file: name, verification: res })));
    } else io.out(describe(name, pec, io, res, crlsGiven));
  });
  summary(io, tally, "verified", opts.json);
  return exitStatus(tally);
}

function summary(io: Io, t: Tally, verb: string, json: boolean): void {
  const parts = [`${t.ok} ${verb}`, `${t.failed} failed`, `${t.notPec} not PEC`];
  if (t.unreadable) parts.push(`${t.unreadable} unreadable`);
  // The summary goes to stderr with --json so stdout stays one object per line.
  (json ? io.err : io.out)(parts.join(", ") + "\n");
}

function fmtDate(d: Date | undefined): string {
  return d ? d.toISOString().replace(".000Z", "Z") : "-";
}

/**
 * The human-readable report of one message. Every text that comes from the message (or from
 * the file's name) goes through {@link printable}: a subject holding a line break and escape
 * sequences must not forge a line such as "signature: valid and trusted" nor hide the next ones.
 */
function describe(name: string, pec: ReadPec, io: Io, v?: PecVerification, crlsGiven = false): string {
  const p = printable;
  const lines: string[] = [];
  const label = PEC_TYPE_LABELS[pec.type];
  const variant = p([pec.ricevuta, pec.virus ? "virus" : undefined, pec.timeout, pec.wrapped ? "wrapped" : undefined].filter(Boolean).join(", "));
  lines.push(`${paint(io, "bold", p(name))}: ${paint(io, pec.type === "not-pec" ? "yellow" : "blue", pec.type)}${variant ? ` (${variant})` : ""} - ${label.it} / ${label.en}`);
  if (v) {
    const verdict = !v.present
      ? paint(io, "red", "no signature")
      : v.valid && v.trusted
        ? paint(io, "green", "valid and trusted")
        : v.valid
          ? paint(io, "yellow", "valid, not trusted")
          : paint(io, "red", "NOT valid");
    lines.push(`  signature: ${verdict}${v.signer ? `; signer ${p(v.signer)}` : ""}${v.signedAt ? `; signed ${fmtDate(v.signedAt)}` : ""}${v.digestAlgorithm ? `; ${p(v.digestAlgorithm)}` : ""}`);
    // Whether a CRL showed the path's certificates were not revoked: with CRLs at hand, a
    // silent "trusted" would not tell a complete check from a CRL that said nothing.
    const signer = v.cms?.signers[0];
    if (signer && signer.chain.length > 0 && (crlsGiven || (v.cms?.crls.length ?? 0) > 0)) {
      const below = signer.chain.slice(0, Math.max(1, signer.chain.length - 1));
      const open = below.filter((_, i) => !signer.revocationChecked[i]).map((c) => `"${p(c.subject)}"`);
      lines.push(open.length === 0 ? "  revocation: checked against a CRL" : `  revocation: ${paint(io, "yellow", "not checked")} for ${open.join(", ")} (no current and complete CRL of its issuer)`);
    }
  } else if (pec.signature) {
    // inspect does no cryptography: what the signature names, said to be unchecked.
    const c = claimedSigner(pec.signature.cms);
    lines.push(`  signature: present, not checked (use verify)${c.signer ? `; names ${p(c.signer)}` : ""}${c.signedAt ? `; signingTime ${fmtDate(c.signedAt)}` : ""}${c.digestAlgorithm ? `; ${p(c.digestAlgorithm)}` : ""}`);
  }
  if (pec.type !== "not-pec") {
    const d = pec.daticert;
    lines.push(`  oggetto: ${p(pec.originalSubject ?? "-")}`);
    lines.push(`  mittente: ${p(pec.sender ?? "-")}`);
    for (const r of pec.recipients) lines.push(p(`  destinatario: ${r.address}${r.tipo ? ` (${r.tipo})` : ""}${r.field ? ` [${r.field}]` : ""}`));
    lines.push(`  data: ${fmtDate(pec.date)}${d ? p(` (${d.dati.data.giorno} ${d.dati.data.ora} ${d.dati.data.zona})`) : ""}`);
    if (pec.gestoreEmittente) lines.push(`  gestore: ${p(pec.gestoreEmittente)}`);
    if (pec.identificativo) lines.push(`  identificativo: ${p(pec.identificativo)}`);
    if (pec.msgid) lines.push(`  msgid: ${p(pec.msgid)}`);
    if (pec.consegna) lines.push(`  consegna: ${p(pec.consegna)}`);
    if (pec.errore && pec.errore !== "nessuno") lines.push(p(`  errore: ${pec.errore}${pec.erroreEsteso ? ` - ${pec.erroreEsteso}` : ""}`));
    if (pec.original) {
      const names = pec.original.attachments.map((a) => a.filename ?? a.mimeType);
      lines.push(p(`  original: "${pec.original.subject ?? ""}"${names.length ? `; attachments: ${names.join(", ")}` : ""}`));
      if (pec.original.inner) lines.push(`  inner PEC: ${pec.original.inner.type}`);
    }
  } else if (pec.subject) lines.push(`  subject: ${p(pec.subject)}`);
  const issues = [...(v?.issues ?? []), ...pec.issues];
  for (const i of issues) {
    const color = i.severity === "error" ? "red" : i.severity === "warning" ? "yellow" : "dim";
    lines.push(`  ${paint(io, color, i.severity)} ${p(`${i.code}: ${i.message}`)}`);
  }
  return lines.join("\n") + "\n";
}
