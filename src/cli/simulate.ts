/**
 * `postacert simulate` (every scenario's messages as .eml files, with the test CA and the
 * gestori LDIF) and `postacert demo` (the `npm start` walk-through of one flow).
 */
import { readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { PEC_TYPE_LABELS } from "../pec/constants.js";
import { verifyPec } from "../pec/verify.js";
import { PecNetwork, destinationLabel } from "../simulator/gestore.js";
import type { FlowMessage, PecFlow } from "../simulator/gestore.js";
import {
  SCENARIOS,
  SCENARIO_ADDRESSES,
  SCENARIO_NAMES,
  createScenarioPki,
  isScenarioName,
  runScenario,
  samplePdf,
  scenarioNetwork,
} from "../simulator/scenarios.js";
import { TrustStore } from "../trust/store.js";
import { type Io, UsageError, makeDir, paint, writeFresh } from "./io.js";

/** File name of a step: `<nn>-<type>.eml` (design.md CLI contract). */
export function stepFileName(m: Pick<FlowMessage, "step" | "type">, total: number): string {
  return `${String(m.step).padStart(Math.max(2, String(total).length), "0")}-${m.type}.eml`;
}

const STEP_FILE = /^\d{2,}-[a-z-]+\.eml$/;

/**
 * Removes the step files an earlier run left in `dir` (only `<nn>-<type>.eml`: nothing else is
 * ours); returns how many.
 */
async function clearSteps(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const n of names) if (STEP_FILE.test(n) && (await unlink(join(dir, n)).then(() => true, () => false))) removed++;
  return removed;
}

/** Writes every message of a flow to `dir`; returns the paths, in step order. */
async function writeFlow(dir: string, flow: PecFlow): Promise<string[]> {
  await makeDir(dir);
  await clearSteps(dir);
  const paths: string[] = [];
  for (const m of flow.messages) {
    const path = join(dir, stepFileName(m, flow.messages.length));
    await writeFresh(path, m.message.bytes, true);
    paths.push(path);
  }
  return paths;
}

/** Italian label and variant; a busta's variant (the receipt type asked for) would read as its own type, so it is left out. */
function label(m: FlowMessage): string {
  const l = PEC_TYPE_LABELS[m.type];
  return `${l.it}${m.variant && m.type !== "posta-certificata" ? ` (${m.variant})` : ""}`;
}

/** `postacert simulate [--scenario <name>|all] [--out <dir>] [--list]` */
export async function runSimulate(opts: { scenario: string; out: string; list: boolean }, io: Io): Promise<number> {
  if (opts.list) {
    const width = Math.max(...SCENARIO_NAMES.map((n) => n.length));
    for (const s of SCENARIOS) io.out(`${paint(io, "bold", s.name.padEnd(width))}  ${s.description}\n`);
    return 0;
  }
  const chosen = opts.scenario === "all" ? [...SCENARIO_NAMES] : isScenarioName(opts.scenario) ? [opts.scenario] : undefined;
  if (!chosen) throw new UsageError(`unknown scenario "${opts.scenario}"; "postacert simulate --list" lists them`);
  if (typeof opts.out !== "string" || opts.out === "") throw new UsageError("--out needs a folder");

  // RSA-2048 as real gestori use: a few hundred milliseconds of key generation, once.
  const pki = await createScenarioPki({ keyAlgorithm: "RSA-2048" });
  const start = new Date();
  const { network } = await scenarioNetwork(pki);
  await makeDir(opts.out);
  await writeFresh(join(opts.out, "ca.pem"), network.caPem(), true);
  await writeFresh(join(opts.out, "gestori.ldif"), await network.igpecLdif(), true);

  // Every run makes a new CA and overwrites ca.pem: an earlier run's scenarios left in --out
  // would no longer verify against it, so their messages go (other files stay).
  for (const name of SCENARIO_NAMES) {
    if (chosen.includes(name)) continue;
    const removed = await clearSteps(join(opts.out, name));
    if (removed > 0) io.err(`postacert: removed ${removed} messages of an earlier run from ${join(opts.out, name)}: they were signed by another test CA\n`);
  }

  let total = 0;
  for (const name of chosen) {
    const run = await runScenario(name, { pki, start });
    const paths = await writeFlow(join(opts.out, name), run.flow);
    io.out(`${paint(io, "bold", name)}: ${run.info.description}\n`);
    run.flow.messages.forEach((m, i) => {
      io.out(`  ${paths[i]}  ${paint(io, "blue", label(m))}  ${m.from} → ${destinationLabel(m)}\n`);
    });
    total += paths.length;
  }
  io.out(
    `\nWrote ${total} messages of ${chosen.length} scenario${chosen.length === 1 ? "" : "s"} to ${opts.out}, ` +
      `with the test CA (${join(opts.out, "ca.pem")}) and the gestori (${join(opts.out, "gestori.ldif")}).\n` +
      `Check them: postacert verify --trust ${join(opts.out, "ca.pem")} ${join(opts.out, chosen[0]!)}\n`,
  );
  return 0;
}

const TIME = new Intl.DateTimeFormat("it-IT", { timeZone: "Europe/Rome", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
const DAY = new Intl.DateTimeFormat("it-IT", { timeZone: "Europe/Rome", day: "2-digit", month: "2-digit", year: "numeric" });

/** `postacert demo [--out <dir>]`: the `npm start` walk-through. */
export async function runDemo(opts: { out: string }, io: Io): Promise<number> {
  if (typeof opts.out !== "string" || opts.out === "") throw new UsageError("--out needs a folder");
  const dir = join(opts.out, "demo");
  io.out(`${paint(io, "bold", "postacert demo")}: a PEC message from one test gestore to another, and every message it causes\n\n`);

  // RSA-2048 like real gestori (their certificates are RSA); generation takes well under a second.
  const network = await PecNetwork.create({ keyAlgorithm: "RSA-2048" });
  const { mario, anna, luca } = SCENARIO_ADDRESSES;
  const alfa = await network.addGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", mailboxes: [mario] });
  const beta = await network.addGestore({ name: "Gestore Beta S.p.A.", domain: "pec.beta.test", mailboxes: [anna, luca] });
  io.out(`Test CA: ${network.ca.subject} (RSA-2048)\n`);
  for (const g of [alfa, beta]) io.out(`Gestore: ${g.name}, domain ${g.domain}, service mailbox ${g.mailReceipt}\n`);

  const pdf = samplePdf("Offerta n. 12/2026");
  const subject = "Offerta n. 12/2026";
  io.out(`\n${mario} sends "${subject}" with offerta.pdf (${pdf.length} bytes)\n  To: ${anna}\n  Cc: ${luca}\n\n`);
  const flow = await alfa.send({
    from: { name: "Mario Rossi", address: mario },
    to: [{ name: "Anna Bianchi", address: anna }],
    cc: [{ name: "Luca Verdi", address: luca }],
    subject,
    text: "Buongiorno,\nin allegato l'offerta richiesta.\n\nCordiali saluti,\nMario Rossi\n",
    attachments: [{ filename: "offerta.pdf", contentType: "application/pdf", content: pdf }],
  });

  const trust = await TrustStore.fromPem(network.caPem());
  await makeDir(dir);
  const paths = await writeFlow(dir, flow);
  await writeFresh(join(dir, "ca.pem"), network.caPem(), true);
  await writeFresh(join(dir, "gestori.ldif"), await network.igpecLdif(), true);

  let failed = 0;
  for (const [i, m] of flow.messages.entries()) {
    const v = await verifyPec(m.message.bytes, { trust });
    const ok = v.valid && v.trusted;
    if (!ok) failed++;
    const l = PEC_TYPE_LABELS[m.type];
    io.out(
      `${paint(io, "bold", `${String(m.step).padStart(2)}.`)} ${paint(io, "blue", label(m))}` +
        ` ${paint(io, "dim", `/ ${l.en}`)}  ${DAY.format(m.date)} ${TIME.format(m.date)}\n`,
    );
    io.out(`    ${m.from} → ${m.to.join(", ")}  [${destinationLabel(m)}]\n`);
    io.out(`    ${m.description}\n`);
    const issues = v.issues.filter((x) => x.severity === "error").map((x) => x.code);
    io.out(
      `    signature: ${ok ? paint(io, "green", "valid, trusted") : paint(io, "red", `${v.valid ? "valid" : "NOT valid"}, ${v.trusted ? "trusted" : "NOT trusted"}`)}` +
        `${v.signer ? `, signed by ${v.signer}` : ""}${issues.length ? ` (${issues.join(", ")})` : ""}\n`,
    );
    io.out(`    saved as ${paths[i]}\n\n`);
  }
  io.out(
    `Wrote ${paths.length} messages, ca.pem and gestori.ldif to ${dir}. ` +
      (failed === 0 ? paint(io, "green", "Every signature is valid and trusted.") : paint(io, "red", `${failed} signature(s) failed.`)) +
      `\nNext:\n  postacert verify --trust ${join(dir, "ca.pem")} ${join(dir, "*.eml")}\n  postacert inspect ${paths[paths.length - 1] ?? dir}\n  postacert simulate --list\n`,
  );
  return failed === 0 ? 0 : 1;
}
