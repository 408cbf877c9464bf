// Vite config of the browser inspector page (web/).
//
//   npm run web         dev server (vite --config web/vite.config.ts)
//   npm run build:web   static build into web/dist (vite build --config web/vite.config.ts)
//
// The built page is one classic script, one stylesheet and index.html, with relative
// URLs: it can be served by any static server or opened straight from disk (file://),
// and it never touches the network. The Content-Security-Policy lives in index.html;
// the dev server relaxes it only as far as Vite's client needs (HMR websocket, the
// error overlay's inline styles).
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

const CSP_META = /(<meta\s+http-equiv="Content-Security-Policy"\s+content=")([^"]*)(")/i;

function relaxForDev(policy: string): string {
  return policy
    .split(";")
    .map((d) => d.trim())
    .filter((d) => d && !d.startsWith("require-trusted-types-for") && !d.startsWith("trusted-types"))
    .map((d) => {
      if (d.startsWith("style-src")) return `${d} 'unsafe-inline'`;
      if (d.startsWith("connect-src")) return "connect-src 'self' ws: wss:";
      return d;
    })
    .join("; ");
}

/** Dev server: a CSP Vite's client can live with. */
const devCsp: Plugin = {
  name: "postacert-web:dev-csp",
  apply: "serve",
  transformIndexHtml: {
    order: "pre",
    handler: (html) => html.replace(CSP_META, (_m, a: string, policy: string, c: string) => a + relaxForDev(policy) + c),
  },
};

/**
 * Build: a classic deferred script instead of `type="module" crossorigin`, so that the
 * page also works from file:// (Chromium refuses module scripts and CORS-mode
 * stylesheets there). The bundle is a single IIFE, which a classic script can run.
 */
const classicScript: Plugin = {
  name: "postacert-web:classic-script",
  apply: "build",
  transformIndexHtml: {
    order: "post",
    handler: (html) =>
      html
        .replace(/<script type="module" crossorigin src=/g, "<script defer src=")
        .replace(/<script type="module" src=/g, "<script defer src=")
        .replace(/(<link\b[^>]*?)\s+crossorigin(?:="[^"]*")?/g, "$1"),
  },
};

export default defineConfig({
  root,
  base: "./",
  publicDir: false,
  clearScreen: false,
  plugins: [devCsp, classicScript],
  server: { host: "127.0.0.1", port: 5178, fs: { allow: [fileURLToPath(new URL("..", import.meta.url))] } },
  preview: { host: "127.0.0.1", port: 5179 },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    modulePreload: false,
    // One extracted stylesheet, linked from index.html (an IIFE bundle would otherwise inject
    // it with a <style> element, which the CSP refuses).
    cssCodeSplit: false,
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
    rolldownOptions: {
      output: { format: "iife", entryFileNames: "assets/inspector-[hash].js", assetFileNames: "assets/[name]-[hash][extname]" },
    },
  },
});
