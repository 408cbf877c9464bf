/**
 * The `scan --report` HTML page: one self-contained file (inline CSS, JS and SVG; a
 * Content-Security-Policy that forbids every fetch and admits only this module's own style and
 * script) for readers who are not developers, in Italian with English alongside. Every message-derived text is escaped: subjects, addresses
 * and error texts are written by whoever sent the mail.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { PEC_TYPE_LABELS, type PecType } from "../pec/constants.js";
import type { OverdueTransaction, RecipientState, Transaction, TransactionMessage } from "../transactions/index.js";
import type { ScanCounts } from "./scan.js";
import { type Bilingual, OUTCOME_LABELS, RECIPIENT_LABELS, erroreLabel, issueLabel } from "./scan-labels.js";
import type { ScanRecord } from "./scan-process.js";
import { unreordered } from "../util/text.js";

/** What the report shows. */
export interface ReportData {
  /** When the report was made. */
  generatedAt: Date;
  /** The clock overdue transactions were computed at. */
  at: Date;
  /** The scanned sources. */
  sources: string[];
  /** The scan's counters. */
  counts: ScanCounts;
  /**
   * The transactions, oldest first: all of them, or only the first ones listed (at most
   * {@link REPORT_ROWS} are shown), with `transactionsTotal` and `delays` covering all.
   */
  transactions: Transaction[];
  /** How many transactions in all, when `transactions` holds only the first ones. */
  transactionsTotal?: number;
  /** Every transaction's delivery delays ({@link deliveryDelays}), when `transactions` holds only the first ones. */
  delays?: number[];
  /** Overdue transactions at `at`. */
  overdue: OverdueTransaction[];
  /** Messages that failed verification or could not be read (possibly only the first ones). */
  failures: ScanRecord[];
  /** How many failed in all. */
  failuresTotal: number;
}

/** Most transactions listed one by one: a page of 100,000 rows helps nobody. */
export const REPORT_ROWS = 5000;
const MAX_ROWS = REPORT_ROWS;

const ESC: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for HTML content and quoted attribute values. */
export function escapeHtml(text: string): string {
  // Bidi overrides too: one left open in a subject would reorder the rest of its line.
  return unreordered(text).replace(/[&<>"']/g, (c) => ESC[c]!);
}

const DATE_FMT = new Intl.DateTimeFormat("it-IT", {
  timeZone: "Europe/Rome",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

function fmtDate(d: Date | undefined): string {
  return d && Number.isFinite(d.getTime()) ? escapeHtml(DATE_FMT.format(d)) : "—";
}

/** An address that may break before its `@` (and anywhere, if a part is still wider than its cell), so that the table fits the window. */
function addressHtml(address: string): string {
  const at = address.lastIndexOf("@");
  const html = at > 0 ? `${escapeHtml(address.slice(0, at))}<wbr>${escapeHtml(address.slice(at))}` : escapeHtml(address);
  return `<span class="addr">${html}</span>`;
}

function bi(label: Bilingual, cls = ""): string {
  // The page is lang="it"; the English half says so, for screen readers' pronunciation (WCAG 3.1.2).
  return `<span class="it${cls ? " " + cls : ""}">${escapeHtml(label.it)}</span> <span class="en" lang="en">${escapeHtml(label.en)}</span>`;
}

function typeLabel(type: string): Bilingual {
  return PEC_TYPE_LABELS[type as PecType] ?? { it: type, en: type };
}

function baseName(id: string): string {
  return id.slice(Math.max(id.lastIndexOf("/"), id.lastIndexOf("\\")) + 1) || id;
}

function proofOf(m: TransactionMessage | undefined): string {
  if (!m) return "";
  const label = typeLabel(m.type);
  const id = m.id ?? "";
  return `<span class="proof" title="${escapeHtml(id)}">${escapeHtml(label.it)} · <code>${escapeHtml(baseName(id))}</code></span>`;
}

const NOT_SENT: Bilingual = { it: "Non inviato", en: "Not sent" };

function recipientItem(r: RecipientState, refused: boolean): string {
  // After a non accettazione nothing left the sender's gestore: "waiting" would mislead.
  if (refused && r.state === "in-attesa") {
    return `<li class="rcpt" data-state="non-inviato">${addressHtml(r.address)} <span class="badge s-esterno">${bi(NOT_SENT)}</span></li>`;
  }
  const reason =
    r.errore && r.errore !== "nessuno"
      ? `<div class="reason">${bi(erroreLabel(r.errore))}${r.erroreEsteso ? ` — <q>${escapeHtml(r.erroreEsteso)}</q>` : ""}</div>`
      : "";
  return `<li class="rcpt" data-state="${escapeHtml(r.state)}">${addressHtml(r.address)} <span class="badge s-${escapeHtml(r.state)}">${bi(RECIPIENT_LABELS[r.state])}</span> <span class="when">${r.date ? fmtDate(r.date) : ""}</span> ${proofOf(r.proof)}${reason}</li>`;
}

function transactionRow(t: Transaction): string {
  const refused = t.nonAccettazione
    ? `<div class="reason">${bi(erroreLabel(t.errore ?? "altro"))}${t.erroreEsteso ? ` — <q>${escapeHtml(t.erroreEsteso)}</q>` : ""}<br>${proofOf(t.nonAccettazione)}</div>`
    : "";
  return `<tr data-outcome="${escapeHtml(t.outcome)}"><td class="date">${fmtDate(t.start)}</td><td>${t.sender ? addressHtml(t.sender) : "—"}</td><td class="subject">${escapeHtml(t.subject ?? "—")}</td><td><span class="badge o-${escapeHtml(t.outcome)}">${bi(OUTCOME_LABELS[t.outcome])}</span>${refused}</td><td><ul class="rcpts">${t.recipients.map((r) => recipientItem(r, t.nonAccettazione !== undefined)).join("")}</ul></td></tr>`;
}

/** Delivery delay buckets (upper bounds in seconds). */
const BUCKETS: { max: number; label: string }[] = [
  { max: 60, label: "< 1 min" },
  { max: 300, label: "1–5 min" },
  { max: 900, label: "5–15 min" },
  { max: 3600, label: "15–60 min" },
  { max: 6 * 3600, label: "1–6 h" },
  { max: 24 * 3600, label: "6–24 h" },
  { max: Infinity, label: "> 24 h" },
];

/** Seconds from accettazione (else the transaction's start) to each proven delivery. */
export function deliveryDelays(transactions: readonly Transaction[]): number[] {
  const out: number[] = [];
  for (const t of transactions) {
    const from = t.accettazione?.date ?? t.start;
    if (!from) continue;
    for (const r of t.recipients) {
      if (r.state === "consegnato" && r.date) out.push(Math.max(0, (r.date.getTime() - from.getTime()) / 1000));
    }
  }
  return out;
}

function fmtSeconds(s: number): string {
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function delayChart(delays: number[]): string {
  if (delays.length === 0) {
    return `<p class="empty">${bi({ it: "Nessuna consegna con data misurabile.", en: "No delivery with a measurable time." })}</p>`;
  }
  const counts = BUCKETS.map(() => 0);
  for (const d of delays) counts[BUCKETS.findIndex((b) => d < b.max)]!++;
  const max = Math.max(...counts);
  const W = 640;
  const H = 240;
  const left = 40;
  const bottom = 40;
  const top = 20;
  const slot = (W - left - 10) / BUCKETS.length;
  const bars = counts
    .map((n, i) => {
      const h = max ? ((H - top - bottom) * n) / max : 0;
      const x = left + i * slot + slot * 0.15;
      const y = H - bottom - h;
      return `<g><rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${h.toFixed(1)}" class="bar"><title>${BUCKETS[i]!.label}: ${n}</title></rect><text x="${(x + slot * 0.35).toFixed(1)}" y="${(y - 4).toFixed(1)}" class="n">${n}</text><text x="${(x + slot * 0.35).toFixed(1)}" y="${H - bottom + 16}" class="lbl">${BUCKETS[i]!.label}</text></g>`;
    })
    .join("");
  const sorted = [...delays].sort((a, b) => a - b);
  const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  const stats = `<p class="stats">${bi({ it: "Consegne misurate", en: "Deliveries measured" })}: <b>${delays.length}</b> · ${bi({ it: "mediana", en: "median" })}: <b>${fmtSeconds(q(0.5))}</b> · 95%: <b>${fmtSeconds(q(0.95))}</b> · ${bi({ it: "massimo", en: "maximum" })}: <b>${fmtSeconds(sorted[sorted.length - 1]!)}</b></p>`;
  // The bars are drawn for the eye; a screen reader gets the same numbers as a table (WCAG
  // 1.1.1: an image's name alone, "Delivery delays", held none of its data).
  // In a hidden box, not hidden itself: a table grows to its content whatever its width says.
  const table = `<div class="visually-hidden"><table><caption>${bi({ it: "Consegne per ritardo (accettazione → consegna)", en: "Deliveries by delay (acceptance → delivery)" })}</caption><thead><tr><th scope="col">${bi({ it: "Ritardo", en: "Delay" })}</th><th scope="col">${bi({ it: "Consegne", en: "Deliveries" })}</th></tr></thead><tbody>${counts.map((n, i) => `<tr><th scope="row">${escapeHtml(BUCKETS[i]!.label)}</th><td>${n}</td></tr>`).join("")}</tbody></table></div>`;
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" aria-hidden="true"><line x1="${left}" y1="${H - bottom}" x2="${W - 10}" y2="${H - bottom}" class="axis"/><text x="${left}" y="${H - 6}" class="axis-title">accettazione → consegna / acceptance → delivery</text>${bars}</svg>${table}${stats}`;
}

function failureRow(r: ScanRecord): string {
  const s = r.summary;
  const issues = [...(r.signature?.issues ?? []), ...r.issues].filter((i) => i.severity === "error");
  const seen = new Set<string>();
  const reasons = issues
    .filter((i) => !seen.has(i.code) && seen.add(i.code))
    .map((i) => `<li>${bi(issueLabel(i.code))} <code>${escapeHtml(i.code)}</code><div class="detail" lang="en">${escapeHtml(i.message)}</div></li>`)
    .join("");
  const type = s ? bi(typeLabel(s.type)) : bi({ it: "Illeggibile", en: "Unreadable" });
  return `<tr data-status="${escapeHtml(r.status)}"><td><code title="${escapeHtml(r.id)}">${escapeHtml(r.id)}</code></td><td>${type}</td><td class="subject">${escapeHtml(s?.subject ?? "—")}</td><td>${escapeHtml(s?.sender ?? "—")}</td><td><ul class="reasons">${reasons}</ul></td></tr>`;
}

function overdueItem(o: OverdueTransaction): string {
  const t = o.transaction;
  const reasons = o.reasons
    .map((r) =>
      r.reason === "no-accettazione"
        ? `<li>${bi({ it: "Nessuna ricevuta di accettazione dal", en: "No acceptance receipt since" })} ${fmtDate(r.since)}</li>`
        : `<li>${bi({ it: "Nessuna consegna a", en: "No delivery to" })} ${addressHtml(r.recipient ?? "?")} ${bi({ it: "dal", en: "since" })} ${fmtDate(r.since)}</li>`,
    )
    .join("");
  return `<li><b class="subject">${escapeHtml(t.subject ?? "—")}</b> (${escapeHtml(t.sender ?? "—")})<ul>${reasons}</ul></li>`;
}

function card(n: number, label: Bilingual, cls = ""): string {
  return `<div class="card ${cls}"><div class="num">${n}</div><div class="lbl">${bi(label)}</div></div>`;
}

const CSS = `
:root{--ok:#1b7f3b;--bad:#b3261e;--warn:#9a6700;--wait:#35598f;--muted:#5f6368;--line:#dadce0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#202124;background:#fff}
body{margin:0 auto;max-width:1200px;padding:24px;line-height:1.4}
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.25em;margin:32px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.en{color:var(--muted);font-size:.9em}.en::before{content:"/ "}
h1 .en,h2 .en{font-weight:normal}
.meta{color:var(--muted);font-size:.9em}.meta code{word-break:break-all}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 12px}.card .num{font-size:1.8em;font-weight:600}.card .lbl{font-size:.85em}
.card.good .num{color:var(--ok)}.card.bad .num{color:var(--bad)}.card.wait .num{color:var(--wait)}
table{border-collapse:collapse;width:100%;font-size:.9em}th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{background:#f8f9fa;position:sticky;top:0}
td.date{min-width:6.5em}.subject{font-weight:500;word-break:break-word}td.subject{min-width:8em}
.scroll{overflow-x:auto}
ul.rcpts,ul.reasons{list-style:none;margin:0;padding:0}li.rcpt{padding:2px 0}
.addr{font-family:ui-monospace,monospace;font-size:.95em;overflow-wrap:break-word}.proof code{overflow-wrap:anywhere}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:.85em;border:1px solid currentColor}
.badge .en{font-size:1em}
.s-consegnato,.o-consegnato{color:var(--ok)}.s-mancata-consegna,.s-virus,.s-scaduto,.o-errore,.o-non-accettato{color:var(--bad)}
.s-preavviso{color:var(--warn)}.s-in-attesa,.o-in-corso{color:var(--wait)}.s-esterno{color:var(--muted)}
.when{color:var(--muted);font-size:.85em;white-space:nowrap}.proof{color:var(--muted);font-size:.85em}
.reason{color:var(--bad);font-size:.9em}.detail{color:var(--muted);font-size:.85em}
.chart{width:100%;max-width:680px;height:auto}.chart .bar{fill:#35598f}.chart .n{font-size:12px;text-anchor:middle}
.chart .lbl{font-size:11px;text-anchor:middle;fill:#5f6368}.chart .axis{stroke:#5f6368}.chart .axis-title{font-size:11px;fill:#5f6368}
.filters{display:flex;gap:8px;flex-wrap:wrap;margin:8px 0}.filters input,.filters select{font:inherit;padding:4px 8px;max-width:100%}
.note,.empty{color:var(--muted)}
.visually-hidden{position:absolute!important;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
.scroll:focus-visible{outline:2px solid #1a4d8f;outline-offset:2px}
@media print{.filters{display:none}th{position:static}}
`;

const SCRIPT = `
(function(){
  var q=document.getElementById("q"),o=document.getElementById("outcome"),c=document.getElementById("shown");
  if(!q||!o)return;
  function apply(){
    var t=q.value.trim().toLowerCase(),v=o.value,n=0,rows=document.querySelectorAll("#tx tbody tr");
    for(var i=0;i<rows.length;i++){var r=rows[i];var show=(!v||r.getAttribute("data-outcome")===v)&&(!t||r.textContent.toLowerCase().indexOf(t)>=0);r.hidden=!show;if(show)n++;}
    if(c)c.textContent=String(n);
  }
  q.addEventListener("input",apply);o.addEventListener("change",apply);
})();
`;

/**
 * CSP source of an inline block: only our own style and script run, so even markup that slipped
 * through escaping could neither execute nor fetch anything.
 */
function cspHash(text: string): string {
  return "sha256-" + createHash("sha256").update(text, "utf8").digest("base64");
}

/**
 * The attributes of a table's scrolling box: in a narrow window the table scrolls sideways, and
 * the box takes keyboard focus so that the arrow keys can scroll it (WCAG 2.1.1), as a region
 * named by its section's heading. Static, not only while it overflows: the report must work
 * with scripts off too.
 */
const SCROLL_REGION = (labelledBy: string): string => `tabindex="0" role="region" aria-labelledby="${labelledBy}"`;

/** Renders the report page. */
export function renderReport(data: ReportData): string {
  const c = data.counts;
  const txs = data.transactions;
  const shown = txs.slice(0, MAX_ROWS);
  const more = (data.transactionsTotal ?? txs.length) - shown.length;
  const outcomeOptions = (Object.keys(OUTCOME_LABELS) as (keyof typeof OUTCOME_LABELS)[])
    .map((k) => `<option value="${k}">${escapeHtml(OUTCOME_LABELS[k].it)} / ${escapeHtml(OUTCOME_LABELS[k].en)}</option>`)
    .join("");
  const failuresNote =
    data.failuresTotal > data.failures.length
      ? `<p class="note">${bi({ it: `Mostrati i primi ${data.failures.length} di ${data.failuresTotal}; l'elenco completo è nell'output --json o --csv.`, en: `Showing the first ${data.failures.length} of ${data.failuresTotal}; the full list is in the --json or --csv output.` })}</p>`
      : "";
  return `<!doctype html>
<html lang="it">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src '${cspHash(CSS)}'; script-src '${cspHash(SCRIPT)}'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="postacert scan">
<title>Rapporto PEC / PEC report</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${bi({ it: "Rapporto di verifica PEC", en: "PEC scan report" })}</h1>
<p class="meta">${bi({ it: "Generato il", en: "Generated on" })} ${fmtDate(data.generatedAt)} (${bi({ it: "ora italiana", en: "Italian time" })}) · ${bi({ it: "Scadenze calcolate al", en: "Deadlines computed at" })} ${fmtDate(data.at)}<br>${bi({ it: "Origine", en: "Sources" })}: ${data.sources.map((s) => `<code>${escapeHtml(s)}</code>`).join(", ")}</p>
</header>
<section id="summary">
<h2>${bi({ it: "Riepilogo", en: "Summary" })}</h2>
<div class="cards">
${card(c.messages, { it: "Messaggi", en: "Messages" })}
${card(c.pec, { it: "Messaggi PEC", en: "PEC messages" })}
${card(c.ok, { it: "Firma verificata", en: "Signature verified" }, "good")}
${card(c.failed, { it: "Verifica fallita", en: "Verification failed" }, c.failed ? "bad" : "")}
${card(c.notPec, { it: "Non PEC", en: "Not PEC" })}
${card(c.unreadable, { it: "Illeggibili", en: "Unreadable" }, c.unreadable ? "bad" : "")}
${card(c.duplicates, { it: "Duplicati", en: "Duplicates" })}
${card(c.transactions, { it: "Invii", en: "Sendings" })}
${card(c.delivered, { it: "Consegnati", en: "Delivered" }, "good")}
${card(c.failedTransactions, { it: "Non consegnati", en: "Failed" }, c.failedTransactions ? "bad" : "")}
${card(c.inProgress, { it: "In corso", en: "In progress" }, "wait")}
${card(c.overdue, { it: "In ritardo", en: "Overdue" }, c.overdue ? "bad" : "")}
</div>
</section>
<section id="delays">
<h2>${bi({ it: "Tempi di consegna", en: "Delivery delays" })}</h2>
${delayChart(data.delays ?? deliveryDelays(txs))}
</section>
<section id="transactions">
<h2 id="transactions-title">${bi({ it: "Invii e destinatari", en: "Sendings and recipients" })}</h2>
${
  txs.length === 0
    ? `<p class="empty">${bi({ it: "Nessun invio PEC trovato.", en: "No PEC sending found." })}</p>`
    : `<div class="filters"><input id="q" type="search" placeholder="Cerca / Search" aria-label="Cerca / Search"><select id="outcome" aria-label="Esito / Outcome"><option value="">Tutti gli esiti / All outcomes</option>${outcomeOptions}</select><span class="note" role="status"><span id="shown">${shown.length}</span> / ${shown.length} <span class="visually-hidden">${bi({ it: "invii mostrati", en: "sendings shown" })}</span></span></div>
<div class="scroll" ${SCROLL_REGION("transactions-title")}><table id="tx"><thead><tr><th>${bi({ it: "Data", en: "Date" })}</th><th>${bi({ it: "Mittente", en: "Sender" })}</th><th>${bi({ it: "Oggetto", en: "Subject" })}</th><th>${bi({ it: "Esito", en: "Outcome" })}</th><th>${bi({ it: "Destinatari: stato, ora, ricevuta", en: "Recipients: state, time, proof" })}</th></tr></thead>
<tbody>
${shown.map(transactionRow).join("\n")}
</tbody></table></div>${more > 0 ? `<p class="note">${bi({ it: `Altri ${more} invii non mostrati.`, en: `${more} more sendings not shown.` })}</p>` : ""}`
}
</section>
<section id="overdue">
<h2>${bi({ it: "In ritardo", en: "Overdue" })}</h2>
${data.overdue.length === 0 ? `<p class="empty">${bi({ it: "Nessun invio in ritardo.", en: "Nothing overdue." })}</p>` : `<ul class="overdue">${data.overdue.slice(0, MAX_ROWS).map(overdueItem).join("")}</ul>`}
</section>
<section id="failures">
<h2 id="failures-title">${bi({ it: "Messaggi con problemi", en: "Messages with problems" })}</h2>
${
  data.failures.length === 0
    ? `<p class="empty">${bi({ it: "Tutti i messaggi PEC sono stati verificati.", en: "Every PEC message was verified." })}</p>`
    : `${failuresNote}<div class="scroll" ${SCROLL_REGION("failures-title")}><table id="fail"><thead><tr><th>${bi({ it: "Messaggio", en: "Message" })}</th><th>${bi({ it: "Tipo", en: "Type" })}</th><th>${bi({ it: "Oggetto", en: "Subject" })}</th><th>${bi({ it: "Mittente", en: "Sender" })}</th><th>${bi({ it: "Motivi", en: "Reasons" })}</th></tr></thead><tbody>
${data.failures.map(failureRow).join("\n")}
</tbody></table></div>`
}
</section>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
