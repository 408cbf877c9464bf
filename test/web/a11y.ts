// Accessibility checks in a Playwright page, for the three HTML interfaces (inspector, scan
// report, sandbox view): axe-core, and the measures axe does not take (text zoom, contrast
// of a focus ring). The rules are WCAG 2.0 and 2.1, levels A and AA:
// what EN 301 549 (and so the Legge Stanca) asks of a public administration's pages.
//
// axe is injected with page.evaluate, which Chromium runs through the DevTools protocol: the
// pages' CSP (script-src 'self' or hashes, Trusted Types) does not apply to it, so the pages
// are tested exactly as served, with no bypassCSP.
import axe from "axe-core";
import type { Result } from "axe-core";
import type { Page } from "playwright";

/** The axe tags of WCAG 2.0 and 2.1, A and AA. */
export const WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/** A violation judged a false positive: only where `selector` matches, with the reason. */
export interface Allowed {
  rule: string;
  /** A CSS selector the offending node must match (the first of its axe target). */
  selector: string;
  why: string;
}

/** One violation, as a failing test prints it: rule, impact, nodes and what axe says is wrong. */
export interface Finding {
  rule: string;
  impact: string;
  help: string;
  nodes: { target: string; html: string; summary: string }[];
}

function findings(results: Result[]): Finding[] {
  return results.map((r) => ({
    rule: r.id,
    impact: r.impact ?? "",
    help: r.help,
    nodes: r.nodes.map((n) => ({ target: n.target.map(String).join(" >>> "), html: n.html.slice(0, 200), summary: (n.failureSummary ?? "").replace(/\s+/g, " ").slice(0, 300) })),
  }));
}

/**
 * Runs axe on the page's document and returns its WCAG A/AA violations, less the `allowed`
 * ones. Frames are not entered: the only frame is the sandboxed preview of a message's own
 * HTML, which is the sender's markup, not the page's (its `title` is still checked, on the
 * frame element).
 */
export async function axeViolations(page: Page, allowed: readonly Allowed[] = []): Promise<Finding[]> {
  await settled(page);
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(axe.source);
  const results = await page.evaluate(
    async ([tags]) => {
      const a = (window as unknown as { axe: typeof axe }).axe;
      const r = await a.run(document, { runOnly: { type: "tag", values: tags! }, resultTypes: ["violations"], iframes: false });
      return r.violations;
    },
    [WCAG_AA],
  );
  // Drop the allowed nodes (checked in the page: a selector, not a string match).
  const kept: Result[] = [];
  for (const r of results) {
    const selectors = allowed.filter((x) => x.rule === r.id).map((x) => x.selector);
    if (!selectors.length) {
      kept.push(r);
      continue;
    }
    const nodes = [];
    for (const n of r.nodes) {
      const target = String(n.target[0] ?? "");
      const ok = await page.evaluate(
        ([t, sels]) => {
          const el = document.querySelector(t!);
          return !!el && sels!.some((s) => el.matches(s));
        },
        [target, selectors] as const,
      );
      if (!ok) nodes.push(n);
    }
    if (nodes.length) kept.push({ ...r, nodes });
  }
  return findings(kept);
}

/** Waits two frames: what a ResizeObserver or a repaint changes after the last action is in place. */
export async function settled(page: Page): Promise<void> {
  await page.evaluate(() => new Promise<void>((ok) => requestAnimationFrame(() => requestAnimationFrame(() => ok()))));
}

/**
 * Text-only zoom, as a reader who sets a larger default font size in the browser gets it
 * (WCAG 1.4.4): Chromium's default sizes, through the DevTools protocol. 16px is the default.
 */
export async function setDefaultFontSize(page: Page, px: number): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Page.setFontSizes", { fontSizes: { standard: px, fixed: Math.round((px * 13) / 16) } });
  await cdp.detach();
  await settled(page);
}

function luminance(rgb: string): number {
  const [r, g, b] = (rgb.match(/[\d.]+/g) ?? []).slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

/** WCAG contrast ratio of two opaque CSS colours written as `rgb(r, g, b)`. */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}
