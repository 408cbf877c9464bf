import { readFile, readdir, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { defineConfig } from "vitest/config";
import { playwright } from "@vitest/browser-playwright";
import type { BrowserCommand } from "vitest/node";

const root = import.meta.dirname;

// Browser tests read files through these commands (the test code never imports node:fs).
// Paths are relative to the repository root.
const readBytesBase64: BrowserCommand<[path: string]> = async (_ctx, path) =>
  (await readFile(resolve(root, path))).toString("base64");
const listFiles: BrowserCommand<[path: string]> = async (_ctx, path) => {
  const dir = resolve(root, path);
  try {
    const out: string[] = [];
    const walk = async (d: string, rel: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(resolve(d, e.name), rel + e.name + "/");
        else out.push(rel + e.name);
      }
    };
    if ((await stat(dir)).isDirectory()) await walk(dir, "");
    return out.sort();
  } catch {
    return null;
  }
};

const include = ["test/**/*.test.ts"];
const nodeOnly = ["test/**/*.node.test.ts"];

export default defineConfig({
  test: {
    projects: [
      {
        resolve: { alias: { "#files": resolve(root, "test/support/files.node.ts") } },
        test: { name: "node", include: [...include, "sandbox/test/**/*.node.test.ts"], environment: "node", testTimeout: 60_000 },
      },
      {
        resolve: { alias: { "#files": resolve(root, "test/support/files.browser.ts") } },
        test: {
          name: "browser",
          include,
          exclude: nodeOnly,
          testTimeout: 60_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({
              launchOptions: {
                executablePath: "/usr/bin/chromium",
                args: [
                  "--no-sandbox",
                  "--disable-gpu",
                  "--disable-background-networking",
                  "--disable-component-update",
                  "--disable-sync",
                  "--disable-quic",
                  "--no-first-run",
                ],
              },
            }),
            instances: [{ browser: "chromium" }],
            commands: { readBytesBase64, listFiles },
          },
        },
      },
    ],
  },
});
