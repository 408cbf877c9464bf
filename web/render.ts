// The card of one inspected file. Message content only ever reaches the page as text
// nodes; the original's HTML is shown as text, or in an iframe with sandbox="" (no
// scripts, no same-origin) whose document carries its own CSP (no network), on top of the
// page's CSP it inherits.
import type { Daticert } from "../src/daticert/index.js";
import { PEC_TYPE_LABELS } from "../src/pec/constants.js";
import { pecToJson } from "../src/pec/json.js";
import type { PecOriginal, ReadPec } from "../src/pec/types.js";
import type { Certificate } from "../src/smime/certificate.js";
import { bi, forgetScrollers, h, scroller, type Child } from "./dom.js";
import { day, instant, size } from "./format.js";
import type { CardError, Inspection } from "./inspect.js";

/** A rendered card and the Blob URLs it owns. */
export interface Card {
  el: HTMLElement;
  /** Revokes the card's Blob URLs. */
  dispose(): void;
}

export interface CardContext {
  /** Whether the user loaded trust anchors (changes the "not trusted" hint). */
  trustLoaded: boolean;
  onRemove(id: number): void;
}

// ---------------------------------------------------------------------------------------------
// Sandboxed HTML

interface SrcdocPolicy {
  createHTML(s: string): unknown;
}
let srcdocPolicy: SrcdocPolicy | null | undefined;

function srcdoc(html: string): string {
  // The page requires Trusted Types for HTML sinks; srcdoc is one. The markup goes into
  // a sandbox="" frame that inherits the page CSP, plus its own: it cannot run scripts or
  // fetch anything, so it is passed through unchanged.
  const inner =
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:">` +
    `<meta name="referrer" content="no-referrer">` +
    html;
  if (srcdocPolicy === undefined) {
    const tt = (globalThis as { trustedTypes?: { createPolicy(name: string, p: { createHTML(s: string): string }): SrcdocPolicy } }).trustedTypes;
    srcdocPolicy = tt ? tt.createPolicy("postacert-srcdoc", { createHTML: (s) => s }) : null;
  }
  return (srcdocPolicy ? srcdocPolicy.createHTML(inner) : inner) as string;
}

// ---------------------------------------------------------------------------------------------
// Pieces

const dash = "—";

/**
 * Text from the library (issue messages, error details) is English: marked so, a screen
 * reader on this Italian page reads it with English pronunciation (WCAG 3.1.2).
 */
function english(text: string): HTMLElement {
  return h("span", { lang: "en" }, text);
}

/** Severity words (error, warning, info) as the library names them: English too. */
function severityBadge(severity: string): HTMLElement {
  return badge(severity === "error" ? "bad" : severity === "warning" ? "warn" : "info", severity, { lang: "en" });
}

/** A long text in a box that scrolls past its max-height. */
function textBox(text: string): HTMLElement {
  return scroller(h("pre", { class: "text" }, text));
}

function field(label: Child, value: Child, key?: string): HTMLElement[] {
  return [h("dt", key ? { "data-field": key } : null, label), h("dd", key ? { "data-field": key } : null, value ?? dash)];
}

function section(cls: string, title: HTMLElement, ...children: Child[]): HTMLElement {
  return h("section", { class: `sect ${cls}` }, h("h4", null, title), ...children);
}

function badge(kind: "ok" | "bad" | "warn" | "muted" | "info", content: Child, attrs: Record<string, string> = {}): HTMLElement {
  return h("span", { class: `badge ${kind}`, ...attrs }, content);
}

function typeLabel(pec: ReadPec): HTMLElement {
  const l = PEC_TYPE_LABELS[pec.type];
  return h("p", { class: "type", "data-type": pec.type }, bi(l.it, l.en));
}

function variants(pec: ReadPec): HTMLElement | null {
  const chips: HTMLElement[] = [];
  const chip = (text: Child, title?: string): void => void chips.push(h("li", { class: "chip", title }, text));
  if (pec.ricevuta) chip(pec.ricevuta, "ricevuta / receipt type");
  if (pec.virus) chip("virus");
  if (pec.timeout === "preavviso") chip(bi("preavviso 12 h", "12 h notice"));
  if (pec.timeout === "scadenza") chip(bi("scadenza 24 h", "24 h expiry"));
  if (pec.errore && pec.errore !== "nessuno") chip(`errore: ${pec.errore}`);
  if (pec.wrapped) chip(bi("inoltrato", "wrapped"), "found inside another message (forward, mailing list)");
  if (pec.original?.inner) chip(bi("contiene una PEC", "contains a PEC"));
  return chips.length ? h("ul", { class: "chips", "aria-label": "Variante / Variant" }, chips) : null;
}

function verdictBadges(insp: Inspection, ctx: CardContext): HTMLElement {
  const box = h("div", { class: "verdict" });
  const v = insp.verification;
  if (insp.verifying) {
    box.append(badge("muted", bi("Verifica in corso…", "Verifying…"), { "data-verdict": "pending" }));
  } else if (insp.verifyError) {
    box.append(badge("bad", bi("Verifica fallita", "Verification failed"), { "data-verdict": "error" }));
  } else if (v && !v.present) {
    box.append(badge("muted", bi("Nessuna firma", "No signature"), { "data-verdict": "none", "data-valid": "false", "data-trusted": "false" }));
  } else if (v) {
    box.append(
      v.valid
        ? badge("ok", bi("Firma valida", "Signature valid"), { "data-verdict": "valid", "data-valid": "true" })
        : badge("bad", bi("Firma non valida", "Signature not valid"), { "data-verdict": "invalid", "data-valid": "false" }),
      v.trusted
        ? badge("ok", bi("Attendibile", "Trusted"), { "data-trusted": "true" })
        : badge(ctx.trustLoaded ? "warn" : "muted", bi("Non attendibile", "Not trusted"), { "data-trusted": "false" }),
    );
  }
  return box;
}

function addressList(list: readonly string[]): Child {
  return list.length ? h("ul", { class: "plain" }, list.map((a) => h("li", null, a))) : dash;
}

// ---------------------------------------------------------------------------------------------
// daticert

export function daticertTable(d: Daticert): HTMLElement {
  const row = (name: string, value: Child): HTMLElement =>
    h("tr", { "data-field": name }, h("th", { scope: "row" }, h("code", null, name)), h("td", null, value === undefined || value === "" ? dash : value));
  const data = d.dati.data;
  return h(
    "table",
    { class: "kv daticert" },
    h("caption", { class: "visually-hidden" }, "daticert.xml"),
    h(
      "tbody",
      null,
      row("tipo", d.tipo),
      row("errore", d.errore),
      row("mittente", d.intestazione.mittente),
      row(
        "destinatari",
        h(
          "ul",
          { class: "plain" },
          d.intestazione.destinatari.map((x) => h("li", null, x.address, " ", h("span", { class: `tag ${x.tipo}` }, x.tipo))),
        ),
      ),
      row("risposte", d.intestazione.risposte),
      row("oggetto", d.intestazione.oggetto),
      row("gestore-emittente", d.dati.gestoreEmittente),
      row("data", h("span", null, `${data.giorno} ${data.ora}`, " ", h("span", { class: "muted" }, `zona ${data.zona}`))),
      row("identificativo", d.dati.identificativo),
      row("msgid", d.dati.msgid),
      row("ricevuta", d.dati.ricevuta),
      row("consegna", d.dati.consegna),
      row("ricezione", d.dati.ricezione.length ? addressList(d.dati.ricezione) : dash),
      row("errore-esteso", d.dati.erroreEsteso),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Signature

function certRows(certs: readonly Certificate[], roleOf: (i: number) => Child, signedAt: Date | undefined): HTMLElement[] {
  return certs.map((c, i) => {
    const at = signedAt?.getTime();
    const inRange = at === undefined || (at >= c.notBefore.getTime() && at <= c.notAfter.getTime());
    return h(
      "tr",
      null,
      h("td", { class: "num" }, String(i + 1), h("div", { class: "muted small" }, roleOf(i))),
      h("td", { class: "dn" }, c.subject),
      h("td", { class: "dn" }, c.issuer),
      h(
        "td",
        { class: "validity" },
        `${day(c.notBefore)} → ${day(c.notAfter)}`,
        inRange ? null : h("div", { class: "bad-text small" }, bi("fuori validità alla firma", "not valid at signing time")),
      ),
    );
  });
}

function signatureSection(insp: Inspection, ctx: CardContext): HTMLElement {
  const pec = insp.pec!;
  const v = insp.verification;
  const title = bi("Firma del gestore", "Gestore signature");
  if (insp.verifying) return section("signature", title, h("p", { class: "muted" }, bi("Verifica in corso…", "Verifying…")));
  if (insp.verifyError) return section("signature", title, errorBox(insp.verifyError));
  if (!v) return section("signature", title, h("p", null, dash));
  if (!v.present) {
    return section(
      "signature",
      title,
      h("p", null, bi("Il messaggio non è firmato.", "The message is not signed."), pec.type === "not-pec" ? null : h("span", { class: "bad-text" }, " ", bi("Una PEC deve esserlo.", "A PEC message must be."))),
    );
  }
  const sig = pec.signature;
  const dl = h(
    "dl",
    { class: "facts" },
    field(bi("Esito", "Verdict"), v.valid ? bi("firma valida", "valid") : h("span", { class: "bad-text" }, bi("firma non valida", "not valid")), "valid"),
    field(
      bi("Attendibilità", "Trust"),
      v.trusted
        ? bi("attendibile", "trusted")
        : h(
            "span",
            null,
            bi("non attendibile", "not trusted"),
            ctx.trustLoaded ? null : h("span", { class: "muted" }, " · ", bi("nessun file di fiducia caricato", "no trust file loaded")),
          ),
      "trusted",
    ),
    field(bi("Firmatario", "Signer"), v.signer, "signer"),
    v.gestore ? field(bi("Gestore (IGPEC)", "Gestore (IGPEC)"), v.gestore.name + (v.gestore.unit ? ` · ${v.gestore.unit}` : ""), "gestore") : null,
    field(bi("Firmato il", "Signed at"), instant(v.signedAt), "signedAt"),
    v.validatedAt && v.validatedAt.getTime() !== v.signedAt?.getTime() ? field(bi("Validato al", "Validated at"), instant(v.validatedAt), "validatedAt") : null,
    field("Digest", v.digestAlgorithm, "digest"),
    field(bi("Algoritmo", "Algorithm"), v.signatureAlgorithm, "algorithm"),
    field(bi("Forma", "Form"), sig ? `${sig.form === "detached" ? "multipart/signed" : "application/pkcs7-mime"}${sig.micalg ? ` · micalg=${sig.micalg}` : ""}` : dash, "form"),
  );
  let chain: HTMLElement;
  const captionId = `card-${insp.id}-chain`;
  const head = h(
    "thead",
    null,
    h("tr", null, h("th", { scope: "col" }, "#"), h("th", { scope: "col" }, bi("Soggetto", "Subject")), h("th", { scope: "col" }, bi("Emittente", "Issuer")), h("th", { scope: "col" }, bi("Validità", "Validity"))),
  );
  if (v.chain.length) {
    const last = v.chain.length - 1;
    chain = h(
      "table",
      { class: "grid chain" },
      h("caption", { id: captionId }, bi("Catena di certificazione", "Certificate chain")),
      head,
      h("tbody", null, certRows(v.chain, (i) => (i === 0 ? bi("firmatario", "signer") : i === last ? bi("ancora", "anchor") : bi("intermedio", "intermediate")), v.signedAt)),
    );
  } else {
    const certs = v.cms?.certificates ?? (v.signerCertificate ? [v.signerCertificate] : []);
    const signer = v.signerCertificate;
    const ordered = signer ? [signer, ...certs.filter((c) => c !== signer)] : [...certs];
    chain = ordered.length
      ? h(
          "table",
          { class: "grid chain" },
          h("caption", { id: captionId }, bi("Certificati nella firma (nessun percorso verso un'ancora)", "Certificates in the signature (no path to a trust anchor)")),
          head,
          h("tbody", null, certRows(ordered, (i) => (i === 0 && signer ? bi("firmatario", "signer") : ""), v.signedAt)),
        )
      : h("p", { class: "muted" }, bi("Nessun certificato nella firma.", "No certificate in the signature."));
  }
  return section("signature", title, dl, chain.tagName === "TABLE" ? scroller(h("div", { class: "scroll" }, chain), captionId) : chain);
}

// ---------------------------------------------------------------------------------------------
// Original message

function download(urls: string[], name: string, bytes: Uint8Array, label?: Child): HTMLElement {
  // application/octet-stream: the browser saves the file instead of rendering it (a
  // Blob URL has this page's origin; an HTML attachment must never open as a page here).
  const url = URL.createObjectURL(new Blob([new Uint8Array(bytes)], { type: "application/octet-stream" }));
  urls.push(url);
  return h("a", { href: url, download: name, class: "download" }, label ?? name);
}

/**
 * Marks the preview frame that holds the focus with the class `focused` (its ring, WCAG 2.4.7).
 * CSS cannot: the sandboxed frame's document is another origin, and Chromium matches neither
 * :focus nor :focus-within on the frame when Tab moves into it. The page still knows: its
 * activeElement is then the frame. The message's own styles cannot hide this ring.
 */
let frameFocusWatched = false;
function watchFrameFocus(): void {
  if (frameFocusWatched) return;
  frameFocusWatched = true;
  const update = (): void => {
    const active = document.activeElement;
    for (const f of document.querySelectorAll("iframe.html-frame")) f.classList.toggle("focused", f === active);
  };
  // On the window's blur the focus may not have reached the frame yet: look once it has.
  window.addEventListener("blur", () => setTimeout(update, 0));
  window.addEventListener("focus", update);
  document.addEventListener("focusin", update);
}

function htmlPreview(html: string, key: string): HTMLElement {
  // The frame is made when the preview is first opened: closed previews parse nothing.
  const details = h(
    "details",
    { class: "html" },
    h("summary", null, bi("Corpo HTML (anteprima isolata: niente script, niente rete)", "HTML body (sandboxed preview: no scripts, no network)")),
    h("details", { class: "source" }, h("summary", null, bi("Sorgente HTML", "HTML source")), textBox(html)),
  );
  details.addEventListener("toggle", () => {
    if (!details.open || details.querySelector("iframe")) return;
    const frame = h("iframe", { sandbox: "", referrerpolicy: "no-referrer", title: `HTML: ${key}`, class: "html-frame" });
    frame.srcdoc = srcdoc(html);
    watchFrameFocus();
    details.querySelector("summary")!.after(frame);
  });
  return details;
}

function originalSection(o: PecOriginal, urls: string[], title: HTMLElement, key: string): HTMLElement {
  const dl = h(
    "dl",
    { class: "facts" },
    field(bi("Oggetto", "Subject"), o.subject, "subject"),
    field(bi("Da", "From"), o.from, "from"),
    field(bi("A", "To"), addressList(o.to), "to"),
    o.cc.length ? field("Cc", addressList(o.cc), "cc") : null,
    field(bi("Data", "Date"), instant(o.date), "date"),
    field("Message-ID", o.messageId, "messageId"),
    o.riferimentoMessageId ? field("X-Riferimento-Message-ID", o.riferimentoMessageId, "riferimento") : null,
  );
  return section(
    "original",
    title,
    dl,
    o.text !== undefined && o.text.trim() !== ""
      ? h("div", { class: "body" }, h("h5", null, bi("Testo", "Text")), textBox(o.text))
      : null,
    o.html !== undefined && o.html.trim() !== "" ? htmlPreview(o.html, key) : null,
    attachmentsBlock(o, urls),
  );
}

function attachmentsBlock(o: PecOriginal, urls: string[]): HTMLElement {
  const items = o.attachments.map((a, i) => {
    let bytes: Uint8Array;
    try {
      bytes = a.content();
    } catch {
      bytes = new Uint8Array(0);
    }
    const name = a.filename ?? `allegato-${i + 1}`;
    return h("li", null, download(urls, name, bytes), " ", h("span", { class: "muted" }, `${a.mimeType} · ${size(bytes.length)}`));
  });
  const hashes = o.hashes.map((x) =>
    h("li", null, h("code", null, x.filename), " ", h("span", { class: "muted" }, bi(`sostituisce ${x.originalFilename}`, `replaces ${x.originalFilename}`)), " ", h("code", { class: "hash" }, x.hash)),
  );
  return h(
    "div",
    { class: "attachments" },
    h("h5", null, bi("Allegati", "Attachments"), ` (${o.attachments.length})`),
    items.length ? h("ul", { class: "files" }, items) : h("p", { class: "muted" }, bi("Nessun allegato.", "No attachments.")),
    hashes.length ? [h("h5", null, bi("Impronte della ricevuta breve", "Short-receipt hashes")), h("ul", { class: "files" }, hashes)] : null,
  );
}

// ---------------------------------------------------------------------------------------------
// Issues

function issuesSection(insp: Inspection): HTMLElement {
  const pec = insp.pec!;
  const rows: { code: string; severity: string; message: string; source: HTMLElement }[] = [
    ...(insp.verification?.issues ?? []).map((i) => ({ ...i, source: bi("firma", "signature") })),
    ...pec.issues.map((i) => ({ ...i, source: bi("lettura", "reading") })),
  ];
  const order: Record<string, number> = { error: 0, warning: 1, info: 2 };
  rows.sort((a, b) => (order[a.severity] ?? 3) - (order[b.severity] ?? 3));
  const title = h("span", null, bi("Problemi", "Issues"), ` (${rows.length})`);
  if (!rows.length) return section("issues", title, h("p", { class: "ok-text" }, bi("Nessun problema rilevato.", "No issues found.")));
  const captionId = `card-${insp.id}-issues`;
  const table = h(
    "table",
    { class: "grid issues" },
    h("caption", { class: "visually-hidden", id: captionId }, bi("Problemi", "Issues")),
    h(
      "thead",
      null,
      h("tr", null, h("th", { scope: "col" }, bi("Gravità", "Severity")), h("th", { scope: "col" }, bi("Codice", "Code")), h("th", { scope: "col" }, bi("Descrizione", "Message")), h("th", { scope: "col" }, bi("Fonte", "Source"))),
    ),
    h(
      "tbody",
      null,
      rows.map((r) =>
        h(
          "tr",
          { "data-code": r.code, "data-severity": r.severity },
          h("td", null, severityBadge(r.severity)),
          h("td", null, h("code", null, r.code)),
          h("td", null, english(r.message)),
          h("td", { class: "muted" }, r.source),
        ),
      ),
    ),
  );
  return section("issues", title, scroller(h("div", { class: "scroll" }, table), captionId));
}

/** The errors, right under the verdict (the full list is in the Issues section). */
function keyProblems(insp: Inspection): HTMLElement | null {
  const pec = insp.pec!;
  const errors = [...(insp.verification?.issues ?? []), ...pec.issues].filter(
    (i) => i.severity === "error" && !(pec.type === "not-pec" && i.code === "NO_SIGNATURE"),
  );
  if (!errors.length) return null;
  return h(
    "ul",
    { class: "key-problems", "aria-label": "Errori / Errors" },
    errors.map((i) => h("li", { "data-code": i.code }, h("code", null, i.code), " ", english(i.message))),
  );
}

function hexStart(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 48);
  const hex = [...head].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  const ascii = [...head].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : "·")).join("");
  return `${hex}${bytes.length > head.length ? " …" : ""}\n${ascii}`;
}

function errorBox(e: CardError): HTMLElement {
  return h(
    "div",
    { class: "error-box", role: "alert", "data-error": e.code },
    h("p", { class: "error-title" }, h("strong", null, bi(e.it, e.en))),
    h("p", null, h("code", null, e.code), " ", english(e.message)),
  );
}

// ---------------------------------------------------------------------------------------------
// The card

function pecParts(pec: ReadPec, urls: string[]): HTMLElement | null {
  const links: HTMLElement[] = [];
  if (pec.original) links.push(download(urls, "postacert.eml", pec.original.bytes));
  if (pec.daticertEntity) {
    try {
      links.push(download(urls, "daticert.xml", pec.daticertEntity.decodedBody()));
    } catch {
      // undecodable part: no link
    }
  }
  if (pec.signature) links.push(download(urls, pec.signature.form === "detached" ? "smime.p7s" : "smime.p7m", pec.signature.cms));
  if (!links.length) return null;
  return h("p", { class: "parts" }, h("span", { class: "muted" }, bi("Parti", "Parts"), ": "), links.flatMap((l, i) => (i ? [" · ", l] : [l])));
}

function summaryFacts(pec: ReadPec): HTMLElement {
  const notPec = pec.type === "not-pec";
  return h(
    "dl",
    { class: "facts compact" },
    field(bi("Oggetto", "Subject"), pec.originalSubject ?? pec.subject, "subject"),
    field(notPec ? bi("Da", "From") : bi("Mittente", "Sender"), pec.sender, "sender"),
    field(
      bi("Destinatari", "Recipients"),
      pec.recipients.length
        ? h("ul", { class: "plain" }, pec.recipients.map((r) => h("li", null, r.address, r.tipo ? [" ", h("span", { class: `tag ${r.tipo}` }, r.tipo)] : null)))
        : dash,
      "recipients",
    ),
    field(bi("Data", "Date"), instant(pec.date), "date"),
    pec.consegna ? field(bi("Consegna a", "Delivered to"), pec.consegna, "consegna") : null,
    pec.anomaliaReason ? field(bi("Motivo", "Reason"), pec.anomaliaReason, "reason") : null,
    pec.xMittente ? field("X-Mittente", pec.xMittente, "xMittente") : null,
    pec.erroreEsteso ? field(bi("Errore", "Error"), pec.erroreEsteso, "erroreEsteso") : null,
  );
}

function innerPec(pec: ReadPec): HTMLElement {
  const l = PEC_TYPE_LABELS[pec.type];
  return section(
    "inner",
    bi("PEC contenuta nel messaggio originale", "PEC inside the original message"),
    h("p", { class: "type small-type", "data-type": pec.type }, bi(l.it, l.en)),
    pec.daticert ? daticertTable(pec.daticert) : null,
    pec.issues.length ? h("ul", { class: "plain" }, pec.issues.map((i) => h("li", null, h("code", null, i.code), " ", h("span", { lang: "en" }, `(${i.severity}) ${i.message}`)))) : null,
  );
}

/** Renders the card of one file. */
export function renderCard(insp: Inspection, ctx: CardContext): Card {
  const urls: string[] = [];
  const titleId = `card-${insp.id}-title`;
  const pec = insp.pec;
  const v = insp.verification;
  const state = insp.error ? "error" : insp.verifying ? "pending" : pec?.type === "not-pec" ? "neutral" : v?.valid && v.trusted ? "ok" : v?.valid ? "warn" : "bad";

  const head = h(
    "header",
    { class: "card-head" },
    h("div", { class: "file" }, h("h3", { id: titleId }, insp.name), h("p", { class: "muted small" }, size(insp.size))),
    h(
      "button",
      { type: "button", class: "button subtle remove", "aria-label": `Rimuovi / Remove ${insp.name}`, onclick: () => ctx.onRemove(insp.id) },
      "×",
    ),
  );

  const el = h("article", { class: `card ${state}`, "aria-labelledby": titleId, "data-file": insp.name, "data-id": insp.id, "aria-busy": insp.verifying ? "true" : "false" }, head);

  if (insp.error || !pec) {
    el.append(
      h(
        "div",
        { class: "card-body" },
        errorBox(insp.error ?? { code: "UNEXPECTED", it: "Errore", en: "Error", message: "no result" }),
        insp.bytes.length
          ? h("details", { class: "file-start" }, h("summary", null, bi("Inizio del file", "Start of the file")), textBox(hexStart(insp.bytes)))
          : null,
      ),
    );
    return { el, dispose: () => dispose(el, urls) };
  }

  const summary = h("div", { class: "summary" }, h("div", { class: "type-row" }, typeLabel(pec), variants(pec)), verdictBadges(insp, ctx));
  const body = h("div", { class: "card-body" }, summary, keyProblems(insp), summaryFacts(pec), pecParts(pec, urls));

  body.append(signatureSection(insp, ctx));
  if (pec.type !== "not-pec") {
    body.append(
      section(
        "daticert",
        bi("Dati di certificazione", "Certification data"),
        h("p", { class: "muted small" }, h("code", null, "daticert.xml")),
        pec.daticert ? daticertTable(pec.daticert) : h("p", { class: "muted" }, bi("Nessun daticert.xml leggibile.", "No readable daticert.xml.")),
      ),
    );
  }
  if (pec.original) {
    const title = pec.type === "anomalia" ? bi("Messaggio ricevuto", "Message received") : bi("Messaggio originale", "Original message");
    body.append(originalSection(pec.original, urls, title, insp.name));
    if (pec.original.inner) body.append(innerPec(pec.original.inner));
  }
  if (pec.text && pec.text.trim() !== "") {
    body.append(
      h(
        "details",
        { class: "pec-text" },
        h("summary", null, pec.type === "not-pec" ? bi("Testo del messaggio", "Message text") : bi("Testo del messaggio PEC", "PEC message text")),
        textBox(pec.text),
      ),
    );
  }
  body.append(issuesSection(insp));
  let json = "";
  try {
    json = JSON.stringify(pecToJson(pec, { file: insp.name, ...(v && { verification: v }) }), null, 2);
  } catch (e) {
    json = String(e);
  }
  body.append(h("details", { class: "json" }, h("summary", null, bi("JSON (come postacert inspect --json)", "JSON (as postacert inspect --json)")), textBox(json)));
  el.append(body);
  return { el, dispose: () => dispose(el, urls) };
}

/** What a card holds beyond its elements: Blob URLs, and its scrolling boxes' observation. */
function dispose(el: HTMLElement, urls: readonly string[]): void {
  urls.forEach((u) => URL.revokeObjectURL(u));
  forgetScrollers(el);
}
