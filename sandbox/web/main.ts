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

function typeName(type: string): string {
  const l = (PEC_TYPE_LABELS as Record<string, { it: string; en: string } | undefined>)[type as PecType];
  return l ? `${l.it}` : type;
}

function renderBoxes(): void {
  if (!state) return;
  const groups: [string, Box[]][] = [];
  for (const g of state.gestori) groups.push([`${g.name} · ${g.domain}${g.availability !== "online" ? ` (${g.availability})` : ""}`, state.mailboxes.filter((b) => b.gestore === g.domain)]);
  groups.push(["Internet", state.mailboxes.filter((b) => b.kind === "internet")]);
  boxesEl.replaceChildren(
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
          h("span", null, b.name ?? b.address, h("span", { class: "kind" }, b.kind === "user" ? b.address : b.kind === "service" ? "casella di servizio / service mailbox" : "destinatari esterni / esterno recipients")),
          h("span", { class: "count" }, String(b.messages.length)),
        ),
      ),
    ]),
  );
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
      { "data-file": m.file, "aria-selected": m.file === openFile ? "true" : "false", onclick: () => void openMessage(box.address, m.file) },
      h("td", { class: "sbx-small" }, m.date ? instant(new Date(m.date)).split(" · ")[0] : "—"),
      h("td", null, h("strong", null, typeName(m.type)), m.variant ? h("span", { class: "sbx-small" }, ` ${m.variant}`) : null),
      h("td", null, m.subject, h("div", { class: "sbx-small" }, m.daticert ? `${m.daticert.gestore ?? ""} · ${m.daticert.consegna ?? m.daticert.destinatari?.join(", ") ?? ""}` : m.from)),
      h("td", null, h("span", { class: `sbx-verdict ${m.verdict}`, "data-verdict": m.verdict }, bi(...VERDICT[m.verdict]))),
    ),
  );
  listEl.replaceChildren(
    h("h2", null, box.name ? `${box.name} <${box.address}>` : box.address),
    box.messages.length === 0
      ? h("p", { class: "empty" }, bi("Nessun messaggio.", "No messages."))
      : h(
          "table",
          { class: "sbx-msgs" },
          h("thead", null, h("tr", null, h("th", null, "Data"), h("th", null, bi("Tipo", "Type")), h("th", null, bi("Oggetto", "Subject")), h("th", null, bi("Verifica", "Verification")))),
          h("tbody", null, rows),
        ),
  );
}

function closeCard(): void {
  card?.dispose();
  card = undefined;
  cardsEl.replaceChildren();
}

async function openMessage(box: string, file: string): Promise<void> {
  openFile = file;
  renderList();
  const res = await fetch(`/api/message?box=${encodeURIComponent(box)}&file=${encodeURIComponent(file)}`);
  if (!res.ok) {
    statusEl.replaceChildren(bi("Messaggio spostato o cancellato.", "Message moved or deleted."));
    return;
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  let insp = inspect(1, file.split("/").pop() ?? file, bytes);
  const ctx = { trustLoaded: true, onRemove: (): void => closeCard() };
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
  document.body.dataset.card = "ready";
}

function paint(): void {
  renderBoxes();
  renderList();
}

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
