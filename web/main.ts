// The PEC inspector page: drop or pick files, read them with readPec, verify them with
// verifyPec against the loaded trust, show a card for each. No network, no server.
import { TrustStore } from "../src/trust/store.js";
import { bi, byId, h, updateScroller } from "./dom.js";
import { inspect, loadTrust, toCardError, unpack, verify, type Inspection, type LoadedTrust, type Unpacked } from "./inspect.js";
import { renderCard, type Card } from "./render.js";

interface Entry {
  insp: Inspection;
  card: Card;
  /** Bumped for each verification, so that a stale result never overwrites a newer one. */
  generation: number;
}

const entries = new Map<number, Entry>();
let nextId = 1;
let trust = TrustStore.empty();
let loadedTrust: LoadedTrust | undefined;

const cards = byId("cards");
const status = byId("status");
const empty = byId("empty");
const clearAll = byId<HTMLButtonElement>("clear-all");
const fileInput = byId<HTMLInputElement>("file-input");
const trustInput = byId<HTMLInputElement>("trust-input");
const trustStatus = byId("trust-status");
const trustClear = byId<HTMLButtonElement>("trust-clear");
const dropzone = byId("dropzone");
const results = byId("results");

const context = {
  get trustLoaded(): boolean {
    return loadedTrust !== undefined;
  },
  onRemove: (id: number): void => removeFromCard(id),
};

function say(el: HTMLElement, ...content: (Node | string)[]): void {
  el.replaceChildren(...content);
}

function refreshChrome(): void {
  const n = entries.size;
  empty.hidden = n > 0;
  clearAll.hidden = n === 0;
  document.body.dataset.files = String(n);
  document.body.dataset.pending = String([...entries.values()].filter((e) => e.insp.verifying).length);
}

/** What a keyboard user can reach in a card (a scrolling box only while it overflows). */
const FOCUSABLE = "a[href], button, summary, [data-scroller]";

/** The tags and classes from `e` up to `card`: where an element sits, whatever else the card holds. */
function pathIn(card: Element, e: Element): string {
  let p = "";
  for (let x: Element | null = e; x && x !== card; x = x.parentElement) p += `<${x.tagName}.${x.className}`;
  return p;
}

/**
 * Where a focusable element sits in its card: its path, and which of the elements of that
 * path it is. It survives a re-render whose other parts differ (a card being verified has no
 * certificate table yet), where a plain index would not.
 */
function placeOf(card: Element, el: Element): { path: string; index: number } {
  const path = pathIn(card, el);
  let index = 0;
  for (const e of card.querySelectorAll(FOCUSABLE)) {
    if (e === el) break;
    if (pathIn(card, e) === path) index++;
  }
  return { path, index };
}

/** The focusable element at `place` in `card` (one pass: a card may hold hundreds of links). */
function atPlace(card: Element, place: { path: string; index: number }): HTMLElement | undefined {
  let index = 0;
  for (const e of card.querySelectorAll<HTMLElement>(FOCUSABLE)) if (pathIn(card, e) === place.path && index++ === place.index) return e;
  return undefined;
}

/** Replaces an entry's card in place. */
function paint(entry: Entry): void {
  const old = entry.card;
  entry.card = renderCard(entry.insp, context);
  // Keep what the user opened (HTML preview, JSON, …) open across re-verifications.
  const opened = new Set([...old.el.querySelectorAll("details[open]")].map((d) => d.className));
  for (const d of entry.card.el.querySelectorAll("details")) if (opened.has(d.className)) d.open = true;
  // Focus inside the old card would fall back to <body> with it, and a keyboard user would
  // start again from the top of the page: it goes to the same control of the new card, else
  // to the card's remove button.
  const active = document.activeElement;
  const was = active && active !== old.el && old.el.contains(active) ? placeOf(old.el, active) : undefined;
  old.el.replaceWith(entry.card.el);
  old.dispose();
  if (was !== undefined) {
    const card = entry.card.el;
    const same = atPlace(card, was);
    // A scrolling box takes focus once its overflow is known, which needs the new card laid out.
    if (same?.hasAttribute("data-scroller")) updateScroller(same);
    same?.focus({ preventScroll: true });
    // Not there, or not focusable now (a box that no longer overflows): the remove button.
    if (!same || document.activeElement !== same) card.querySelector<HTMLElement>("button.remove")?.focus({ preventScroll: true });
  }
  refreshChrome();
}

async function runVerification(entry: Entry): Promise<void> {
  // Removed before its turn (addFiles draws between turns of the event loop, and verifies its
  // cards after the last): a card drawn for it now would never be shown nor disposed.
  if (entries.get(entry.insp.id) !== entry) return;
  const generation = ++entry.generation;
  entry.insp = { ...entry.insp, verifying: true };
  paint(entry);
  const result = await verify(entry.insp, trust);
  if (entries.get(entry.insp.id) !== entry || entry.generation !== generation) return;
  const { verification: _v, verifyError: _e, ...rest } = entry.insp;
  entry.insp = { ...rest, ...result, verifying: false };
  paint(entry);
}

/**
 * Cards on the page, at most. Each is a whole inspection (the parsed message, its DOM, its
 * downloads): 1,000 small messages take ≈ 2.5 s to draw, and a year's mbox would hold the page
 * for minutes. Whole archives are `postacert scan`'s work.
 */
const MAX_CARDS = 1000;
/** Cards drawn between two turns of the event loop, so that the page answers and shows progress. */
const CARDS_PER_TURN = 100;

/** Bumped by "Svuota": a drop still being drawn then stops, and says nothing more. */
let clears = 0;

async function addFiles(files: readonly File[]): Promise<void> {
  if (!files.length) return;
  const epoch = clears;
  say(status, bi(`Lettura di ${files.length} file…`, `Reading ${files.length} file(s)…`));
  const added: Entry[] = [];
  /** Messages left out past MAX_CARDS. */
  let left = 0;
  /**
   * Draws a card, made only when there is room for it (messages past MAX_CARDS are counted, not
   * parsed). The room is looked at for each card, not once per file: another drop draws its
   * cards in the turns between this one's.
   */
  const show = async (make: () => Inspection): Promise<void> => {
    if (entries.size >= MAX_CARDS) {
      left++;
      return;
    }
    const insp = make();
    const entry: Entry = { insp, card: renderCard(insp, context), generation: 0 };
    entries.set(insp.id, entry);
    cards.append(entry.card.el);
    added.push(entry);
    if (added.length % CARDS_PER_TURN === 0) {
      say(status, bi(`Lettura… ${added.length} messaggi.`, `Reading… ${added.length} messages.`));
      await new Promise((next) => setTimeout(next, 0));
    }
  };
  for (const file of files) {
    if (clears !== epoch) return;
    let found: Unpacked[];
    try {
      // An mbox, a ZIP or a tar archive gives a card per message; a .gz is decompressed first.
      found = await unpack(file.name, new Uint8Array(await file.arrayBuffer()));
    } catch (e) {
      // File.arrayBuffer failed (file removed, permission), damaged gzip: still a card.
      await show(() => ({ id: nextId++, name: file.name, size: file.size, bytes: new Uint8Array(0), verifying: false, error: toCardError(e) }));
      continue;
    }
    for (const m of found) {
      if (clears !== epoch) return;
      await show(() => ("error" in m ? { id: nextId++, name: m.name, size: 0, bytes: new Uint8Array(0), verifying: false, error: toCardError(m.error) } : inspect(nextId++, m.name, m.bytes)));
    }
  }
  refreshChrome();
  await Promise.all(added.filter((e) => e.insp.pec).map((e) => runVerification(e)));
  const errors = added.filter((e) => e.insp.error).length;
  const invalid = added.filter((e) => e.insp.verification?.present && !e.insp.verification.valid).length;
  const n = added.length;
  // The status line is a polite live region: a screen reader hears when loading is over, and
  // whether any signature failed, without going through the cards.
  say(
    status,
    bi(
      `${n} file ${n === 1 ? "letto" : "letti"}${errors ? `, ${errors} con errori` : ""}${invalid ? `, ${invalid} con firma non valida` : ""}.`,
      `${n} ${n === 1 ? "file" : "files"} read${errors ? `, ${errors} with errors` : ""}${invalid ? `, ${invalid} with an invalid signature` : ""}.`,
    ),
    ...(left
      ? [
          " ",
          h(
            "span",
            { class: "bad-text" },
            bi(
              `${left} ${left === 1 ? "messaggio non mostrato" : "messaggi non mostrati"}: la pagina ne mostra ${MAX_CARDS} al massimo; per un archivio intero, postacert scan.`,
              `${left} ${left === 1 ? "message" : "messages"} not shown: the page shows ${MAX_CARDS} at most; for a whole archive, postacert scan.`,
            ),
          ),
        ]
      : []),
  );
}

function remove(id: number): void {
  const entry = entries.get(id);
  if (!entry) return;
  entries.delete(id);
  entry.card.el.remove();
  entry.card.dispose();
  refreshChrome();
  say(status, bi(`Rimosso ${entry.insp.name}.`, `Removed ${entry.insp.name}.`));
}

/**
 * A card's own remove button: its focus would be lost with the card, so it moves to the next
 * card's remove button (the previous one for the last card), or to the results heading.
 */
function removeFromCard(id: number): void {
  const el = entries.get(id)?.card.el;
  const next = (el?.nextElementSibling ?? el?.previousElementSibling)?.querySelector<HTMLElement>("button.remove");
  remove(id);
  (next ?? results).focus();
}

async function reverifyAll(): Promise<void> {
  const all = [...entries.values()].filter((e) => e.insp.pec);
  if (!all.length) return;
  await Promise.all(all.map((e) => runVerification(e)));
  // Loading or removing trust changes the verdicts of the cards already shown: said in the
  // status line too, else a screen reader user would not know that anything changed.
  const done = all.filter((e) => entries.get(e.insp.id) === e && e.insp.verification?.present);
  const trusted = done.filter((e) => e.insp.verification!.valid && e.insp.verification!.trusted).length;
  const invalid = done.filter((e) => !e.insp.verification!.valid).length;
  const untrusted = done.length - trusted - invalid;
  const n = done.length;
  if (!n) return;
  const part = (count: number, it: string, en: string): [string, string] | [] => (count ? [`${count} ${it}`, `${count} ${en}`] : []);
  const parts = [part(trusted, "attendibili", "trusted"), part(untrusted, "non attendibili", "not trusted"), part(invalid, "con firma non valida", "with an invalid signature")].filter(
    (p): p is [string, string] => p.length === 2,
  );
  say(
    status,
    bi(
      `Firme riverificate (${n} ${n === 1 ? "messaggio" : "messaggi"})${parts.length ? `: ${parts.map((p) => p[0]).join(", ")}` : ""}.`,
      `Signatures re-verified (${n} ${n === 1 ? "message" : "messages"})${parts.length ? `: ${parts.map((p) => p[1]).join(", ")}` : ""}.`,
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Trust

function showTrust(): void {
  const t = loadedTrust;
  trustClear.hidden = !t;
  if (!t) {
    say(
      trustStatus,
      bi("Nessuna fiducia caricata: le firme sono controllate, ma nessun gestore risulta attendibile.", "No trust loaded: signatures are checked, but no gestore is trusted."),
    );
    trustStatus.dataset.state = "none";
    return;
  }
  const parts = [`${t.anchors} cert.`];
  if (t.providers) parts.push(`${t.providers} gestori`);
  if (t.crls) parts.push(`${t.crls} CRL`);
  if (t.rejected) parts.push(`${t.rejected} rifiutati / rejected`);
  say(
    trustStatus,
    h("strong", null, t.files.join(", ")),
    ` · ${parts.join(" · ")}`,
    ...(t.subjects.length ? [h("span", { class: "muted small subjects" }, t.subjects.join(" | ") + (t.anchors > t.subjects.length ? " | …" : ""))] : []),
  );
  trustStatus.dataset.state = "loaded";
}

async function loadTrustFiles(files: readonly File[]): Promise<void> {
  if (!files.length) return;
  say(trustStatus, bi("Caricamento…", "Loading…"));
  try {
    const read = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
    loadedTrust = await loadTrust(read);
    trust = loadedTrust.store;
    showTrust();
  } catch (e) {
    const err = toCardError(e);
    trustClear.hidden = !loadedTrust;
    say(
      trustStatus,
      h("span", { class: "bad-text", role: "alert" }, bi("File di fiducia non leggibile", "Unreadable trust file"), `: ${err.code} `, h("span", { lang: "en" }, err.message)),
    );
    trustStatus.dataset.state = "error";
    return;
  }
  await reverifyAll();
}

// ---------------------------------------------------------------------------------------------
// Events

fileInput.addEventListener("change", () => {
  const files = [...(fileInput.files ?? [])];
  fileInput.value = "";
  void addFiles(files);
});

trustInput.addEventListener("change", () => {
  const files = [...(trustInput.files ?? [])];
  trustInput.value = "";
  void loadTrustFiles(files);
});

// Both buttons hide themselves once clicked: focus goes to the nearest control that stays,
// not back to <body> (a keyboard user would start again from the top of the page).
trustClear.addEventListener("click", () => {
  loadedTrust = undefined;
  trust = TrustStore.empty();
  showTrust();
  trustInput.focus();
  void reverifyAll();
});

clearAll.addEventListener("click", () => {
  clears++;
  for (const id of [...entries.keys()]) remove(id);
  say(status, bi("Elenco svuotato.", "List cleared."));
  results.focus();
});

// Dropping anywhere on the page adds the files; the drop zone lights up meanwhile.
let dragDepth = 0;
const hasFiles = (e: DragEvent): boolean => [...(e.dataTransfer?.types ?? [])].includes("Files");
document.addEventListener("dragenter", (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  dragDepth++;
  dropzone.classList.add("dragging");
});
document.addEventListener("dragleave", (e) => {
  if (!hasFiles(e)) return;
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) dropzone.classList.remove("dragging");
});
document.addEventListener("dragover", (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
});
document.addEventListener("drop", (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  dragDepth = 0;
  dropzone.classList.remove("dragging");
  void addFiles([...(e.dataTransfer?.files ?? [])]);
});

// Last line of defence: whatever slips through also shows up in the status line.
window.addEventListener("unhandledrejection", (e) => {
  const err = toCardError(e.reason);
  say(status, h("span", { class: "bad-text", role: "alert" }, `${err.code}: `, h("span", { lang: "en" }, err.message)));
});

showTrust();
refreshChrome();
document.body.dataset.ready = "true";
