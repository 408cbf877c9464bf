// The browser inspector page (web/), in real Chromium: build it with Vite, serve the
// output on 127.0.0.1, load trust and messages through the file pickers, and check what
// the cards show. Writes inspector.png and inspector-tampered.png (see `shots`).
// The "accessibility" block checks the page against WCAG 2.1 AA (what EN 301 549 and so the
// Legge Stanca ask of a public administration's pages) with axe-core, in every state worth
// seeing, and measures by hand what axe cannot: focus, live status text, language of parts,
// text zoom. Skips when /usr/bin/chromium is missing.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile, readdir } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { gzipSync } from "node:zlib";
import { makeZip } from "../support/zip.js";
import { extname, join, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from "playwright";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { axeViolations, contrast, setDefaultFontSize, settled as layoutSettled } from "./a11y.js";
import { IDENTIFICATIVO, ORIGINAL_SUBJECT, TAMPERED_AMOUNT, makeSamples, type Samples } from "./samples.js";

const CHROMIUM = "/usr/bin/chromium";
const HAS_CHROMIUM = existsSync(CHROMIUM);
const root = resolve(import.meta.dirname, "../..");
// Screenshots are test artifacts (test-results/); UPDATE_SCREENSHOTS=1 refreshes the
// committed copies in docs/screenshots that the README shows.
const shots = resolve(root, process.env.UPDATE_SCREENSHOTS ? "docs/screenshots" : "test-results/screenshots");

if (!HAS_CHROMIUM) console.warn(`[test/web] ${CHROMIUM} not found: the inspector page tests are skipped`);

const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8" };

/** A static file server for the built page, on 127.0.0.1 and a random port. */
async function serve(dir: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const file = resolve(dir, "." + (path.endsWith("/") ? path + "index.html" : path));
    if (file !== dir && !file.startsWith(dir + sep)) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (body) => res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" }).end(body),
      () => res.writeHead(404).end("not found"),
    );
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const addr = server.address();
  if (!addr || typeof addr === "string") throw new Error("no port");
  return { server, origin: `http://127.0.0.1:${addr.port}` };
}

describe.skipIf(!HAS_CHROMIUM)("inspector page in Chromium", () => {
  let out: string;
  let server: Server;
  let origin: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let samples: Samples;
  let files: string;
  const pageErrors: string[] = [];
  const requests: string[] = [];
  const responses: string[] = [];
  const failures = new Map<string, string>();

  const card = (name: string): Locator => page.locator(`article.card[data-file="${name}"]`);
  const text = async (l: Locator): Promise<string> => ((await l.textContent()) ?? "").replace(/\s+/g, " ").trim();
  const daticert = (c: Locator, field: string): Promise<string> => text(c.locator(`table.daticert tr[data-field="${field}"] td`).first());
  /** Waits until the card exists and its verification is over. */
  const settled = async (name: string): Promise<Locator> => {
    const c = card(name);
    await page.locator(`article.card[data-file="${name}"][aria-busy="false"]`).waitFor({ timeout: 20_000 });
    return c;
  };

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), "postacert-web-"));
    files = join(out, "files");
    await mkdir(files);
    const [, s] = await Promise.all([
      build({ configFile: resolve(root, "web/vite.config.ts"), mode: "production", logLevel: "warn", build: { outDir: join(out, "site"), emptyOutDir: true } }),
      makeSamples(),
    ]);
    samples = s;
    await Promise.all([
      writeFile(join(files, "consegna.eml"), s.consegna),
      writeFile(join(files, "busta.eml"), s.busta),
      writeFile(join(files, "consegna-manomessa.eml"), s.tampered),
      writeFile(join(files, "newsletter.eml"), s.notPec),
      writeFile(join(files, "rumore.eml"), s.garbage),
      writeFile(join(files, "annidato.txt"), s.deep),
      writeFile(join(files, "virus.eml"), s.virus),
      writeFile(join(files, "preavviso.eml"), s.preavviso),
    ]);
    ({ server, origin } = await serve(join(out, "site")));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"],
    });
    context = await browser.newContext({ viewport: { width: 1120, height: 900 }, deviceScaleFactor: 1, acceptDownloads: true, locale: "it-IT", timezoneId: "Europe/Rome" });
    page = await context.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    context.on("request", (r) => requests.push(r.url()));
    context.on("requestfailed", (r) => failures.set(r.url(), r.failure()?.errorText ?? ""));
    context.on("response", (r) => responses.push(r.url()));
    await page.goto(origin + "/");
    await page.locator('body[data-ready="true"]').waitFor();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
    if (out) await rm(out, { recursive: true, force: true });
  });

  it("is a static page with a strict CSP and only relative, local references", async () => {
    const html = await readFile(join(out, "site/index.html"), "utf8");
    const csp = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1] ?? "";
    for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'none'", "frame-src 'none'", "object-src 'none'", "base-uri 'none'", "require-trusted-types-for 'script'"]) {
      expect(csp).toContain(d);
    }
    expect(csp).not.toContain("unsafe");
    const refs = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(2);
    for (const r of refs) expect(r).toMatch(/^(\.\/assets\/|#|data:,$)/);
    const assets = await readdir(join(out, "site/assets"));
    expect(assets.some((a) => a.endsWith(".js"))).toBe(true);
    expect(assets.some((a) => a.endsWith(".css"))).toBe(true);
    const css = await readFile(join(out, "site/assets", assets.find((a) => a.endsWith(".css"))!), "utf8");
    expect(css).not.toMatch(/@import|url\(\s*["']?https?:/);
    // The browser got the CSP and applied the stylesheet.
    expect(await page.locator('meta[http-equiv="Content-Security-Policy"]').count()).toBe(1);
    expect(await page.evaluate(() => getComputedStyle(document.querySelector(".masthead")!).backgroundImage)).toContain("gradient");
  });

  it("is keyboard-usable: Tab reaches the skip link, then the message and trust pickers", async () => {
    const focused: string[] = [];
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press("Tab");
      focused.push(await page.evaluate(() => document.activeElement?.id || document.activeElement?.className || ""));
    }
    expect(focused).toEqual(["skip", "file-input", "trust-input"]);
    // Each picker has a label.
    expect(await text(page.locator('label[for="file-input"]'))).toContain("Choose messages");
    expect(await text(page.locator('label[for="trust-input"]'))).toContain("Load trust");
    expect(await page.locator("h1").count()).toBe(1);
  });

  it("reads and verifies a delivery receipt, and re-verifies it when the test CA is loaded as trust", async () => {
    await page.setInputFiles("#file-input", join(files, "consegna.eml"));
    let c = await settled("consegna.eml");
    // Before any trust: the signature is valid, the gestore not trusted.
    expect(await c.locator("[data-valid]").first().getAttribute("data-valid")).toBe("true");
    expect(await c.locator(".verdict [data-trusted]").getAttribute("data-trusted")).toBe("false");
    expect(await text(c.locator(".verdict"))).toContain("Not trusted");

    await page.setInputFiles("#trust-input", samples.caPem);
    await page.locator('#trust-status[data-state="loaded"]').waitFor();
    expect(await text(page.locator("#trust-status"))).toContain("ca.pem");
    expect(await text(page.locator("#trust-status"))).toContain("CN=postacert Test CA");
    await page.locator('article.card[data-file="consegna.eml"] .verdict [data-trusted="true"]').waitFor({ timeout: 20_000 });
    c = await settled("consegna.eml");

    expect(await text(c.locator(".summary .type"))).toBe("Ricevuta di avvenuta consegna / Delivery receipt");
    expect(await text(c.locator(".chips"))).toContain("completa");
    expect(await c.locator(".verdict .badge").allTextContents()).toEqual(["Firma valida / Signature valid", "Attendibile / Trusted"]);
    expect(await c.getAttribute("class")).toContain("ok");

    // daticert.xml, every field.
    expect(await daticert(c, "tipo")).toBe("avvenuta-consegna");
    expect(await daticert(c, "errore")).toBe("nessuno");
    expect(await daticert(c, "mittente")).toBe("mario.rossi@pec.alfa.test");
    expect(await c.locator('table.daticert tr[data-field="destinatari"] li').allTextContents()).toEqual([
      "anna.bianchi@pec.gamma.test certificato",
      "ufficio.acquisti@esempio.test esterno",
    ]);
    expect(await daticert(c, "risposte")).toBe("mario.rossi@pec.alfa.test");
    expect(await daticert(c, "oggetto")).toBe(ORIGINAL_SUBJECT);
    expect(await daticert(c, "gestore-emittente")).toBe("Gestore Gamma S.p.A.");
    expect(await daticert(c, "data")).toBe("15/06/2025 12:00:07 zona +0200");
    expect(await daticert(c, "identificativo")).toBe(IDENTIFICATIVO);
    expect(await daticert(c, "msgid")).toBe("<20250615.offerta42@pec.alfa.test>");
    expect(await daticert(c, "ricevuta")).toBe("completa");
    expect(await daticert(c, "consegna")).toBe("anna.bianchi@pec.gamma.test");
    expect(await daticert(c, "ricezione")).toBe("—");
    expect(await daticert(c, "errore-esteso")).toBe("—");

    // Signature facts and chain.
    const sig = c.locator("section.signature");
    expect(await text(sig.locator('dd[data-field="signer"]'))).toBe("C=IT, O=Gestore Gamma S.p.A., CN=Posta Certificata Gestore Gamma S.p.A.");
    expect(await text(sig.locator('dd[data-field="digest"]'))).toBe("SHA-256");
    expect(await text(sig.locator('dd[data-field="signedAt"]'))).toContain("2025-06-15 10:00:07 UTC");
    const chain = sig.locator("table.chain tbody tr");
    expect(await chain.count()).toBe(2);
    expect(await text(chain.nth(0))).toContain("CN=Posta Certificata Gestore Gamma S.p.A.");
    expect(await text(chain.nth(0))).toContain("2024-01-01 → 2035-01-01");
    expect(await text(chain.nth(1))).toContain("CN=postacert Test CA");

    // The original message and its attachments.
    const orig = c.locator("section.original");
    expect(await text(orig.locator('dd[data-field="subject"]'))).toBe(ORIGINAL_SUBJECT);
    expect(await text(orig.locator('dd[data-field="from"]'))).toContain("mario.rossi@pec.alfa.test");
    expect(await text(orig.locator('dd[data-field="to"]'))).toContain("anna.bianchi@pec.gamma.test");
    expect(await text(orig.locator("pre.text").first())).toContain("Importo complessivo: 12.500,00 EUR");
    const links = orig.locator(".attachments a.download");
    expect(await links.allTextContents()).toEqual(["offerta-42.pdf", "condizioni generali.txt"]);
    expect(await links.first().getAttribute("href")).toMatch(/^blob:/);
    const [dl] = await Promise.all([page.waitForEvent("download"), links.first().click()]);
    expect(dl.suggestedFilename()).toBe("offerta-42.pdf");
    expect(new Uint8Array(await readFile((await dl.path())!))).toEqual(samples.pdf);

    // The HTML body: only in a sandbox="" frame, whose script never ran.
    await orig.locator("details.html > summary").click();
    const frame = orig.locator("iframe.html-frame");
    await frame.waitFor();
    expect(await frame.getAttribute("sandbox")).toBe("");
    const inner = await (await frame.elementHandle())!.contentFrame();
    expect(inner).not.toBeNull();
    await inner!.locator("b").first().waitFor();
    expect(await page.locator("[data-pwned]").count()).toBe(0);
    expect(await page.title()).not.toBe("pwned");
    expect(await inner!.locator("b").first().textContent()).toBe("offerta n. 42");
    expect(await inner!.evaluate(() => document.body.hasAttribute("data-pwned"))).toBe(false);
    // The message's HTML never became part of the page itself.
    expect(await page.locator("article img, article script").count()).toBe(0);

    // No issue at all for a good receipt.
    expect(await text(c.locator("section.issues"))).toContain("No issues found");
    expect(await c.locator(".key-problems").count()).toBe(0);

    await page.mouse.move(0, 0);
    await mkdir(shots, { recursive: true });
    await page.screenshot({ path: join(shots, "inspector.png"), fullPage: true });
  });

  it("shows a busta, flags the tampered copy, ordinary mail and unreadable files, each on its own card", async () => {
    await page.setInputFiles("#file-input", ["busta.eml", "consegna-manomessa.eml", "newsletter.eml", "rumore.eml", "annidato.txt"].map((f) => join(files, f)));
    for (const f of ["busta.eml", "consegna-manomessa.eml", "newsletter.eml", "rumore.eml", "annidato.txt"]) await settled(f);
    expect(await page.locator("article.card").count()).toBe(6);

    const busta = card("busta.eml");
    expect(await text(busta.locator(".summary .type"))).toBe("Busta di trasporto / Transport envelope");
    expect(await text(busta.locator(".chips"))).toContain("completa");
    expect(await busta.locator(".verdict .badge").allTextContents()).toEqual(["Firma valida / Signature valid", "Attendibile / Trusted"]);
    expect(await daticert(busta, "tipo")).toBe("posta-certificata");
    expect(await daticert(busta, "gestore-emittente")).toBe("Gestore Alfa S.p.A.");
    expect(await text(busta.locator('section.original dd[data-field="subject"]'))).toBe(ORIGINAL_SUBJECT);
    expect(await busta.locator(".attachments a.download").allTextContents()).toEqual(["offerta-42.pdf", "condizioni generali.txt"]);

    const bad = card("consegna-manomessa.eml");
    expect(await text(bad.locator(".summary .type"))).toBe("Ricevuta di avvenuta consegna / Delivery receipt");
    expect(await bad.locator(".verdict [data-valid]").getAttribute("data-valid")).toBe("false");
    expect(await text(bad.locator(".verdict"))).toContain("Firma non valida / Signature not valid");
    expect(await text(bad.locator(".verdict"))).toContain("Not trusted");
    expect(await bad.getAttribute("class")).toContain("bad");
    // The error is shown right under the verdict and in the issues table.
    expect(await bad.locator('.key-problems li[data-code="SIGNATURE_MISMATCH"]').count()).toBe(1);
    const mismatch = bad.locator('section.issues tr[data-code="SIGNATURE_MISMATCH"]');
    expect(await mismatch.count()).toBe(1);
    expect(await mismatch.getAttribute("data-severity")).toBe("error");
    expect(await text(bad.locator("section.original pre.text").first())).toContain(`Importo complessivo: ${TAMPERED_AMOUNT} EUR`);
    expect(await text(bad.locator('section.original dd[data-field="subject"]'))).toBe(ORIGINAL_SUBJECT);

    const plain = card("newsletter.eml");
    expect(await text(plain.locator(".summary .type"))).toBe("Messaggio non PEC / Not a PEC message");
    expect(await text(plain.locator(".verdict"))).toBe("Nessuna firma / No signature");
    expect(await text(plain.locator('dd[data-field="subject"]'))).toBe("Novità di giugno");
    expect(await plain.locator('section.issues tr[data-code="NO_SIGNATURE"]').count()).toBe(1);

    const garbage = card("rumore.eml");
    expect(await garbage.locator('[role="alert"]').count()).toBe(1);
    expect(await text(garbage.locator(".error-box"))).toContain("Non è un messaggio e-mail / Not an e-mail message");
    expect(await garbage.locator(".error-box").getAttribute("data-error")).toBe("NOT_A_MESSAGE");

    const deep = card("annidato.txt");
    expect(await deep.locator(".error-box").getAttribute("data-error")).toBe("ERR_TOO_DEEP");
    expect(await text(deep.locator(".error-box"))).toContain("Messaggio illeggibile / Unreadable message");

    // The page keeps working after the errors: remove cards with their buttons.
    for (const f of ["consegna.eml", "busta.eml", "annidato.txt"]) await card(f).locator("button.remove").click();
    expect(await page.locator("article.card").count()).toBe(3);
    await page.mouse.move(0, 0);
    await page.screenshot({ path: join(shots, "inspector-tampered.png"), fullPage: true });
  });

  it("labels the variants: virus, 12 h timeout", async () => {
    await page.setInputFiles("#file-input", [join(files, "virus.eml"), join(files, "preavviso.eml")]);
    const virus = await settled("virus.eml");
    const late = await settled("preavviso.eml");
    expect(await text(virus.locator(".summary .type"))).toBe("Avviso di non accettazione / Non-acceptance notice");
    expect(await virus.locator(".chips li").allTextContents()).toEqual(["virus", "errore: virus"]);
    expect(await daticert(virus, "errore-esteso")).toBe("Eicar-Test-Signature");
    expect(await text(late.locator(".summary .type"))).toBe("Avviso di mancata consegna per superamento tempo massimo / Delivery timeout notice");
    expect(await text(late.locator(".chips"))).toContain("preavviso 12 h / 12 h notice");
    for (const c of [virus, late]) expect(await c.locator(".verdict .badge").allTextContents()).toEqual(["Firma valida / Signature valid", "Attendibile / Trusted"]);
    await virus.locator("button.remove").click();
    await late.locator("button.remove").click();
    expect(await page.locator("article.card").count()).toBe(3);
  });

  it("shows bidi overrides from a message as U+FFFD: a file name cannot pass for another extension", async () => {
    await writeFile(join(files, "bidi.eml"), samples.bidi);
    await page.setInputFiles("#file-input", [join(files, "bidi.eml")]);
    const c = await settled("bidi.eml");
    expect((await c.textContent()) ?? "").not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    expect(await text(c.locator('section.original dd[data-field="subject"]'))).toBe("Fattura \uFFFDfdp.exe");
    expect(await c.locator(".attachments a.download").allTextContents()).toEqual(["fattura_2025\uFFFDfdp.exe"]);
    await c.locator("button.remove").click();
    expect(await page.locator("article.card").count()).toBe(3);
  });

  it("an mbox gives a card per message; a gzip-compressed file is read decompressed, a damaged one says so", async () => {
    const from = "From MAILER-DAEMON Mon Jun 16 10:00:00 2025\r\n";
    const mbox = Buffer.concat([Buffer.from(from), samples.virus, Buffer.from("\r\n" + from), samples.preavviso, Buffer.from("\r\n")]);
    await writeFile(join(files, "archivio.mbox"), mbox);
    await writeFile(join(files, "busta.eml.gz"), gzipSync(samples.busta));
    await writeFile(join(files, "rotto.eml.gz"), gzipSync(samples.busta).subarray(0, 200));
    await page.setInputFiles("#file-input", ["archivio.mbox", "busta.eml.gz", "rotto.eml.gz"].map((f) => join(files, f)));
    const second = `archivio.mbox#${from.length + samples.virus.length + 2}`;
    const names = ["archivio.mbox#0", second, "busta.eml.gz", "rotto.eml.gz"];
    for (const f of names) await settled(f);
    expect(await text(card("archivio.mbox#0").locator(".summary .type"))).toBe("Avviso di non accettazione / Non-acceptance notice");
    expect(await text(card(second).locator(".summary .type"))).toBe("Avviso di mancata consegna per superamento tempo massimo / Delivery timeout notice");
    expect(await text(card("busta.eml.gz").locator(".summary .type"))).toBe("Busta di trasporto / Transport envelope");
    for (const f of names.slice(0, 3)) expect(await card(f).locator(".verdict .badge").allTextContents()).toEqual(["Firma valida / Signature valid", "Attendibile / Trusted"]);
    const broken = card("rotto.eml.gz");
    expect(await broken.locator(".error-box").getAttribute("data-error")).toBe("ERR_SOURCE");
    expect(await text(broken.locator(".error-box"))).toContain("the gzip-compressed file is damaged");
    for (const f of names) await card(f).locator("button.remove").click();
    expect(await page.locator("article.card").count()).toBe(3);
  });

  /** An mbox of `n` tiny ordinary messages. */
  const tinyMbox = (n: number): string => {
    let box = "";
    for (let i = 0; i < n; i++) box += `From a@b Mon Jun 16 10:00:00 2025\nFrom: a@esempio.test\nSubject: messaggio ${i}\n\ncorpo ${i}\n\n`;
    return box;
  };

  /**
   * Runs `body` on a page of its own (the other tests' cards stay as they are), loaded and ready
   * (`init` runs before the page's scripts), then checks it raised no error and closes it.
   */
  async function onFreshPage(body: (p: Page) => Promise<void>, init?: () => void): Promise<void> {
    const p = await context.newPage();
    const errors: string[] = [];
    p.on("pageerror", (e) => errors.push(e.message));
    try {
      if (init) await p.addInitScript(init);
      await p.goto(origin + "/");
      await p.locator('body[data-ready="true"]').waitFor();
      await body(p);
      expect(errors).toEqual([]);
    } finally {
      await p.close();
    }
  }

  it("a large mbox: 1,000 cards at most on the page, drawn in turns, and the status says how many were left out", async () => {
    await writeFile(join(files, "anno.mbox"), tinyMbox(1200));
    await onFreshPage(async (p) => {
      await p.locator("#file-input").setInputFiles(join(files, "anno.mbox"));
      // The page answers while the cards are drawn: it was held until the last of 1,200.
      await p.locator("#status", { hasText: "Lettura…" }).waitFor({ timeout: 30_000 });
      expect(await p.locator("article.card").count()).toBeLessThan(1000);
      await p.locator("#status", { hasText: "non mostrati" }).waitFor({ timeout: 60_000 });
      expect(await p.locator("article.card").count()).toBe(1000);
      expect(await text(p.locator("#status"))).toContain("200 messaggi non mostrati: la pagina ne mostra 1000 al massimo; per un archivio intero, postacert scan.");
      expect(await p.locator('article.card[data-file="anno.mbox#0"]').count()).toBe(1);
    });
  });

  it("two files dropped at once: still 1,000 cards at most (each drop drawing in the other's turns once saw room for all of its own)", async () => {
    const box = tinyMbox(700);
    await onFreshPage(async (p) => {
      // Two drop events in one task, as two quick drops (or a drop during a long draw) give.
      await p.evaluate((text) => {
        for (const name of ["uno.mbox", "due.mbox"]) {
          const dt = new DataTransfer();
          dt.items.add(new File([text], name));
          document.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
        }
      }, box);
      // Both done: a final status line, and no card drawn for a second.
      for (let last = -1; ; await p.waitForTimeout(1000)) {
        await p.locator("#status", { hasText: "file letti" }).waitFor({ timeout: 60_000 });
        const now = await p.locator("article.card").count();
        if (now === last) break;
        last = now;
      }
      expect(await p.locator("article.card").count()).toBe(1000);
      expect(await text(p.locator("#status"))).toMatch(/\d+ messaggi non mostrati/);
    });
  });

  it("'Clear all' while a file is drawn stops the drawing; a card removed meanwhile is not verified and drawn again: no Blob URL outlives its card", async () => {
    const from = "From MAILER-DAEMON Mon Jun 16 10:00:00 2025\r\n";
    const parts: Buffer[] = [];
    for (let i = 0; i < 250; i++) parts.push(Buffer.from(from), Buffer.from(samples.consegna), Buffer.from("\r\n"));
    await writeFile(join(files, "consegne.mbox"), Buffer.concat(parts));
    // The page's Blob URLs (each card's downloads), made and not yet revoked.
    const countBlobUrls = (): void => {
      const live = new Set<string>();
      (window as unknown as { liveBlobUrls: Set<string> }).liveBlobUrls = live;
      const create = URL.createObjectURL.bind(URL);
      const revoke = URL.revokeObjectURL.bind(URL);
      URL.createObjectURL = (o: Blob | MediaSource): string => {
        const u = create(o);
        live.add(u);
        return u;
      };
      URL.revokeObjectURL = (u: string): void => {
        live.delete(u);
        revoke(u);
      };
    };
    await onFreshPage(async (p) => {
      /** Clicks `button` as soon as the first 100 cards are drawn, while the other 150 wait for their turn. */
      const clickAfter100 = (button: string): Promise<void> =>
        p.evaluate((selector) => {
          const status = document.querySelector("#status")!;
          const watch = new MutationObserver(() => {
            if (!/Lettura… 100 /.test(status.textContent ?? "")) return;
            watch.disconnect();
            document.querySelector<HTMLButtonElement>(selector)!.click();
          });
          watch.observe(status, { childList: true, subtree: true, characterData: true });
        }, button);
      await clickAfter100("#clear-all");
      await p.locator("#file-input").setInputFiles(join(files, "consegne.mbox"));
      await p.locator("#status", { hasText: "Elenco svuotato." }).waitFor({ timeout: 60_000 });
      // The other 150 are not drawn after it (they filled the page, and the status counted the removed ones as read).
      await p.waitForTimeout(1500);
      expect(await p.locator("article.card").count()).toBe(0);
      expect(await text(p.locator("#status"))).toBe("Elenco svuotato. / List cleared.");
      const live = (): Promise<number> => p.evaluate(() => (window as unknown as { liveBlobUrls: Set<string> }).liveBlobUrls.size);
      // The 100 removed cards were drawn again for their verification, and those cards never disposed.
      expect(await live()).toBe(0);
      // One card removed by its own button while the rest of a file is drawn.
      await clickAfter100("article.card button.remove");
      await p.locator("#file-input").setInputFiles([]);
      await p.locator("#file-input").setInputFiles(join(files, "consegne.mbox"));
      await p.locator("#status", { hasText: "file letti" }).waitFor({ timeout: 60_000 });
      expect(await p.locator("article.card").count()).toBe(249);
      await p.locator("#clear-all").click();
      expect(await live()).toBe(0);
    }, countBlobUrls);
  });

  it("a ZIP export gives a card per message in it, named file#entry; an entry it cannot read gets its own card", async () => {
    const zip = makeZip([
      { name: "export/consegna.eml", data: samples.consegna },
      { name: "export/virus.txt", data: samples.virus, method: 0 },
      { name: "export/note.txt", data: "solo testo\n" },
      { name: "__MACOSX/export/._consegna.eml", data: "\x00\x05\x16\x07" },
      { name: "export/Inbox", data: Buffer.concat([Buffer.from("From MAILER-DAEMON Mon Jun 16 10:00:00 2025\r\n"), samples.preavviso, Buffer.from("\r\n")]) },
      { name: "export/segreto.eml", data: "x", encrypted: true, method: 0 },
    ]);
    await writeFile(join(files, "export.zip"), zip);
    await page.setInputFiles("#file-input", join(files, "export.zip"));
    const names = ["export.zip#export/consegna.eml", "export.zip#export/virus.txt", "export.zip#export/Inbox#0", "export.zip#export/segreto.eml"];
    for (const f of names) await settled(f);
    expect(await page.locator('article.card[data-file^="export.zip"]').count()).toBe(4);
    expect(await text(card(names[0]!).locator(".summary .type"))).toBe("Ricevuta di avvenuta consegna / Delivery receipt");
    expect(await text(card(names[1]!).locator(".summary .type"))).toBe("Avviso di non accettazione / Non-acceptance notice");
    expect(await text(card(names[2]!).locator(".summary .type"))).toBe("Avviso di mancata consegna per superamento tempo massimo / Delivery timeout notice");
    for (const f of names.slice(0, 3)) expect(await card(f).locator(".verdict .badge").allTextContents()).toEqual(["Firma valida / Signature valid", "Attendibile / Trusted"]);
    expect(await card(names[3]!).locator(".error-box").getAttribute("data-error")).toBe("ERR_UNSUPPORTED");
    for (const f of names) await card(f).locator("button.remove").click();
    expect(await page.locator("article.card").count()).toBe(3);
  });

  it("fits a narrow window: no card runs off the right edge at 800 or 390 px", async () => {
    expect(await page.locator("article.card").count()).toBeGreaterThan(0);
    for (const width of [800, 390]) {
      await page.setViewportSize({ width, height: 900 });
      const over = await page.evaluate(() => {
        const doc = document.documentElement;
        // Elements wider than the window, named so that a failure says where.
        const wide = [...document.querySelectorAll("article.card *")]
          .filter((e) => e.getBoundingClientRect().right > doc.clientWidth + 1 && !e.closest("pre, .scroll, iframe, details:not([open])"))
          .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")}`);
        return { scroll: doc.scrollWidth, client: doc.clientWidth, wide: [...new Set(wide)].slice(0, 8) };
      });
      expect(over.wide, `${width} px`).toEqual([]);
      expect(over.scroll, `${width} px`).toBeLessThanOrEqual(over.client);
    }
    await page.setViewportSize({ width: 1120, height: 900 });
  });

  it("removing the trust re-verifies: nothing is trusted any more", async () => {
    const bad = card("consegna-manomessa.eml");
    await bad.locator("details.json > summary").click();
    const json = JSON.parse((await bad.locator("details.json pre").textContent()) ?? "{}");
    expect(json).toMatchObject({ file: "consegna-manomessa.eml", type: "avvenuta-consegna", ricevuta: "completa", signature: { present: true, valid: false, trusted: false } });
    expect(json.signature.issues.map((i: { code: string }) => i.code)).toContain("SIGNATURE_MISMATCH");

    await page.click("#trust-clear");
    await page.locator('#trust-status[data-state="none"]').waitFor();
    await page.locator('article.card[data-file="newsletter.eml"][aria-busy="false"]').waitFor();
    await page.locator('article.card[data-file="consegna-manomessa.eml"][aria-busy="false"]').waitFor();
    expect(await text(bad.locator(".verdict"))).toContain("Not trusted");
    // The re-rendered card kept the JSON view open.
    expect(await bad.locator("details.json").getAttribute("open")).toBe("");
    // A file that is no trust source is refused on the trust line, not thrown.
    await page.setInputFiles("#trust-input", join(files, "rumore.eml"));
    await page.locator('#trust-status[data-state="error"]').waitFor();
    expect(await text(page.locator("#trust-status"))).toContain("Unreadable trust file");
  });

  it("takes the IGPEC LDIF as trust and names the gestore", async () => {
    await page.setInputFiles("#trust-input", resolve(root, "fixtures/pki/igpec.ldif"));
    await page.locator('#trust-status[data-state="loaded"]').waitFor();
    expect(await text(page.locator("#trust-status"))).toContain("igpec.ldif · 5 cert. · 5 gestori");
    await page.setInputFiles("#file-input", join(files, "virus.eml"));
    const c = await settled("virus.eml");
    expect(await c.locator(".verdict .badge").allTextContents()).toEqual(["Firma valida / Signature valid", "Attendibile / Trusted"]);
    expect(await text(c.locator('section.signature dd[data-field="gestore"]'))).toBe("Gestore Alfa S.p.A.");
    // An IGPEC certificate is trusted as itself: the chain is the signer alone.
    expect(await c.locator("section.signature table.chain tbody tr").count()).toBe(1);
  });

  it("raised no page error and fetched nothing beyond the page's own files", () => {
    expect(pageErrors).toEqual([]);
    const local = (u: string): boolean => u.startsWith(origin + "/") || u.startsWith("blob:") || u.startsWith("data:") || u === "about:srcdoc";
    // Chromium may announce the message's remote image before its CSP refuses it: every
    // such attempt must have been blocked by the CSP, and none answered.
    for (const u of requests.filter((u) => !local(u))) expect([u, failures.get(u)]).toEqual([u, "csp"]);
    expect(responses.filter((u) => !local(u))).toEqual([]);
  });

  it("also works opened from disk (file://), offline", async () => {
    const p = await context.newPage();
    const errors: string[] = [];
    p.on("pageerror", (e) => errors.push(e.message));
    await p.goto(pathToFileURL(join(out, "site/index.html")).href);
    await p.locator('body[data-ready="true"]').waitFor();
    await p.setInputFiles("#file-input", join(files, "busta.eml"));
    await p.locator('article.card[data-file="busta.eml"][aria-busy="false"]').waitFor({ timeout: 20_000 });
    expect(((await p.locator("article.card .summary .type").textContent()) ?? "").trim()).toBe("Busta di trasporto / Transport envelope");
    expect(await p.evaluate(() => getComputedStyle(document.querySelector(".masthead")!).backgroundImage)).toContain("gradient");
    expect(errors).toEqual([]);
    await p.close();
  });

  // -------------------------------------------------------------------------------------------
  // Accessibility, in a page of its own: these tests follow one another, as a user would.
  describe("accessibility", () => {
    let ctx: BrowserContext;
    let a: Page;
    const errors: string[] = [];
    const inA = (name: string): Locator => a.locator(`article.card[data-file="${name}"]`);
    const ready = (name: string): Promise<void> => a.locator(`article.card[data-file="${name}"][aria-busy="false"]`).waitFor({ timeout: 20_000 });
    /** No WCAG 2.0/2.1 A or AA violation that axe can see. No allow-list: none was a false positive. */
    const clean = async (state: string): Promise<void> => expect(await axeViolations(a), state).toEqual([]);
    /** The focused element, as `tag#id.class` and the file of its card: "body" when focus was lost. */
    const focused = (): Promise<string> =>
      a.evaluate(() => {
        const e = document.activeElement;
        if (!e || e === document.body) return "body";
        return `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}${[...e.classList].map((c) => "." + c).join("")}${e.closest("article")?.getAttribute("data-file") ? " @" + e.closest("article")!.getAttribute("data-file") : ""}`;
      });
    const MBOX_FROM = "From MAILER-DAEMON Mon Jun 16 10:00:00 2025\r\n";

    beforeAll(async () => {
      await writeFile(join(files, "archivio.mbox"), Buffer.concat([Buffer.from(MBOX_FROM), samples.virus, Buffer.from("\r\n" + MBOX_FROM), samples.preavviso, Buffer.from("\r\n")]));
      ctx = await browser.newContext({ viewport: { width: 1120, height: 900 }, deviceScaleFactor: 1, locale: "it-IT", timezoneId: "Europe/Rome" });
      a = await ctx.newPage();
      a.on("pageerror", (e) => errors.push(e.message));
      await a.goto(origin + "/");
      await a.locator('body[data-ready="true"]').waitFor();
    });
    afterAll(async () => {
      await ctx?.close();
    });

    it("axe: the empty page, then cards of every kind; the status line (a live region) says when loading is over, and what failed", async () => {
      await clean("empty page");
      const names = ["consegna.eml", "busta.eml", "consegna-manomessa.eml", "newsletter.eml", "rumore.eml", "annidato.txt", "virus.eml", "preavviso.eml", "archivio.mbox"];
      await a.setInputFiles("#file-input", names.map((f) => join(files, f)));
      for (const f of [...names.filter((n) => !n.endsWith(".mbox")), "archivio.mbox#0"]) await ready(f);
      expect(await a.locator("article.card").count()).toBe(10);
      expect(await a.locator("#status").getAttribute("role")).toBe("status");
      await expect
        .poll(() => text(a.locator("#status")))
        .toBe("10 file letti, 2 con errori, 1 con firma non valida. / 10 files read, 2 with errors, 1 with an invalid signature.");
      await clean("cards of every kind");
    });

    it("axe: every <details> open (HTML preview in its sandboxed frame, HTML source, PEC text, JSON, start of an unreadable file)", async () => {
      // The preview frames are made on the toggle event, which setting `open` fires too.
      await a.evaluate(() => document.querySelectorAll("details").forEach((d) => (d.open = true)));
      await expect.poll(() => a.locator("iframe.html-frame").count()).toBe(await a.locator("details.html").count());
      expect(await a.locator("details:not([open])").count()).toBe(0);
      // Tab enters the sandboxed preview (the message's link): the frame shows that the focus
      // is in it (WCAG 2.4.7), and loses the ring when Tab leaves it.
      const frame = a.locator("iframe.html-frame").first();
      const ring = (): Promise<string> => frame.evaluate((f) => getComputedStyle(f).outlineStyle);
      await frame.locator("xpath=preceding-sibling::summary").focus();
      await a.keyboard.press("Tab");
      await expect.poll(() => a.evaluate(() => document.activeElement?.tagName)).toBe("IFRAME");
      await expect.poll(ring).toBe("solid");
      await a.keyboard.press("Tab");
      await expect.poll(() => a.evaluate(() => document.activeElement?.tagName)).not.toBe("IFRAME");
      await expect.poll(ring).toBe("none");
      await clean("details open");
    });

    it("axe: trust loaded; the re-verification of the cards shown is said in the status line; focus in a card stays there", async () => {
      const json = inA("consegna.eml").locator("details.json > summary");
      await json.focus();
      await a.setInputFiles("#trust-input", samples.caPem);
      await a.locator('#trust-status[data-state="loaded"]').waitFor();
      await expect.poll(() => text(a.locator("#status"))).toMatch(/^Firme riverificate \(7 messaggi\): 6 attendibili, 1 con firma non valida\. \/ Signatures re-verified \(7 messages\): 6 trusted, 1 with an invalid signature\.$/);
      // The card was drawn anew: the focus is on the same summary of the new card, not on <body>.
      expect(await focused()).toBe("summary @consegna.eml");
      expect(await a.evaluate(() => document.activeElement?.parentElement?.className)).toBe("json");
      await clean("trust loaded");
    });

    it("axe: an unreadable trust file refused", async () => {
      await a.setInputFiles("#trust-input", join(files, "rumore.eml"));
      await a.locator('#trust-status[data-state="error"]').waitFor();
      expect(await a.locator('#trust-status [role="alert"] > [lang="en"]').count()).toBe(1);
      await clean("trust error");
    });

    it("axe: 320 px wide (reflow, WCAG 1.4.10) and the dark colour scheme; a box that scrolls sideways takes focus as a named region", async () => {
      // The page declares color-scheme: light and has no dark styles: a dark preference must change nothing.
      await a.emulateMedia({ colorScheme: "dark" });
      await clean("dark colour scheme");
      await a.emulateMedia({ colorScheme: "light" });
      const chain = inA("consegna.eml").locator("section.signature .scroll");
      expect(await chain.getAttribute("tabindex")).toBeNull();
      await a.setViewportSize({ width: 320, height: 800 });
      await clean("320 px");
      const { scroll, client } = await a.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
      expect(scroll).toBeLessThanOrEqual(client);
      // The certificate chain overflows at 320 px: a tab stop, named by its table's caption.
      expect(await chain.getAttribute("tabindex")).toBe("0");
      expect(await chain.getAttribute("role")).toBe("region");
      const name = await a.evaluate((id) => document.getElementById(id)?.textContent, (await chain.getAttribute("aria-labelledby"))!);
      expect(name).toBe("Catena di certificazione / Certificate chain");
      await a.setViewportSize({ width: 1120, height: 900 });
      await layoutSettled(a);
      expect(await chain.getAttribute("tabindex")).toBeNull();
    });

    it('marks English text from the library (issue messages, error details, severities) lang="en"', async () => {
      const bad = inA("consegna-manomessa.eml");
      const key = bad.locator('.key-problems li[data-code="SIGNATURE_MISMATCH"] [lang="en"]');
      expect(await key.count()).toBe(1);
      expect((await text(key)).length).toBeGreaterThan(10);
      const row = bad.locator('section.issues tr[data-code="SIGNATURE_MISMATCH"]');
      expect(await row.locator('td:nth-child(3) [lang="en"]').count()).toBe(1);
      expect(await row.locator(".badge").getAttribute("lang")).toBe("en");
      expect(await inA("rumore.eml").locator('.error-box p:not(.error-title) [lang="en"]').count()).toBe(1);
      expect(await inA("annidato.txt").locator('.error-box p:not(.error-title) [lang="en"]').count()).toBe(1);
      // Every English half of a pair is marked too; the page itself is Italian.
      expect(await a.locator('.en:not([lang="en"])').count()).toBe(0);
      expect(await a.getAttribute("html", "lang")).toBe("it");
    });

    it("keyboard: removing the trust, a card or every card never drops the focus to <body>", async () => {
      await a.focus("#trust-clear");
      await a.keyboard.press("Enter");
      await a.locator('#trust-status[data-state="none"]').waitFor();
      expect(await focused()).toBe("input#trust-input.visually-hidden");

      const order = await a.locator("article.card").evaluateAll((els) => els.map((e) => e.getAttribute("data-file")!));
      await inA(order[1]!).locator("button.remove").focus();
      await a.keyboard.press("Enter");
      expect(await focused()).toBe(`button.button.subtle.remove @${order[2]}`);
      await inA(order.at(-1)!).locator("button.remove").focus();
      await a.keyboard.press("Enter");
      expect(await focused()).toBe(`button.button.subtle.remove @${order.at(-2)}`);

      await a.focus("#clear-all");
      await a.keyboard.press("Enter");
      expect(await a.locator("article.card").count()).toBe(0);
      expect(await focused()).toBe("section#results.results");
    });

    it("the focus ring stands out: 3:1 against the page and the panels (WCAG 1.4.11)", async () => {
      await a.evaluate(() => window.scrollTo(0, 0));
      await a.locator("body").click({ position: { x: 5, y: 5 } });
      for (let i = 0; i < 5 && (await focused()) !== "input#file-input.visually-hidden"; i++) await a.keyboard.press("Tab");
      const ring = await a.evaluate(() => {
        const s = getComputedStyle(document.querySelector('label[for="file-input"]')!);
        return { style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor, page: getComputedStyle(document.documentElement).backgroundColor };
      });
      expect(ring.style).toBe("solid");
      expect(ring.width).toBeGreaterThanOrEqual(2);
      expect(contrast(ring.color, ring.page)).toBeGreaterThanOrEqual(3);
      expect(contrast(ring.color, "rgb(255, 255, 255)")).toBeGreaterThanOrEqual(3);
    });

    it("text zoom to 200 % (WCAG 1.4.4): the text grows, nothing runs off the window, the skip link stays out of sight until focused", async () => {
      await a.setInputFiles("#file-input", ["consegna.eml", "consegna-manomessa.eml"].map((f) => join(files, f)));
      await ready("consegna.eml");
      await ready("consegna-manomessa.eml");
      await setDefaultFontSize(a, 32);
      try {
        expect(await a.evaluate(() => getComputedStyle(document.documentElement).fontSize)).toBe("30px");
        const over = await a.evaluate(() => {
          const doc = document.documentElement;
          const wide = [...document.querySelectorAll("main *")]
            .filter((e) => e.getBoundingClientRect().right > doc.clientWidth + 1 && !e.closest("pre, .scroll, iframe, details:not([open]), .visually-hidden"))
            .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")}`);
          return { scroll: doc.scrollWidth, client: doc.clientWidth, wide: [...new Set(wide)].slice(0, 8) };
        });
        expect(over.wide).toEqual([]);
        expect(over.scroll).toBeLessThanOrEqual(over.client);
        await a.evaluate(() => window.scrollTo(0, 0));
        expect(await a.locator(".skip").evaluate((e) => e.getBoundingClientRect().bottom)).toBeLessThanOrEqual(0);
        await a.locator(".skip").focus();
        await layoutSettled(a);
        expect(await a.locator(".skip").evaluate((e) => e.getBoundingClientRect().top)).toBeGreaterThanOrEqual(0);
        await clean("text at 200 %");
      } finally {
        await setDefaultFontSize(a, 16);
      }
      expect(errors, "page errors").toEqual([]);
    });
  });
});
