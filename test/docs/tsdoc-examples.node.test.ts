// The TSDoc examples stay true: every ```ts block under an @example tag in src/ and
// sandbox/src/ is type-checked as a user would write it against the published API, so a
// wrong property name, argument shape or import, or a removed API, fails here.
//
// - Imports resolve through the package's public entry points only: each subpath of the
//   `exports` of package.json and sandbox/package.json is mapped by `paths` to the source of
//   its types (`./dist/pec/index.d.ts` -> `src/pec/index.ts`). So the test needs no build (dist/
//   may be stale or absent) and checks the comments against the code beside them, while a
//   subpath the package does not export (`postacert/pec/read`) fails as it would for a user.
//   A relative import is accepted only for a name no entry point exports: an example of an
//   internal function (sandbox/src/dovecot.ts) imports it from its file; the example is
//   checked from that file's directory.
// - Each example is a module (top-level await allowed) checked with the options of
//   tsconfig.json (strict, noUncheckedIndexedAccess), less the house style a user need not
//   share (noUnusedLocals, verbatimModuleSyntax, isolatedModules).
// - The prelude is what a reader supplies in their head, and no more: the inputs of INPUTS,
//   declared globally (an example that defines one shadows it); and, for an example with no
//   import at all, an import of the names it uses bare, from the public entry point of the
//   module it documents and then from "postacert" (and readFile/writeFile from
//   node:fs/promises). An example that imports anything must import all it uses.
// - One Program holds every example; a first one, whose parsed files the second reuses, only
//   lists the exports of the entry points. About 5 s.
// - A failure names the file and line of the example's line and the compiler's message.
//   CANARIES, wrong on purpose, prove the harness catches what it is for.
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");

/**
 * The inputs examples use without defining them, each what its name says. Keep it short: an
 * example that needs something more particular declares or builds it itself.
 */
const INPUTS = `
/** The bytes of a message (.eml): a PEC message, a received busta, any mail. */
declare const bytes: Uint8Array;
/** The original message, as the sender's client submitted it (see composeMessage). */
declare const original: Uint8Array;
/** A trust store: IGPEC, PEM anchors or both. */
declare const trust: import("postacert").TrustStore;
/** The text of an IGPEC LDIF export. */
declare const ldif: string;
/** A certificate, and the DER bytes of one. */
declare const cert: import("postacert").Certificate;
declare const der: Uint8Array;
/** The facts of one sending, from transactionFromOriginal or transactionFromBusta. */
declare const tx: import("postacert").PecTransaction;
/** A simulated network and two of its gestori (a Gestore is a PecSigner too). */
declare const network: import("postacert").PecNetwork;
declare const alfa: import("postacert").Gestore;
declare const beta: import("postacert").Gestore;
/** A test CA and a gestore identity it issued (createTestCa, createGestore). */
declare const ca: import("postacert").TestCa;
declare const gestore: import("postacert").TestGestore;
`;

/** Names a reader of a bare example takes from Node. */
const NODE_NAMES: Readonly<Record<string, string>> = { readFile: "node:fs/promises", writeFile: "node:fs/promises" };

/** Wrong examples the test must catch, checked in the same Program. */
const CANARIES: readonly { name: string; file: string; code: string; expected: RegExp }[] = [
  {
    name: "a property ReadPec does not have (src/node/imap.ts before its fix)",
    file: "src/node/imap.ts",
    code: [
      'import { readPec } from "postacert";',
      'import { readImap } from "postacert/node";',
      "const seen = new Set<string>();",
      'for await (const m of readImap("imaps://mario%40pec.alfa.test@imap.example:993", { password, skip: (id) => seen.has(id) })) {',
      "  seen.add(m.id);",
      "  console.log(m.id, readPec(m.bytes).kind);",
      "}",
    ].join("\n"),
    expected: /^src\/node\/imap\.ts:6:\d+ TS2339: Property 'kind' does not exist on type 'ReadPec'/m,
  },
  { name: "a bare name the API does not export", file: "src/pec/read.ts", code: "readPecc(bytes);", expected: /TS2304: Cannot find name 'readPecc'/ },
  { name: "a wrong argument shape", file: "src/pec/read.ts", code: "readPec(bytes, { maxSize: '1MB' });", expected: /TS2322: Type 'string' is not assignable to type 'number'/ },
  { name: "a subpath the package does not export", file: "src/pec/read.ts", code: 'import { readPec } from "postacert/pec/read";', expected: /TS2307: Cannot find module 'postacert\/pec\/read'/ },
  { name: "a name from the wrong entry point", file: "src/pec/read.ts", code: 'import { readPec } from "postacert/node";', expected: /TS2305: Module '"postacert\/node"' has no exported member 'readPec'/ },
  { name: "a public name imported from its file", file: "src/pec/read.ts", code: 'import { readPec } from "./read.js";', expected: /readPec is public: import it from "postacert\/pec"/ },
];

interface Example {
  /** Where the example is: the file and the line of its opening fence. */
  where: string;
  /** The documented file, from the repository root. */
  file: string;
  /** The line (1-based) of the example's first line of code. */
  firstLine: number;
  code: string;
}

/** Every ```ts block under an @example tag of a doc comment, and the @example tags without one. */
function extract(file: string): { examples: Example[]; untyped: string[] } {
  const text = readFileSync(join(root, file), "utf8");
  const examples: Example[] = [];
  const untyped: string[] = [];
  for (const comment of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const startLine = text.slice(0, comment.index).split("\n").length;
    const lines = comment[0].split("\n").map((l) => l.replace(/^\s*(?:\/\*\*|\*(?!\/))? ?/, "").replace(/\s*\*\/$/, ""));
    let tag: { line: number; blocks: number } | undefined;
    let fence: { line: number; lang: string; code: string[] } | undefined;
    const closeTag = (): void => {
      if (tag?.blocks === 0) untyped.push(`${file}:${tag.line}`);
      tag = undefined;
    };
    lines.forEach((line, i) => {
      const lineNo = startLine + i;
      if (fence) {
        if (!/^```\s*$/.test(line)) fence.code.push(line);
        else {
          if (tag && /^(?:ts|typescript)$/.test(fence.lang)) {
            tag.blocks++;
            examples.push({ where: `${file}:${fence.line}`, file, firstLine: fence.line + 1, code: fence.code.join("\n") });
          }
          fence = undefined;
        }
        return;
      }
      const open = /^```(\w*)/.exec(line);
      if (open) fence = { line: lineNo, lang: open[1]!, code: [] };
      else if (/^@example\b/.test(line)) {
        closeTag();
        tag = { line: lineNo, blocks: 0 };
      } else if (/^@\w/.test(line)) closeTag();
    });
    closeTag();
  }
  return { examples, untyped };
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .map((f) => `${dir}/${f.split("\\").join("/")}`)
    .sort();
}

/** The public entry points: package name or subpath -> the source of its types. */
function entryPoints(): Map<string, string> {
  const entries = new Map<string, string>();
  for (const dir of [".", "sandbox"]) {
    const pkg = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8")) as { name: string; exports: Record<string, { types?: string }> };
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (!target.types) continue; // ./package.json
      const source = join(root, dir, target.types.replace(/^\.\/dist\//, "src/").replace(/\.d\.ts$/, ".ts"));
      entries.set(subpath === "." ? pkg.name : `${pkg.name}/${subpath.slice(2)}`, source);
    }
  }
  return entries;
}

/** The entry points a bare example in `file` takes names from, in order. */
function entriesFor(file: string): string[] {
  if (file.startsWith("sandbox/")) return ["postacert-sandbox", "postacert"];
  const dir = /^src\/([^/]+)\//.exec(file)?.[1];
  return dir ? [`postacert/${dir}`, "postacert"] : ["postacert"];
}

function compilerOptions(entries: Map<string, string>): ts.CompilerOptions {
  const config = ts.readConfigFile(join(root, "tsconfig.json"), (p) => ts.sys.readFile(p));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  return {
    ...options,
    noEmit: true,
    noUnusedLocals: false,
    noUnusedParameters: false,
    verbatimModuleSyntax: false,
    isolatedModules: false,
    moduleDetection: ts.ModuleDetectionKind.Force,
    paths: Object.fromEntries([...entries].map(([name, source]) => [name, [source]])),
  };
}

/** Names declared at the top level of an example: the prelude does not import them. */
function declaredNames(sf: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  const bind = (name: ts.BindingName): void => {
    if (ts.isIdentifier(name)) names.add(name.text);
    else for (const e of name.elements) if (!ts.isOmittedExpression(e)) bind(e.name);
  };
  for (const s of sf.statements) {
    if (ts.isVariableStatement(s)) for (const d of s.declarationList.declarations) bind(d.name);
    else if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s) || ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s)) && s.name) names.add(s.name.text);
  }
  return names;
}

function identifiers(node: ts.Node, names = new Set<string>()): Set<string> {
  if (ts.isIdentifier(node)) names.add(node.text);
  ts.forEachChild(node, (child) => void identifiers(child, names));
  return names;
}

/**
 * The line put before an example: the prelude's imports for a bare example, nothing for one
 * with imports; and the relative imports of public names, which are errors.
 */
function prepare(example: Example, exportsOf: ReadonlyMap<string, ReadonlySet<string>>): { header: string; problems: string[] } {
  const sf = ts.createSourceFile("example.mts", example.code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const imports = sf.statements.filter((s) => ts.isImportDeclaration(s) || ts.isImportEqualsDeclaration(s));
  const problems: string[] = [];
  for (const s of imports) {
    if (!ts.isImportDeclaration(s) || !ts.isStringLiteral(s.moduleSpecifier) || !s.moduleSpecifier.text.startsWith(".")) continue;
    const at = `${example.file}:${example.firstLine + sf.getLineAndCharacterOfPosition(s.getStart()).line}`;
    const bindings = s.importClause?.namedBindings;
    if (!bindings || !ts.isNamedImports(bindings) || s.importClause.name) {
      problems.push(`${at} a relative import must name what it imports`);
      continue;
    }
    for (const e of bindings.elements) {
      const name = (e.propertyName ?? e.name).text;
      const entry = [...entriesFor(example.file), ...exportsOf.keys()].find((e) => exportsOf.get(e)?.has(name));
      if (entry) problems.push(`${at} ${name} is public: import it from "${entry}"`);
    }
  }
  if (imports.length > 0) return { header: "", problems };
  const declared = declaredNames(sf);
  const from = new Map<string, string[]>();
  for (const name of identifiers(sf)) {
    if (declared.has(name)) continue;
    const module = entriesFor(example.file).find((e) => exportsOf.get(e)?.has(name)) ?? NODE_NAMES[name];
    if (module) from.set(module, [...(from.get(module) ?? []), name]);
  }
  return { header: [...from].map(([module, names]) => `import { ${names.sort().join(", ")} } from "${module}";`).join(" "), problems };
}

interface Compiled {
  /** Per example: its messages, `file:line:column TS1234: text`. */
  messages: string[][];
  /** The messages of the prelude and of the options. */
  prelude: string[];
  ms: number;
}

/** Type-checks the examples, in one Program. */
function compile(examples: readonly Example[]): Compiled {
  const started = performance.now();
  const entries = entryPoints();
  const options = compilerOptions(entries);
  const host = ts.createCompilerHost(options, true);

  const exportsProgram = ts.createProgram({ rootNames: [...entries.values()], options, host });
  const checker = exportsProgram.getTypeChecker();
  const exportsOf = new Map<string, Set<string>>();
  for (const [name, source] of entries) {
    const sf = exportsProgram.getSourceFile(source);
    const symbol = sf && checker.getSymbolAtLocation(sf);
    if (!symbol) throw new Error(`entry point ${name}: ${source} not found`);
    exportsOf.set(name, new Set(checker.getExportsOfModule(symbol).map((s) => s.name)));
  }

  // Each example beside the file it documents (for a relative import), under a name no file has.
  const virtual = new Map<string, string>();
  const preludePath = join(root, "test/docs/__tsdoc_prelude__.d.ts");
  virtual.set(preludePath, INPUTS);
  const prepared = examples.map((example, i) => {
    const { header, problems } = prepare(example, exportsOf);
    const path = join(root, dirname(example.file), `__tsdoc_example_${i}__.mts`);
    virtual.set(path, `${header}\n${example.code}\n`);
    return { example, path, problems };
  });
  const exampleHost: ts.CompilerHost = {
    ...host,
    fileExists: (f) => virtual.has(f) || host.fileExists(f),
    readFile: (f) => virtual.get(f) ?? host.readFile(f),
    getSourceFile: (f, version, onError, create) => {
      const text = virtual.get(f);
      return text === undefined ? host.getSourceFile(f, version, onError, create) : ts.createSourceFile(f, text, version, true);
    },
  };
  const program = ts.createProgram({ rootNames: [...virtual.keys()], options, host: exampleHost, oldProgram: exportsProgram });

  const format = (d: ts.Diagnostic, where: (line: number) => string): string => {
    const text = `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    if (!d.file || d.start === undefined) return text;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${where(line)}:${character + 1} ${text}`;
  };
  const diagnosticsOf = (path: string): ts.Diagnostic[] => {
    const sf = program.getSourceFile(path)!;
    return [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
  };
  const messages = prepared.map(({ example, path, problems }) => {
    // Line 0 is the prelude's imports: an error there is the example's first line.
    const where = (line: number): string => `${example.file}:${example.firstLine + Math.max(0, line - 1)}`;
    return [...problems, ...diagnosticsOf(path).map((d) => format(d, where))];
  });
  const prelude = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics(), ...diagnosticsOf(preludePath)].map((d) =>
    format(d, (line) => `INPUTS:${line + 1}`),
  );
  return { messages, prelude, ms: performance.now() - started };
}

const found = [...tsFiles("src"), ...tsFiles("sandbox/src")].map(extract);
const examples = found.flatMap((f) => f.examples);
const canaries: Example[] = CANARIES.map((c) => ({ where: `canary: ${c.name}`, file: c.file, firstLine: 1, code: c.code }));

describe("TSDoc @example blocks", () => {
  let compiled: Compiled;
  beforeAll(() => {
    compiled = compile([...examples, ...canaries]);
    console.log(`${examples.length} examples (and ${canaries.length} canaries) type-checked in ${Math.round(compiled.ms)} ms`);
  }, 60_000);

  it("are all found, all TypeScript, with a prelude that compiles", () => {
    expect(examples.length).toBeGreaterThanOrEqual(100);
    expect(found.flatMap((f) => f.untyped), "@example tags without a ```ts block").toEqual([]);
    expect(compiled.prelude).toEqual([]);
  });

  it.each(examples.map((e, i) => [e.where, i] as const))("%s", (where, i) => {
    expect(compiled.messages[i], `${where}: the example does not compile`).toEqual([]);
  });

  it.each(CANARIES.map((c, i) => [c.name, i] as const))("catches %s", (_name, i) => {
    const messages = compiled.messages[examples.length + i]!;
    expect(messages.join("\n")).toMatch(CANARIES[i]!.expected);
  });
});
