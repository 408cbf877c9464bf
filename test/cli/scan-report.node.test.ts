// The scan --report page in real Chromium, opened from disk: transactions, recipient states and
// failures are visible, the filter works, an attacker's subject stays text, nothing is fetched.
// Writes scan-report.png (test-results/screenshots, or docs/screenshots with UPDATE_SCREENSHOTS=1).
// Skips when /usr/bin/chromium is missing.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { SCENARIO_ADDRESSES } from "../../src/simulator/index.js";
import { capture, hostileMessages, parseSummary, simulatorCorpus, writeFolder } from "./scan-fixtures.js";

const CHROMIUM = "/usr/bin/chromium";
const HAS_CHROMIUM = existsSync(CHROMIUM);
const root = resolve(import.meta.dirname, "../..");
const shots = resolve(root, process.env.UPDATE_SCREENSHOTS ? "docs/screenshots" : "test-results/screenshots");
const HOSTILE = `<script>window.pwned=1</script><img src=x onerror="window.pwned=2"> Fattura`;
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
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"],
    });
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
    await page.setViewportSize({ width: 1280, height: 1400 });
  });

  it("saves scan-report.png", async () => {
    await mkdir(shots, { recursive: true });
    await page.screenshot({ path: join(shots, "scan-report.png"), fullPage: false });
    expect(existsSync(join(shots, "scan-report.png"))).toBe(true);
  });
});
