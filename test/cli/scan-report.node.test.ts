// The scan --report page in real Chromium, opened from disk: transactions, recipient states and
// failures are visible, the filter works, an attacker's subject stays text, nothing is fetched.
// Writes scan-report.png (test-results/screenshots, or docs/screenshots with UPDATE_SCREENSHOTS=1).
// Accessibility: axe-core (WCAG 2.0/2.1 A and AA) on the CLI's report and on one rendered with
// every recipient state and outcome, plus what axe cannot see (language of parts, the chart's
// text alternative, the filter's live count). Skips when /usr/bin/chromium is missing.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { renderReport } from "../../src/cli/report.js";
import type { ScanRecord } from "../../src/cli/scan-process.js";
import type { PecType } from "../../src/pec/constants.js";
import { SCENARIO_ADDRESSES } from "../../src/simulator/index.js";
import type { RecipientState, RecipientStateName, Transaction, TransactionMessage, TransactionOutcome } from "../../src/transactions/index.js";
import { axeViolations, setDefaultFontSize } from "../web/a11y.js";
import { capture, hostileMessages, parseSummary, simulatorCorpus, writeFolder } from "./scan-fixtures.js";

const CHROMIUM = "/usr/bin/chromium";
const HAS_CHROMIUM = existsSync(CHROMIUM);
const root = resolve(import.meta.dirname, "../..");
const shots = resolve(root, process.env.UPDATE_SCREENSHOTS ? "docs/screenshots" : "test-results/screenshots");
const HOSTILE = `<script>window.pwned=1</script><img src=x onerror="window.pwned=2"> Fattura`;
const LAUNCH = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"];
if (!HAS_CHROMIUM) console.warn(`[test/cli] ${CHROMIUM} not found: the scan report page tests are skipped`);

describe.skipIf(!HAS_CHROMIUM)("scan --report in Chromium", () => {
  let dir: string;
  let browser: Browser;
  let page: Page;
  let summary: Record<string, number>;
  const requests: string[] = [];
  const dialogs: string[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "postacert-scan-report-"));
    const { messages, caPem, pki } = await simulatorCorpus(1);
    const folder = join(dir, "archivio");
    // One message from another test PKI, to have a failure to show.
    const stranger = (await simulatorCorpus(1)).messages.find((m) => m.name.includes("ok-completa") && m.name.includes("accettazione"))!;
    await writeFolder(folder, [...messages, ...(await hostileMessages(pki, HOSTILE)), { ...stranger, name: "sconosciuto.eml" }]);
    await writeFile(join(dir, "ca.pem"), caPem);
    const io = capture();
    const code = await main(["scan", "--jobs", "1", "--trust", join(dir, "ca.pem"), "--at", "2026-03-20T00:00:00Z", "--report", join(dir, "rapporto.html"), folder], io);
    expect(code).toBe(1);
    summary = parseSummary(io.stdout);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH });
    const context = await browser.newContext({ viewport: { width: 1280, height: 1400 }, deviceScaleFactor: 1, locale: "it-IT", timezoneId: "Europe/Rome" });
    page = await context.newPage();
    context.on("request", (r) => requests.push(r.url()));
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    await page.goto(pathToFileURL(join(dir, "rapporto.html")).href);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("shows the counts, one row per transaction and every recipient's state", async () => {
    expect(await page.title()).toContain("PEC");
    const rows = page.locator("#tx tbody tr");
    expect(await rows.count()).toBe(summary["transactions"]);
    expect(await page.locator("#summary .card").first().textContent()).toContain(String(summary["messages"]));
    // ok-completa: Anna delivered, with the time and the proving receipt.
    const ok = rows.filter({ hasText: "Offerta" }).first();
    await ok.waitFor();
    const anna = page.locator(`li.rcpt:has-text("${SCENARIO_ADDRESSES.anna}")`).first();
    expect(await anna.isVisible()).toBe(true);
    const states = await page.locator("li.rcpt").evaluateAll((els) => els.map((e) => e.getAttribute("data-state")));
    for (const s of ["consegnato", "mancata-consegna", "virus", "scaduto", "esterno"]) expect(states).toContain(s);
    const delivered = page.locator('li.rcpt[data-state="consegnato"]').first();
    expect(await delivered.textContent()).toMatch(/Consegnato.*Delivered.*\d{2}\/\d{2}\/\d{4}.*Ricevuta di avvenuta consegna/s);
    // The unknown recipient fails with the reason in both languages.
    // (Located by address: sendings of the same second have no fixed order.)
    const missing = page.locator(`li.rcpt[data-state="mancata-consegna"]:has-text("${SCENARIO_ADDRESSES.nessuno}")`).first();
    expect(await missing.textContent()).toMatch(/Destinatario inesistente.*does not exist/s);
  });

  it("draws the delivery delays and lists the failure in Italian and English", async () => {
    expect(await page.locator("#delays svg rect.bar").count()).toBe(7);
    expect(await page.locator("#delays .stats").textContent()).toMatch(/Consegne misurate.*\d/s);
    const fail = page.locator("#fail tbody tr");
    expect(await fail.count()).toBe(summary["failed verification"]);
    // A CA of the same name but another key: the path to the trusted CA does not verify.
    expect(await fail.first().textContent()).toMatch(/Catena di certificati non valida.*Invalid certificate chain.*CERT_CHAIN_INVALID/s);
  });

  it("the outcome filter and the search box narrow the table", async () => {
    await page.selectOption("#outcome", "errore");
    const visible = await page.locator("#tx tbody tr:not([hidden])").evaluateAll((els) => els.map((e) => e.getAttribute("data-outcome")));
    expect(visible.length).toBeGreaterThan(0);
    expect(new Set(visible)).toEqual(new Set(["errore"]));
    await page.selectOption("#outcome", "");
    await page.fill("#q", "Fattura");
    expect(await page.locator("#tx tbody tr:not([hidden])").count()).toBe(1);
    expect(await page.locator("#shown").textContent()).toBe("1");
    await page.fill("#q", "");
  });

  it("an attacker's subject is text: no script ran, nothing was fetched", async () => {
    const cell = page.locator("#tx tbody tr td.subject", { hasText: "Fattura" }).first();
    expect(await cell.textContent()).toBe(HOSTILE);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator("#tx img, #tx script").count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith("file://"))).toEqual([]);
  });

  it("fits the window: nothing runs off the right edge at 1280 or 800 px", async () => {
    for (const width of [1280, 800]) {
      await page.setViewportSize({ width, height: 1400 });
      const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
      expect(scroll, `${width} px`).toBeLessThanOrEqual(client);
      const table = await page.evaluate(() => {
        const box = document.querySelector(".scroll")!;
        return { scroll: box.scrollWidth, client: box.clientWidth };
      });
      expect(table.scroll, `${width} px, the table`).toBeLessThanOrEqual(table.client);
    }
    // Text zoom to 200 % (WCAG 1.4.4): the report's sizes are all relative, so the text grows
    // with the reader's default size, and the page still fits.
    await page.setViewportSize({ width: 1280, height: 1400 });
    await setDefaultFontSize(page, 32);
    try {
      expect(await page.evaluate(() => getComputedStyle(document.querySelector("td")!).fontSize)).toBe("28.8px");
      const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
      expect(scroll, "200 % text").toBeLessThanOrEqual(client);
    } finally {
      await setDefaultFontSize(page, 16);
    }
    await page.setViewportSize({ width: 1280, height: 1400 });
  });

  it("axe finds no WCAG A/AA violation at 1280 and 320 px (where the tables scroll sideways), light and dark", async () => {
    for (const [width, scheme] of [[1280, "light"], [320, "light"], [1280, "dark"]] as const) {
      await page.setViewportSize({ width, height: 1400 });
      await page.emulateMedia({ colorScheme: scheme });
      expect(await axeViolations(page), `${width} px, ${scheme}`).toEqual([]);
      // Reflow (WCAG 1.4.10): at 320 px only the tables' own boxes scroll sideways, not the page.
      const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
      expect(scroll, `${width} px, the page`).toBeLessThanOrEqual(client);
    }
    await page.emulateMedia({ colorScheme: "light" });
    await page.setViewportSize({ width: 1280, height: 1400 });
    // The boxes that scroll a table take focus, as regions named by their section's heading.
    const names = await page.locator(".scroll").evaluateAll((els) =>
      els.map((e) => `${e.getAttribute("tabindex")} ${e.getAttribute("role")} ${document.getElementById(e.getAttribute("aria-labelledby") ?? "")?.textContent}`),
    );
    // (The "/" between the languages is the stylesheet's: textContent has none.)
    expect(names).toEqual(["0 region Invii e destinatari Sendings and recipients", "0 region Messaggi con problemi Messages with problems"]);
  });

  it("marks every English half, and the library's English issue details, lang=\"en\"", async () => {
    expect(await page.getAttribute("html", "lang")).toBe("it");
    expect(await page.locator("span.en").count()).toBeGreaterThan(50);
    expect(await page.locator('span.en:not([lang="en"])').count()).toBe(0);
    const details = page.locator("#fail .detail");
    expect(await details.count()).toBeGreaterThan(0);
    expect(await page.locator('#fail .detail:not([lang="en"])').count()).toBe(0);
  });

  it("the delay chart has its numbers as a table for screen readers; the bars are for the eye", async () => {
    expect(await page.locator("#delays svg").getAttribute("aria-hidden")).toBe("true");
    const bars = await page.locator("#delays svg text.n").allTextContents();
    const table = page.locator("#delays table");
    expect(await table.locator("caption").textContent()).toMatch(/Consegne per ritardo.*Deliveries by delay/s);
    const rows = await table.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => [tr.querySelector("th")!.textContent, tr.querySelector("td")!.textContent]));
    expect(rows.map((r) => r[0])).toEqual(["< 1 min", "1–5 min", "5–15 min", "15–60 min", "1–6 h", "6–24 h", "> 24 h"]);
    expect(rows.map((r) => r[1])).toEqual(bars);
    // Out of sight, not out of the accessibility tree.
    expect(await table.evaluate((t) => [getComputedStyle(t.parentElement!).position, t.parentElement!.getBoundingClientRect().width])).toEqual(["absolute", 1]);
  });

  it("the filter's count of rows shown is a live status", async () => {
    const count = page.locator("#transactions .filters [role=status]");
    expect(await count.locator("#shown").count()).toBe(1);
    await page.fill("#q", "Fattura");
    expect(((await count.textContent()) ?? "").replace(/\s+/g, " ").trim()).toBe(`1 / ${summary["transactions"]} invii mostrati sendings shown`);
    await page.fill("#q", "");
  });

  it("saves scan-report.png", async () => {
    await mkdir(shots, { recursive: true });
    await page.screenshot({ path: join(shots, "scan-report.png"), fullPage: false });
    expect(existsSync(join(shots, "scan-report.png"))).toBe(true);
  });
});

// A report rendered straight from data with every recipient state, every outcome, overdue
// sendings and both kinds of failure: the CLI's corpus has no recipient left at the 12-hour notice.
describe.skipIf(!HAS_CHROMIUM)("scan report with every recipient state, in Chromium", () => {
  let dir: string;
  let browser: Browser;
  let page: Page;
  const day = (h: number): Date => new Date(Date.UTC(2026, 2, 16, h));
  let n = 0;
  const message = (type: PecType, date: Date, extra: Partial<TransactionMessage> = {}): TransactionMessage => ({
    key: `k${++n}`,
    type,
    virus: false,
    recipients: [],
    ricezione: [],
    date,
    id: `/archivio/${String(n).padStart(2, "0")}-${type}.eml`,
    ...extra,
  });
  const recipient = (address: string, state: RecipientStateName, extra: Partial<RecipientState> = {}): RecipientState => ({ address, state, history: [], ...extra });
  const sending = (subject: string, outcome: TransactionOutcome, recipients: RecipientState[], extra: Partial<Transaction> = {}): Transaction => ({
    key: `id:${subject}`,
    sender: "mario.rossi@pec.alfa.test",
    subject,
    accettazione: message("accettazione", day(8)),
    virus: false,
    presaInCarico: [],
    recipients,
    messages: [],
    outcome,
    start: day(8),
    ...extra,
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "postacert-report-states-"));
    const delivered = sending("Offerta n. 42", "consegnato", [
      recipient("anna.bianchi@pec.beta.test", "consegnato", { date: day(9), ricevuta: "completa", proof: message("avvenuta-consegna", day(9)) }),
      recipient("ufficio@esempio.test", "esterno", { tipo: "esterno" }),
    ]);
    const failed = sending("Fattura 2026/118", "errore", [
      recipient("nessuno@pec.beta.test", "mancata-consegna", { date: day(9), errore: "no-dest", erroreEsteso: "5.1.1 - Utente non riconosciuto", proof: message("errore-consegna", day(9)) }),
      recipient("luca.verdi@pec.beta.test", "virus", { date: day(9), errore: "virus", proof: message("errore-consegna", day(9), { virus: true }) }),
      recipient("ufficio@pec.delta.test", "scaduto", { date: day(32), proof: message("preavviso-errore-consegna", day(32), { timeout: "scadenza" }) }),
    ]);
    const waiting = sending("Sollecito", "in-corso", [
      recipient("ufficio@pec.epsilon.test", "preavviso", { date: day(20), proof: message("preavviso-errore-consegna", day(20), { timeout: "preavviso" }) }),
      recipient("giulia.neri@pec.alfa.test", "in-attesa"),
    ]);
    const refused = sending("Allegato infetto", "non-accettato", [recipient("anna.bianchi@pec.beta.test", "in-attesa")], {
      accettazione: undefined,
      nonAccettazione: message("non-accettazione", day(8), { virus: true }),
      errore: "virus",
      erroreEsteso: "Eicar-Test-Signature",
      virus: true,
    });
    const failures: ScanRecord[] = [
      {
        id: "/archivio/sconosciuto.eml",
        source: "/archivio",
        hash: "00",
        status: "failed",
        summary: message("accettazione", day(8), { subject: "Offerta n. 42", sender: "posta-certificata@pec.alfa.test" }),
        signature: { present: true, valid: true, trusted: false, signer: "CN=Gestore", signedAt: null, digestAlgorithm: "SHA-256", issues: [{ code: "CERT_UNTRUSTED", severity: "error", message: "the signer does not chain to a trust anchor" }] },
        issues: [],
      },
      { id: "/archivio/rotto.eml", source: "/archivio", hash: "", status: "unreadable", issues: [{ code: "ERR_TOO_DEEP", severity: "error", message: "MIME nesting deeper than 32 levels" }] },
    ];
    const html = renderReport({
      generatedAt: day(40),
      at: day(40),
      sources: ["/archivio"],
      counts: { messages: 12, pec: 11, ok: 10, failed: 1, notPec: 0, unreadable: 1, duplicates: 0, fromState: 0, transactions: 4, delivered: 1, failedTransactions: 2, inProgress: 1, overdue: 1 },
      transactions: [delivered, failed, waiting, refused],
      overdue: [
        { transaction: waiting, reasons: [{ reason: "no-consegna", recipient: "giulia.neri@pec.alfa.test", since: day(8) }] },
        { transaction: refused, reasons: [{ reason: "no-accettazione", since: day(8) }] },
      ],
      failures,
      failuresTotal: 2,
    });
    await writeFile(join(dir, "stati.html"), html);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, locale: "it-IT", timezoneId: "Europe/Rome" });
    await page.goto(pathToFileURL(join(dir, "stati.html")).href);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("shows every recipient state and outcome, each in words, not colour alone; axe finds no WCAG A/AA violation at 1280 and 320 px", async () => {
    const states = await page.locator("li.rcpt").evaluateAll((els) => els.map((e) => [e.getAttribute("data-state"), e.querySelector(".badge")!.textContent]));
    expect(states.map((s) => s[0]).sort()).toEqual(["consegnato", "esterno", "in-attesa", "mancata-consegna", "non-inviato", "preavviso", "scaduto", "virus"]);
    for (const [state, label] of states) expect(label, state!).toMatch(/\S+ \S+/);
    expect(new Set(await page.locator("#tx tbody tr").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-outcome"))))).toEqual(new Set(["consegnato", "errore", "in-corso", "non-accettato"]));
    expect(await axeViolations(page), "1280 px").toEqual([]);
    await page.setViewportSize({ width: 320, height: 1000 });
    expect(await axeViolations(page), "320 px").toEqual([]);
    await page.setViewportSize({ width: 1280, height: 1000 });
  });
});
