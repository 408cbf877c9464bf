// Shared expectations of the simulator tests: the exact message sequence of every scenario.
import type { FlowMessage } from "../../src/simulator/index.js";
import { SCENARIO_ADDRESSES, type ScenarioName } from "../../src/simulator/index.js";

export const { mario, giulia, anna, luca, nessuno, dismesso, esterno } = SCENARIO_ADDRESSES;
export const ALFA_RECEIPT = "posta-certificata@pec.alfa.test";

/** 16/03/2026 10:30:00 CET: a fixed start so that every date is known. */
export const START = new Date("2026-03-16T09:30:00Z");
/** Certificates valid from well before START. */
export const NOT_BEFORE = new Date("2026-01-01T00:00:00Z");

/** One expected step: type, variant, emitter (gestore domain), destination, SMTP recipients. */
export type Step = [type: string, variant: string | undefined, emitter: string, destination: string, to: string[]];

const A = "pec.alfa.test";
const B = "pec.beta.test";

function ok(tipo: "completa" | "breve" | "sintetica"): Step[] {
  const primary = tipo;
  return [
    ["accettazione", undefined, A, `mailbox:${A}`, [mario]],
    ["posta-certificata", tipo, A, `punto-di-ricezione:${B}`, [anna, luca]],
    ["posta-certificata", tipo, A, `punto-di-ricezione:${A}`, [giulia]],
    ["presa-in-carico", undefined, A, `service-mailbox:${A}`, [ALFA_RECEIPT]],
    ["presa-in-carico", undefined, B, `service-mailbox:${A}`, [ALFA_RECEIPT]],
    ["posta-certificata", tipo, A, `mailbox:${A}`, [giulia]],
    ["avvenuta-consegna", primary, A, `mailbox:${A}`, [mario]],
    ["posta-certificata", tipo, A, `mailbox:${B}`, [anna]],
    ["avvenuta-consegna", primary, B, `mailbox:${A}`, [mario]],
    ["posta-certificata", tipo, A, `mailbox:${B}`, [luca]],
    // Luca is in Cc: always a sintetica (spec §4.7).
    ["avvenuta-consegna", "sintetica", B, `mailbox:${A}`, [mario]],
  ];
}

/** The exact sequence of every scenario. */
export const EXPECTED: Record<ScenarioName, Step[]> = {
  "ok-completa": ok("completa"),
  "ok-breve": ok("breve"),
  "ok-sintetica": ok("sintetica"),
  "unknown-recipient": [
    ["accettazione", undefined, A, `mailbox:${A}`, [mario]],
    ["posta-certificata", "completa", A, `punto-di-ricezione:${B}`, [anna, nessuno]],
    ["presa-in-carico", undefined, B, `service-mailbox:${A}`, [ALFA_RECEIPT]],
    ["posta-certificata", "completa", A, `mailbox:${B}`, [anna]],
    ["avvenuta-consegna", "completa", B, `mailbox:${A}`, [mario]],
    ["errore-consegna", "no-dest", B, `mailbox:${A}`, [mario]],
  ],
  "unknown-domain": [
    ["accettazione", undefined, A, `mailbox:${A}`, [mario]],
    ["posta-certificata", "completa", A, `punto-di-ricezione:${B}`, [dismesso]],
    ["presa-in-carico", undefined, B, `service-mailbox:${A}`, [ALFA_RECEIPT]],
    ["errore-consegna", "no-dominio", B, `mailbox:${A}`, [mario]],
  ],
  "virus-sender": [["non-accettazione", "virus", A, `mailbox:${A}`, [mario]]],
  "virus-recipient": [
    ["accettazione", undefined, A, `mailbox:${A}`, [mario]],
    ["posta-certificata", "completa", A, `punto-di-ricezione:${B}`, [anna]],
    ["rilevazione-virus", "virus", B, `service-mailbox:${A}`, [ALFA_RECEIPT]],
    ["errore-consegna", "virus", A, `mailbox:${A}`, [mario]],
  ],
  "formal-error": [["non-accettazione", "altro", A, `mailbox:${A}`, [mario]]],
  timeout: [
    ["accettazione", undefined, A, `mailbox:${A}`, [mario]],
    ["posta-certificata", "completa", A, `punto-di-ricezione:${B}`, [anna]],
    ["preavviso-errore-consegna", "preavviso", A, `mailbox:${A}`, [mario]],
    ["preavviso-errore-consegna", "scadenza", A, `mailbox:${A}`, [mario]],
  ],
  "timeout-stalled": [
    ["accettazione", undefined, A, `mailbox:${A}`, [mario]],
    ["posta-certificata", "completa", A, `punto-di-ricezione:${B}`, [anna]],
    ["presa-in-carico", undefined, B, `service-mailbox:${A}`, [ALFA_RECEIPT]],
    ["preavviso-errore-consegna", "scadenza", A, `mailbox:${A}`, [mario]],
  ],
  "timeout-late": [
    ["accettazione", undefined, A, `mailbox:${A}`, [mario]],
    ["posta-certificata", "completa", A, `punto-di-ricezione:${B}`, [anna]],
    ["preavviso-errore-consegna", "preavviso", A, `mailbox:${A}`, [mario]],
    ["presa-in-carico", undefined, B, `service-mailbox:${A}`, [ALFA_RECEIPT]],
    ["posta-certificata", "completa", A, `mailbox:${B}`, [anna]],
    ["avvenuta-consegna", "completa", B, `mailbox:${A}`, [mario]],
  ],
  esterno: [
    ["accettazione", undefined, A, `mailbox:${A}`, [mario]],
    ["posta-certificata", "completa", A, `punto-di-ricezione:${B}`, [anna]],
    ["posta-certificata", "completa", A, "internet", [esterno]],
    ["presa-in-carico", undefined, B, `service-mailbox:${A}`, [ALFA_RECEIPT]],
    ["posta-certificata", "completa", A, `mailbox:${B}`, [anna]],
    ["avvenuta-consegna", "completa", B, `mailbox:${A}`, [mario]],
  ],
  anomalia: [["anomalia", undefined, B, `mailbox:${B}`, [anna]]],
};

/** A flow message as a {@link Step}. */
export function stepOf(m: FlowMessage): Step {
  const d = m.destination;
  return [m.type, m.variant, m.emitter.domain, d.kind === "internet" ? "internet" : `${d.kind}:${d.gestore.domain}`, [...m.to]];
}
