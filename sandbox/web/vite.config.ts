// Vite build of the sandbox web view (sandbox/web → sandbox/dist/web), served by the
// sandbox process itself. It reuses the inspector's components (../../web) and styles.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root,
  base: "/",
  publicDir: false,
  clearScreen: false,
  logLevel: "warn",
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    modulePreload: false,
    cssCodeSplit: false,
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
    rolldownOptions: { output: { entryFileNames: "assets/sandbox-[hash].js", assetFileNames: "assets/[name]-[hash][extname]" } },
  },
});
