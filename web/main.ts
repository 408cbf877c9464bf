// The PEC inspector page: drop or pick files, read them with readPec, verify them with
// verifyPec against the loaded trust, show a card for each. No network, no server.
import { TrustStore } from "../src/trust/store.js";
import { bi, byId, h } from "./dom.js";
import { inspect, loadTrust, toCardError, unpack, verify, type Inspection, type LoadedTrust } from "./inspect.js";
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

const context = {
  get trustLoaded(): boolean {
    return loadedTrust !== undefined;
  },
  onRemove: (id: number): void => remove(id),
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

/** Replaces an entry's card in place. */
function paint(entry: Entry): void {
  const old = entry.card;
  entry.card = renderCard(entry.insp, context);
  // Keep what the user opened (HTML preview, JSON, …) open across re-verifications.
  const opened = new Set([...old.el.querySelectorAll("details[open]")].map((d) => d.className));
  for (const d of entry.card.el.querySelectorAll("details")) if (opened.has(d.className)) d.open = true;
  old.el.replaceWith(entry.card.el);
  old.dispose();
  refreshChrome();
}

async function runVerification(entry: Entry): Promise<void> {
  const generation = ++entry.generation;
  entry.insp = { ...entry.insp, verifying: true };
  paint(entry);
  const result = await verify(entry.insp, trust);
  if (entries.get(entry.insp.id) !== entry || entry.generation !== generation) return;
  const { verification: _v, verifyError: _e, ...rest } = entry.insp;
  entry.insp = { ...rest, ...result, verifying: false };
  paint(entry);
}

async function addFiles(files: readonly File[]): Promise<void> {
  if (!files.length) return;
  say(status, bi(`Lettura di ${files.length} file…`, `Reading ${files.length} file(s)…`));
  const added: Entry[] = [];
  for (const file of files) {
    let found: Inspection[];
    try {
      // An mbox, a ZIP or a tar archive gives a card per message; a .gz is decompressed first.
      found = (await unpack(file.name, new Uint8Array(await file.arrayBuffer()))).map((m) =>
        "error" in m ? { id: nextId++, name: m.name, size: 0, bytes: new Uint8Array(0), verifying: false, error: toCardError(m.error) } : inspect(nextId++, m.name, m.bytes),
      );
    } catch (e) {
      // File.arrayBuffer failed (file removed, permission), damaged gzip: still a card.
      found = [{ id: nextId++, name: file.name, size: file.size, bytes: new Uint8Array(0), verifying: false, error: toCardError(e) }];
    }
    for (const insp of found) {
      const entry: Entry = { insp, card: renderCard(insp, context), generation: 0 };
      entries.set(insp.id, entry);
      cards.append(entry.card.el);
      added.push(entry);
    }
  }
  refreshChrome();
  await Promise.all(added.filter((e) => e.insp.pec).map((e) => runVerification(e)));
  const errors = added.filter((e) => e.insp.error).length;
  const n = added.length;
  say(
    status,
    bi(
      `${n} file ${n === 1 ? "letto" : "letti"}${errors ? `, ${errors} con errori` : ""}.`,
      `${n} ${n === 1 ? "file" : "files"} read${errors ? `, ${errors} with errors` : ""}.`,
    ),
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

async function reverifyAll(): Promise<void> {
  await Promise.all([...entries.values()].filter((e) => e.insp.pec).map((e) => runVerification(e)));
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
      h("span", { class: "bad-text", role: "alert" }, bi("File di fiducia non leggibile", "Unreadable trust file"), `: ${err.code} ${err.message}`),
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

trustClear.addEventListener("click", () => {
  loadedTrust = undefined;
  trust = TrustStore.empty();
  showTrust();
  void reverifyAll();
});

clearAll.addEventListener("click", () => {
  for (const id of [...entries.keys()]) remove(id);
  say(status, bi("Elenco svuotato.", "List cleared."));
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
  say(status, h("span", { class: "bad-text", role: "alert" }, `${err.code}: ${err.message}`));
});

showTrust();
refreshChrome();
document.body.dataset.ready = "true";
