// Tiny DOM helpers. Text always goes in as text nodes: nothing read from a message is
// ever parsed as HTML in this document. Bidi overrides, embeddings and isolates show as
// U+FFFD: "fattura\u202Efdp.exe" would otherwise show as "fatturaexe.pdf", and reorder
// the text after it.
import { unreordered } from "../src/util/text.js";

/** What `h` accepts as children. */
export type Child = Node | string | number | null | undefined | false | readonly Child[];

/** Attribute values: `false`/`undefined` leave it out, `true` writes it empty; functions are `on…` listeners. */
export type Attrs = Record<string, string | number | boolean | undefined | ((ev: Event) => void)>;

/** Creates an element with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value === undefined || value === false) continue;
      if (typeof value === "function") el.addEventListener(name.replace(/^on/, ""), value);
      else el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

/** Appends children (text as text nodes). */
export function append(parent: Node, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c as readonly Child[]);
    else if (c instanceof Node) parent.appendChild(c);
    else parent.appendChild(document.createTextNode(unreordered(String(c))));
  }
}

/**
 * An Italian / English pair: `<span lang="it">it</span> / <span lang="en">en</span>`;
 * its text content reads `it / en`.
 */
export function bi(it: string, en: string, cls?: string): HTMLSpanElement {
  return h(
    "span",
    { class: cls ? `bi ${cls}` : "bi" },
    h("span", { lang: "it" }, it),
    h("span", { class: "sep", "aria-hidden": "true" }, " / "),
    h("span", { lang: "en", class: "en" }, en),
  );
}

/** Element by id, typed; throws when the page is not the one expected. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from the page`);
  return el as T;
}

// ---------------------------------------------------------------------------------------------
// Scrolling boxes

/**
 * Boxes that scroll (a wide table, a long text) take keyboard focus while their content
 * overflows, so that a keyboard user can scroll them with the arrow keys (WCAG 2.1.1; axe's
 * scrollable-region-focusable). Only while: a box that fits would be a tab stop that does
 * nothing. A ResizeObserver notices the changes that matter: the first layout, a `<details>`
 * opening, a narrower window, larger text.
 */
const scrollers = typeof ResizeObserver === "undefined" ? undefined : new ResizeObserver((entries) => entries.forEach((e) => updateScroller(e.target as HTMLElement)));

/** Makes `el` focusable (or not) as its content overflows (or not) now. */
export function updateScroller(el: HTMLElement): void {
  const overflows = el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
  if (overflows === (el.getAttribute("tabindex") === "0")) return;
  if (overflows) {
    el.setAttribute("tabindex", "0");
    // A focusable wrapper gets a role and the name of what it holds (its table's caption):
    // a screen reader then says what the stop is.
    if (el.dataset.label) {
      el.setAttribute("role", "region");
      el.setAttribute("aria-labelledby", el.dataset.label);
    }
  } else {
    el.removeAttribute("tabindex");
    el.removeAttribute("role");
    el.removeAttribute("aria-labelledby");
  }
}

/** Marks `el` as a box that may scroll; `labelledBy` is the id of what names it as a region. */
export function scroller<T extends HTMLElement>(el: T, labelledBy?: string): T {
  el.dataset.scroller = "";
  if (labelledBy) el.dataset.label = labelledBy;
  scrollers?.observe(el);
  return el;
}

/** Stops watching the scrolling boxes under `root` (a card being thrown away). */
export function forgetScrollers(root: Element): void {
  for (const el of root.querySelectorAll("[data-scroller]")) scrollers?.unobserve(el);
}
