// The published package, as a user gets it: `npm pack` holds only dist/ (JavaScript and
// declarations), package.json, README.md and LICENSE; the tarball installs into a fresh
// project where every subpath imports from ESM (and type-checks with NodeNext), the bin
// runs, and Vite bundles the browser entry without any `node:` import.
//
// Needs npm (skipped with a message without it) and a current dist/: when dist/ is missing
// or older than src/, it is rebuilt here with `tsc -p tsconfig.build.json`.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  name: string;
  version: string;
  exports: Record<string, string | { types: string; default: string }>;
  dependencies: Record<string, string>;
};
/** The subpaths of the exports map, as import specifiers (`postacert`, `postacert/mime`, …). */
const specifiers = Object.keys(pkg.exports)
  .filter((k) => k !== "./package.json")
  .map((k) => (k === "." ? pkg.name : `${pkg.name}/${k.slice(2)}`));

const hasNpm = spawnSync("npm", ["--version"], { encoding: "utf8" }).status === 0;
if (!hasNpm) console.warn("pack.node.test.ts: npm is not on PATH: the package test is skipped");

function run(cmd: string, args: string[], cwd: string, timeout = 120_000): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout, env: { ...process.env, NO_COLOR: "1", npm_config_update_notifier: "false" } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/** dist/ is current when every src/*.ts has a dist/*.js at least as new. */
function distIsCurrent(): boolean {
  if (!existsSync(join(root, "dist"))) return false;
  for (const file of walk(join(root, "src"))) {
    if (!file.endsWith(".ts") || file.endsWith(".d.ts")) continue;
    const out = join(root, "dist", relative(join(root, "src"), file)).replace(/\.ts$/, ".js");
    if (!existsSync(out) || statSync(out).mtimeMs < statSync(file).mtimeMs) return false;
  }
  return true;
}

describe.skipIf(!hasNpm)("npm package", () => {
  let tmp: string;
  let project: string;
  let tarball: string;
  let files: string[];

  beforeAll(() => {
    if (!distIsCurrent()) run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], root);
    tmp = mkdtempSync(join(tmpdir(), "postacert-pack-"));
    // --ignore-scripts: `prepare` would rebuild dist/, done above when needed.
    const packed = JSON.parse(run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", tmp], root)) as {
      filename: string;
      files: { path: string }[];
    }[];
    tarball = join(tmp, packed[0]!.filename);
    files = packed[0]!.files.map((f) => f.path).sort();

    project = join(tmp, "project");
    mkdirSync(project);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "postacert-consumer", private: true, type: "module" }));
    // The dependencies are in npm's cache after `npm ci`: --prefer-offline keeps this quick.
    run("npm", ["install", tarball, "--no-audit", "--no-fund", "--prefer-offline", "--ignore-scripts", "--no-package-lock"], project);
  }, 180_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("holds only dist/ (JavaScript and declarations), package.json, README.md and LICENSE", () => {
    const others = files.filter((f) => !["package.json", "README.md", "LICENSE"].includes(f));
    expect(others.filter((f) => !/^dist\/.+(\.js|\.d\.ts)$/.test(f))).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(["package.json", "README.md", "LICENSE", "dist/cli/main.js"]));
    expect(files.some((f) => f.endsWith(".map"))).toBe(false);
    // Every target of the exports map is in the tarball.
    for (const target of Object.values(pkg.exports)) {
      for (const t of typeof target === "string" ? [target] : [target.types, target.default]) expect(files).toContain(t.replace(/^\.\//, ""));
    }
  });

  it("installs with its runtime dependencies only", () => {
    const installed = JSON.parse(readFileSync(join(project, "node_modules/postacert/package.json"), "utf8")) as { version: string };
    expect(installed.version).toBe(pkg.version);
    for (const dep of Object.keys(pkg.dependencies)) expect(existsSync(join(project, "node_modules", dep))).toBe(true);
    for (const dev of ["vitest", "typescript", "typedoc"]) expect(existsSync(join(project, "node_modules", dev))).toBe(false);
  });

  it("imports every subpath from ESM and calls one function of each", () => {
    const script = `
import { readPec, verifyPec, TrustStore as RootTrustStore } from "postacert";
import { parseMime, buildMime } from "postacert/mime";
import { parseDaticert, buildDaticertBytes, daticertDate } from "postacert/daticert";
import { parsePemCertificates } from "postacert/smime";
import { TrustStore } from "postacert/trust";
import { pecToJson, composeMessage, transactionFromOriginal, newIdentificativo, buildAccettazione } from "postacert/pec";
import { createTestCa, createGestore } from "postacert/simulator";
import { systemTrust } from "postacert/node";

const out = {};
const mail = buildMime({ headers: [["From", "a@example.org"], ["To", "b@example.org"], ["Subject", "ciao"]], body: "hello" });
out.mime = parseMime(mail).header("subject");
out.root = readPec(mail).type;
out.daticert = daticertDate({ zona: "+0100", giorno: "15/03/2024", ora: "10:30:00" }).toISOString();
const ca = await createTestCa({ keyAlgorithm: "ECDSA-P256" });
out.simulator = ca.kind;
out.smime = parsePemCertificates(ca.pem())[0].subject;
const trust = await TrustStore.fromPem(ca.pem());
out.trust = trust.anchors.length;
out.sameTrustStore = TrustStore === RootTrustStore;
const alfa = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, keyAlgorithm: "ECDSA-P256" });
const original = composeMessage({ from: "mario@pec.alfa.test", to: "anna@pec.beta.test", subject: "Offerta", text: "Ciao" });
const tx = transactionFromOriginal(original, { identificativo: newIdentificativo(alfa.domain) });
const ricevuta = await buildAccettazione(alfa, tx);
const pec = readPec(ricevuta.bytes);
out.pec = pecToJson(pec).type;
out.roundTrip = parseDaticert(buildDaticertBytes(pec.daticert)).tipo;
const res = await verifyPec(pec, { trust });
out.verified = res.valid && res.trusted;
out.node = (await systemTrust()).anchors.length > 50;
console.log(JSON.stringify(out));
`;
    writeFileSync(join(project, "check.mjs"), script);
    for (const s of specifiers) expect(script).toContain(`from "${s}"`);
    expect(JSON.parse(run(process.execPath, ["check.mjs"], project))).toEqual({
      mime: "ciao",
      root: "not-pec",
      daticert: "2024-03-15T09:30:00.000Z",
      simulator: "ca",
      smime: "C=IT, O=postacert test PKI, CN=postacert Test CA",
      trust: 1,
      sameTrustStore: true,
      pec: "accettazione",
      roundTrip: "accettazione",
      verified: true,
      node: true,
    });
  });

  it("type-checks every subpath with moduleResolution NodeNext", () => {
    const lines = specifiers.map((s, i) => `import * as m${i} from "${s}";`);
    lines.push(`export const loaded: object[] = [${specifiers.map((_, i) => `m${i}`).join(", ")}];`);
    lines.push(`import type { ReadPec, PecVerification } from "postacert";`);
    lines.push(`export type Both = [ReadPec, PecVerification];`);
    lines.push(`import { readPec } from "postacert";`);
    lines.push(`export const t: ReadPec["type"] = readPec(new Uint8Array()).type;`);
    writeFileSync(join(project, "check.ts"), lines.join("\n") + "\n");
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", lib: ["ES2023", "DOM"], strict: true, noEmit: true, types: [], skipLibCheck: true },
        files: ["check.ts"],
      }),
    );
    run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], project);
  });

  it("runs the postacert bin", () => {
    const bin = join(project, "node_modules/.bin/postacert");
    expect(run(bin, ["--version"], project).trim()).toBe(`postacert ${pkg.version}`);
    expect(run(bin, ["--help"], project)).toContain("postacert inspect");
  });

  /** Bundles the entries (file name → source) for browsers; returns the code and the bundler's Node-related findings. */
  async function bundle(entries: Record<string, string>): Promise<{ code: string; nodeImports: string[] }> {
    const { build } = await import("vite");
    const input: Record<string, string> = {};
    for (const [name, source] of Object.entries(entries)) {
      writeFileSync(join(project, `${name}.js`), source);
      input[name] = join(project, `${name}.js`);
    }
    const outDir = join(project, `bundle-${Object.keys(entries).join("-")}`);
    const warnings: string[] = [];
    await build({
      root: project,
      configFile: false,
      logLevel: "silent",
      build: {
        outDir,
        emptyOutDir: true,
        target: ["chrome111", "firefox114", "safari16.4"],
        minify: false,
        lib: { entry: input, formats: ["es"] },
        rollupOptions: { onwarn: (w) => void warnings.push(String(w.message)) },
      },
    });
    const code = walk(outDir)
      .filter((f) => f.endsWith(".js"))
      .map((f) => readFileSync(f, "utf8"))
      .join("\n");
    return {
      code,
      nodeImports: [
        // An import of a Node built-in left in the output…
        ...(code.match(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["']node:[^"']+["']/g) ?? []),
        // …or replaced by Vite's empty stand-in for browsers.
        ...(code.match(/__vite[-_]browser[-_]external/g) ?? []).slice(0, 1),
        ...warnings.filter((w) => /externalized for browser compatibility|["']node:/i.test(w)),
      ],
    };
  }

  it("bundles the browser entry with Vite without any node: import", async () => {
    const browserSubpaths = specifiers.filter((s) => s !== `${pkg.name}/node`);
    const { code, nodeImports } = await bundle({
      browser: `import { readPec, verifyPec } from "postacert";\nexport { readPec, verifyPec };\n`,
      everything: browserSubpaths.map((s, i) => `export * as m${i} from "${s}";`).join("\n") + "\n",
    });
    expect(code).toContain("function readPec(");
    expect(code).toContain("function verifyPec(");
    expect(nodeImports).toEqual([]);
  });

  it("would see a node: import (postacert/node is Node-only)", async () => {
    const { nodeImports } = await bundle({ nodeonly: `export { systemTrust } from "postacert/node";\n` });
    expect(nodeImports.length).toBeGreaterThan(0);
    expect(nodeImports.join("\n")).toMatch(/node:tls|browser.external/);
  });
});
