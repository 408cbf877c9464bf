// The web view in real Chromium: it lists every mailbox and message with type and verdict,
// updates live when a new flow is delivered, and opens the inspector card of a message.
// Writes test-results/screenshots/sandbox.png (docs/screenshots with UPDATE_SCREENSHOTS=1).
// Accessibility: axe-core (WCAG 2.0/2.1 A and AA) on each view, and by hand what axe cannot
// see: keyboard-only use, focus kept across live repaints, headings, the status line.
// Skips when /usr/bin/chromium is missing.
import { existsSync, statSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { chromium, type Browser } from "playwright";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAccettazione } from "postacert";
import { createGestore, createTestCa, samplePdf } from "postacert/simulator";
import { axeViolations } from "../../test/web/a11y.js";
import { startTestSandbox, testConfig, transport, type TestSandbox } from "./helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const HAS_CHROMIUM = existsSync(CHROMIUM);
const sandboxDir = resolve(import.meta.dirname, "..");
const root = resolve(sandboxDir, "..");
const shots = resolve(root, process.env.UPDATE_SCREENSHOTS ? "docs/screenshots" : "test-results/screenshots");
if (!HAS_CHROMIUM) console.warn(`[sandbox/test/web] ${CHROMIUM} not found: the web view test is skipped`);

const mario = "mario.rossi@pec.alfa.test";

describe.skipIf(!HAS_CHROMIUM)("web view in Chromium", () => {
  let t: TestSandbox;
  let browser: Browser;
  beforeAll(async () => {
    // The page is served from sandbox/dist/web: build it when missing or older than its sources,
    // the inspector's components and styles (web/) included.
    const page = join(sandboxDir, "dist", "web", "index.html");
    const sources = [...["main.ts", "index.html", "sandbox.css"].map((f) => join(sandboxDir, "web", f)), ...["dom.ts", "format.ts", "inspect.ts", "render.ts", "style.css"].map((f) => join(root, "web", f))];
    const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
    if (!existsSync(page) || statSync(page).mtimeMs < newest) await build({ configFile: join(sandboxDir, "web", "vite.config.ts"), logLevel: "warn" });
    t = await startTestSandbox(
      testConfig({
        gestori: [
          { name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", mailboxes: [{ address: "mario.rossi", name: "Mario Rossi", password: "pw-mario" }, { address: "giulia.neri", name: "Giulia Neri", password: "pw-giulia" }] },
          { name: "Gestore Beta S.p.A.", domain: "pec.beta.test", mailboxes: [{ address: "anna.bianchi", name: "Anna Bianchi", password: "pw-anna" }, { address: "luca.verdi", name: "Luca Verdi", password: "pw-luca" }] },
        ],
      }),
      { clockSpeed: 1000, dovecot: false, web: true },
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"],
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  }, 60_000);

  async function send(subject: string, to: string[], cc?: string): Promise<void> {
    const tr = transport(t.sandbox, mario, "pw-mario");
    try {
      await tr.sendMail({
        from: { name: "Mario Rossi", address: mario },
        to,
        ...(cc && { cc }),
        subject,
        text: "Buongiorno,\nin allegato l'offerta richiesta.\n",
        attachments: [{ filename: "offerta.pdf", contentType: "application/pdf", content: Buffer.from(samplePdf("Offerta n. 12/2026")) }],
      });
    } finally {
      tr.close();
    }
    await t.sandbox.idle();
  }

  it("lists mailboxes and messages with verdicts, live, and opens a card", async () => {
    await send("Offerta n. 12/2026", ["anna.bianchi@pec.beta.test", "giulia.neri@pec.alfa.test"], "luca.verdi@pec.beta.test");
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    await page.goto(t.sandbox.info.webUrl!);
    await page.waitForSelector("body[data-ready=true]");

    // Mario's mailbox is selected: accettazione + 3 consegne, all trusted.
    const rows = page.locator("table.sbx-msgs tbody tr");
    await expect.poll(() => rows.count()).toBe(4);
    expect(await page.locator("[data-verdict=trusted]").count()).toBe(4);
    expect(await page.locator("nav#boxes button").count()).toBe(7); // 4 users, 2 service mailboxes, internet

    // Live: a new flow shows up without reloading.
    await send("Sollecito", ["anna.bianchi@pec.beta.test"]);
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(6);

    // Anna's mailbox holds the busta; its card shows the daticert and the verified signature.
    await page.click('nav#boxes button[data-box="anna.bianchi@pec.beta.test"]');
    await expect.poll(() => rows.count()).toBe(2);
    await page.click('nav#boxes button[data-box="mario.rossi@pec.alfa.test"]');
    await rows.last().click();
    await page.waitForSelector("body[data-card=ready]");
    const cardText = await page.locator("#cards").innerText();
    expect(cardText).toMatch(/daticert|Dati di certificazione/i);
    expect(cardText).toContain("Gestore Alfa S.p.A.");
    await page.evaluate(() => window.scrollTo(0, 0));
    await mkdir(shots, { recursive: true });
    await page.screenshot({ path: join(shots, "sandbox.png"), fullPage: false });
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it("accessibility: no axe violation in any view; keyboard alone opens a message; focus survives live repaints; the status line says what changed", async () => {
    const anna = "anna.bianchi@pec.beta.test";
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(t.sandbox.info.webUrl!);
    await page.waitForSelector("body[data-ready=true]");
    const rows = page.locator("table.sbx-msgs tbody tr");
    await expect.poll(() => rows.count()).toBe(6);
    expect(await axeViolations(page), "mailbox list").toEqual([]);
    const active = (attr: string): Promise<string | null | undefined> => page.evaluate((a) => document.activeElement?.getAttribute(a), attr);
    const status = async (): Promise<string> => ((await page.locator("#status").textContent()) ?? "").replace(/\s+/g, " ").trim();

    // Headings: h1, then h2 and h3 under it, no level skipped (the gestori's h3 had no h2 above).
    const levels = await page.locator("h1, h2, h3, h4, h5, h6").evaluateAll((hs) => hs.map((h) => Number(h.tagName[1])));
    expect(levels[0]).toBe(1);
    levels.slice(1).forEach((l, i) => expect(l - levels[i]!, `heading ${i + 2} of ${levels.join(",")}`).toBeLessThanOrEqual(1));

    // Keyboard only. A mailbox button keeps the focus through the repaint its own click makes.
    await page.focus(`nav#boxes button[data-box="${anna}"]`);
    await page.keyboard.press("Enter");
    await expect.poll(() => rows.count()).toBe(2);
    expect(await active("data-box")).toBe(anna);
    // Tab goes on to the messages: each row has a button, which opens the card.
    let stops = 0;
    while ((await active("data-open")) == null && stops++ < 20) await page.keyboard.press("Tab");
    const file = await active("data-open");
    expect(file).toBeTruthy();
    await page.keyboard.press("Enter");
    await page.waitForSelector("body[data-card=ready]");
    expect(await page.locator(`button[data-open="${file}"]`).getAttribute("aria-current")).toBe("true");
    expect(await status()).toMatch(/^Aperto: .+ più sotto\. \/ Opened below: .+\.$/);
    expect(await axeViolations(page), "open card").toEqual([]);

    // A delivery while the focus is on a message: the list is drawn anew, the focus stays, and
    // the status line (not the whole list) says what came.
    await send("Terzo sollecito", [anna]);
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(3);
    // (The busta for Anna, and Mario's accettazione and consegna: one refresh or more.)
    await expect.poll(status).toMatch(/^\d+ nuov[oi] messaggi?\. \/ \d+ new messages?\.$/);
    expect(await active("data-open")).toBe(file);
    expect(await page.locator("[aria-live]:not(#status)").count()).toBe(0);

    // The card's remove button gives the focus back to the message that opened it.
    await page.locator("#cards button.remove").focus();
    await page.keyboard.press("Enter");
    expect(await page.locator("#cards article").count()).toBe(0);
    expect(await active("data-open")).toBe(file);

    await page.setViewportSize({ width: 390, height: 900 });
    expect(await axeViolations(page), "390 px").toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});

describe("web endpoints: malformed requests get 4xx answers", () => {
  let t: TestSandbox;
  beforeAll(async () => {
    t = await startTestSandbox(testConfig({}), { dovecot: false, web: true });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  }, 60_000);

  /** Sends `request` as written and returns the status line of the answer ("" when none came). */
  async function raw(request: string): Promise<string> {
    const url = new URL(t.sandbox.info.webUrl!);
    const sock = connect({ host: url.hostname, port: Number(url.port) });
    let text = "";
    sock.on("data", (d: Buffer) => (text += d.toString("latin1")));
    await new Promise<void>((ok) => {
      sock.on("close", () => ok());
      sock.on("error", () => ok());
      sock.write(request);
    });
    return text.split("\r\n")[0] ?? "";
  }

  it("broken percent-encoding or an unparsable target: 400, not 500, and nothing logged as an error", async () => {
    for (const target of ["/%zz", "/%", "/%c3%28", "/%ed%a0%80", "http://[/x"]) {
      expect(await raw(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`), target).toMatch(/^HTTP\/1\.1 400 /);
    }
    expect(t.logs.filter((l) => l.startsWith("web view:"))).toEqual([]);
    // Traversal stays a plain 404.
    expect(await raw(`GET /..%2f..%2fetc%2fpasswd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).toMatch(/^HTTP\/1\.1 404 /);
  });

  it("a file name a client reuses after deleting the message shows the new message, not a remembered one", async () => {
    const box = t.sandbox.info.mailboxes[0]!.address;
    const file = join(t.dir, "mail", box, "Maildir", "new", "1700000000.reused.test");
    const subjects = async (): Promise<string[]> => {
      const state = (await (await fetch(new URL("/api/state", t.sandbox.info.webUrl!))).json()) as { mailboxes: { address: string; messages: { subject: string }[] }[] };
      return state.mailboxes.find((m) => m.address === box)!.messages.map((m) => m.subject);
    };
    const message = (subject: string): string => `From: a@esempio.test\r\nTo: ${box}\r\nSubject: ${subject}\r\n\r\nx\r\n`;
    await writeFile(file, message("primo"));
    expect(await subjects()).toContain("primo");
    await rm(file);
    expect(await subjects()).not.toContain("primo");
    await writeFile(file, message("secondo"));
    expect(await subjects()).toEqual(expect.arrayContaining(["secondo"]));
    expect(await subjects()).not.toContain("primo");
  });

  it("a summary lists the first recipients and their count: n receipts naming n recipients do not make the state grow as n²", async () => {
    const box = t.sandbox.info.mailboxes[0]!.address;
    const ca = await createTestCa();
    const gestore = await createGestore({ name: "Gestore Esterno", domain: "pec.esterno.test", ca });
    const recipients = Array.from({ length: 300 }, (_, i) => ({ address: `destinatario.${i}@pec.beta.test` }));
    const receipt = await buildAccettazione(gestore, { sender: box, recipients, subject: "Circolare", identificativo: "circolare.1@pec.alfa.test" });
    await writeFile(join(t.dir, "mail", box, "Maildir", "new", "1700000001.many.test"), receipt.bytes);
    const state = (await (await fetch(new URL("/api/state", t.sandbox.info.webUrl!))).json()) as {
      mailboxes: { address: string; messages: { file: string; daticert?: { destinatari?: string[]; destinatariTotal?: number } }[] }[];
    };
    const summary = state.mailboxes.find((m) => m.address === box)!.messages.find((m) => m.file === "new/1700000001.many.test")!;
    // It listed all 300 (21 MB of state for one sending to 1,000 recipients).
    expect(summary.daticert?.destinatari).toEqual(recipients.slice(0, 10).map((r) => r.address));
    expect(summary.daticert?.destinatariTotal).toBe(300);
    expect(JSON.stringify(summary).length).toBeLessThan(2000);
  });

  it("what the HTTP parser refuses gets 400 or 431, not a silent close", async () => {
    expect(await raw("GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n")).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(`GET /${"a".repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431 /);
  });
});
