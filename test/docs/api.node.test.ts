// The API reference stays whole: every export documented, every {@link} resolving. typedoc
// (typedoc.json: the validation options, warnings as errors) checks it without writing pages.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");

it("typedoc validates the public API without a warning", () => {
  const r = spawnSync(process.execPath, [resolve(root, "node_modules/typedoc/bin/typedoc"), "--emit", "none"], { cwd: root, encoding: "utf8", timeout: 120_000 });
  // The output names what is missing: it is the failure's message.
  expect(r.status, `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, "")).toBe(0);
}, 150_000);
