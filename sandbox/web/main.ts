/// <reference types="vite/client" />
// The sandbox web view: every mailbox and its messages, live (server-sent events), with
// type, daticert and verdict; a click opens the inspector's full card for the message,
// verified in the page against the sandbox's IGPEC LDIF. Message content only reaches
// the page as text nodes (the inspector's rules).
import "../../web/style.css";
import "./sandbox.css";
import { PEC_TYPE_LABELS } from "../../src/pec/constants.js";
import type { PecType } from "../../src/pec/constants.js";
import { TrustStore } from "../../src/trust/store.js";
import { bi, byId, h } from "../../web/dom.js";
import { instant } from "../../web/format.js";
import { inspect, verify } from "../../web/inspect.js";
import { renderCard, type Card } from "../../web/render.js";
import type { MessageSummary } from "../src/web.js";

// The server's type: the page and the server cannot drift apart.
type Summary = MessageSummary;

interface Box {
  address: string;
  kind: "user" | "service" | "internet";
  name?: string;
  gestore?: string;
  messages: Summary[];
}

interface State {
  version: number;
  clockSpeed: number;
  gestori: { name: string; domain: string; availability: string; serviceMailbox: string }[];
  mailboxes: Box[];
  activeFlows: { id: string }[];
}

const VERDICT: Record<Summary["verdict"], [string, string]> = {
  trusted: ["firma valida, gestore attendibile", "valid, trusted gestore"],
  "valid-untrusted": ["firma valida, gestore sconosciuto", "valid, unknown gestore"],
  invalid: ["firma NON valida", "signature NOT valid"],
  unsigned: ["non firmato", "not signed"],
  unreadable: ["illeggibile", "unreadable"],
};

const boxesEl = byId("boxes");
const listEl = byId("list");
const cardsEl = byId("cards");
const statusEl = byId("status");
const worldEl = byId("world");

let state: State | undefined;
let selected: string | undefined;
let openFile: string | undefined;
let card: Card | undefined;
let trust: TrustStore | undefined;

/** A summary's recipients: those it lists, and how many more daticert names. */
function recipients(d: NonNullable<Summary["daticert"]>): string {
  const listed = d.destinatari ?? [];
  const more = (d.destinatariTotal ?? listed.length) - listed.length;
  return `${listed.join(", ")}${more > 0 ? ` … (+${more})` : ""}`;
}

function typeName(type: string, lang: "it" | "en" = "it"): string {
  const l = (PEC_TYPE_LABELS as Record<string, { it: string; en: string } | undefined>)[type as PecType];
  return l ? l[lang] : type;
}

/**
 * Re-renders `container` with `render` and, if a control in it had the focus, focuses the
 * new control with the same `attr` value: a live refresh (or the click itself, which
 * repaints) would otherwise drop a keyboard user's focus to <body>.
 */
function keepingFocus(container: HTMLElement, attr: string, render: () => void): void {
  const active = document.activeElement;
  const key = active instanceof HTMLElement && container.contains(active) ? active.getAttribute(attr) : null;
  render();
  if (key === null) return;
  const again = [...container.querySelectorAll<HTMLElement>(`[${attr}]`)].find((e) => e.getAttribute(attr) === key);
  again?.focus({ preventScroll: true });
}

function renderBoxes(): void {
  if (!state) return;
  const groups: [string, Box[]][] = [];
  for (const g of state.gestori) groups.push([`${g.name} · ${g.domain}${g.availability !== "online" ? ` (${g.availability})` : ""}`, state.mailboxes.filter((b) => b.gestore === g.domain)]);
  groups.push(["Internet", state.mailboxes.filter((b) => b.kind === "internet")]);
  const content = [
    // The gestori's headings are h3: under an h2 of their own, not straight under the page's h1.
    h("h2", { class: "visually-hidden" }, bi("Caselle", "Mailboxes")),
    ...groups.flatMap(([title, boxes]) => [
      h("h3", null, title),
      ...boxes.map((b) =>
        h(
          "button",
          {
            type: "button",
            "aria-current": b.address === selected ? "true" : "false",
            "data-box": b.address,
            onclick: () => {
              selected = b.address;
              openFile = undefined;
              closeCard();
              paint();
            },
          },
          h("span", null, b.name ?? b.address, h("span", { class: "kind" }, b.kind === "user" ? b.address : b.kind === "service" ? bi("casella di servizio", "service mailbox") : bi("destinatari esterni", "external recipients"))),
          h("span", { class: "count" }, String(b.messages.length)),
        ),
      ),
    ]),
  ];
  keepingFocus(boxesEl, "data-box", () => boxesEl.replaceChildren(...content));
}

function renderList(): void {
  const box = state?.mailboxes.find((b) => b.address === selected);
  if (!box) {
    listEl.replaceChildren();
    return;
  }
  const rows = [...box.messages].reverse().map((m) =>
    h(
      "tr",
      {
        "data-file": m.file,
        class: m.file === openFile ? "open" : undefined,
        // A click anywhere on the row opens the message, for the mouse; the keyboard has the button.
        onclick: (ev) => {
          if (!(ev.target as Element).closest("button")) void openMessage(box.address, m);
        },
      },
      h("td", { class: "sbx-small" }, m.date ? instant(new Date(m.date)).split(" · ")[0] : "—"),
      h("td", null, h("strong", null, typeName(m.type)), m.variant ? h("span", { class: "sbx-small" }, ` ${m.variant}`) : null),
      h(
        "td",
        null,
        // A real button: a row with a click handler is out of reach of the keyboard and of a
        // screen reader's list of controls. aria-current marks the message shown below.
        h(
          "button",
          { type: "button", class: "sbx-open", "data-open": m.file, "aria-current": m.file === openFile ? "true" : undefined, onclick: () => void openMessage(box.address, m) },
          m.subject || "—",
        ),
        h("div", { class: "sbx-small" }, m.daticert ? `${m.daticert.gestore ?? ""} · ${m.daticert.consegna ?? recipients(m.daticert)}` : m.from),
      ),
      h("td", null, h("span", { class: `sbx-verdict ${m.verdict}`, "data-verdict": m.verdict }, bi(...VERDICT[m.verdict]))),
    ),
  );
  const content = [
    h("h2", null, box.name ? `${box.name} <${box.address}>` : box.address),
    box.messages.length === 0
      ? h("p", { class: "empty" }, bi("Nessun messaggio.", "No messages."))
      : h(
          "table",
          { class: "sbx-msgs" },
          h("thead", null, h("tr", null, h("th", null, bi("Data", "Date")), h("th", null, bi("Tipo", "Type")), h("th", null, bi("Oggetto", "Subject")), h("th", null, bi("Verifica", "Verification")))),
          h("tbody", null, rows),
        ),
  ];
  keepingFocus(listEl, "data-open", () => listEl.replaceChildren(...content));
}

function closeCard(): void {
  card?.dispose();
  card = undefined;
  cardsEl.replaceChildren();
}

async function openMessage(box: string, m: Summary): Promise<void> {
  const file = m.file;
  openFile = file;
  renderList();
  const res = await fetch(`/api/message?box=${encodeURIComponent(box)}&file=${encodeURIComponent(file)}`);
  if (!res.ok) {
    statusEl.replaceChildren(bi("Messaggio spostato o cancellato.", "Message moved or deleted."));
    return;
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  let insp = inspect(1, file.split("/").pop() ?? file, bytes);
  const ctx = {
    trustLoaded: true,
    // The card's remove button goes with the card: focus returns to the row that opened it.
    onRemove: (): void => {
      closeCard();
      openFile = undefined;
      renderList();
      listEl.querySelector<HTMLElement>(`[data-open="${CSS.escape(file)}"]`)?.focus();
    },
  };
  closeCard();
  card = renderCard(insp, ctx);
  cardsEl.replaceChildren(card.el);
  trust ??= await TrustStore.fromLdif(await (await fetch("/api/trust.ldif")).text());
  const result = await verify(insp, trust);
  if (openFile !== file) return;
  insp = { ...insp, ...result, verifying: false };
  closeCard();
  card = renderCard(insp, ctx);
  cardsEl.replaceChildren(card.el);
  // The card appears below the list, away from the focus: the status line (a polite live
  // region) says it is there, and what it is.
  const subject = m.subject || "—";
  statusEl.replaceChildren(bi(`Aperto: ${typeName(m.type)}, «${subject}», più sotto.`, `Opened below: ${typeName(m.type, "en")}, “${subject}”.`));
  document.body.dataset.card = "ready";
}

function paint(): void {
  renderBoxes();
  renderList();
}

/** Messages in all mailboxes at the last refresh (undefined before the first). */
let lastTotal: number | undefined;

async function refresh(): Promise<void> {
  const res = await fetch("/api/state");
  if (!res.ok) return;
  state = (await res.json()) as State;
  selected ??= state.mailboxes.find((b) => b.kind === "user" && b.messages.length > 0)?.address ?? state.mailboxes[0]?.address;
  const total = state.mailboxes.reduce((n, b) => n + b.messages.length, 0);
  worldEl.replaceChildren(
    bi(
      `${state.gestori.length} gestori, ${state.mailboxes.length} caselle, ${total} messaggi; ${state.activeFlows.length} flussi in corso; orologio ×${state.clockSpeed}.`,
      `${state.gestori.length} gestori, ${state.mailboxes.length} mailboxes, ${total} messages; ${state.activeFlows.length} flows in progress; clock ×${state.clockSpeed}.`,
    ),
  );
  paint();
  // New deliveries are said in the status line (a polite live region), not by making the
  // whole list live: that would read every row again on every delivery.
  if (lastTotal !== undefined && total > lastTotal) {
    const n = total - lastTotal;
    statusEl.replaceChildren(bi(n === 1 ? "1 nuovo messaggio." : `${n} nuovi messaggi.`, n === 1 ? "1 new message." : `${n} new messages.`));
  }
  lastTotal = total;
  document.body.dataset.version = String(state.version);
  document.body.dataset.ready = "true";
}

let refreshing: Promise<void> | undefined;
let again = false;
function scheduleRefresh(): void {
  if (refreshing) {
    again = true;
    return;
  }
  refreshing = refresh()
    .catch(() => statusEl.replaceChildren(bi("Sandbox non raggiungibile.", "Sandbox unreachable.")))
    .finally(() => {
      refreshing = undefined;
      if (again) {
        again = false;
        scheduleRefresh();
      }
    });
}

// Live: one event per burst of deliveries; EventSource reconnects by itself.
const events = new EventSource("/api/events");
events.addEventListener("change", () => scheduleRefresh());
scheduleRefresh();
