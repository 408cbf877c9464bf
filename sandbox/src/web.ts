/**
 * The web view: a page (built from the inspector's components, see `sandbox/web/`) and a
 * small JSON API over node:http, on localhost only by default.
 *
 * - `GET /api/state`: gestori, every mailbox with its messages (type, variant, subject,
 *   dates, daticert summary, verification verdict against the sandbox's IGPEC LDIF), and
 *   the flows in progress;
 * - `GET /api/message?box=…&file=…`: the raw message (for the full inspector card);
 * - `GET /api/trust.ldif`: the LDIF the page verifies with;
 * - `GET /api/events`: server-sent events, one `change` per delivery (live view).
 *
 * @module
 */
import { existsSync } from "node:fs";
import { readFile, readdir, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { TrustStore, readPec, verifyPec } from "postacert";
import type { Engine } from "./engine.js";

/** A running web view. */
export interface WebServer {
  /** `http://host:port/`. */
  url: string;
  /** Closes the server and every open event stream. */
  stop(): Promise<void>;
}

/** What the page shows for one message. */
export interface MessageSummary {
  file: string;
  size: number;
  /** When it landed in the Maildir (ms). */
  delivered: number;
  seen: boolean;
  type: string;
  variant?: string;
  subject: string;
  from: string;
  date?: string;
  identificativo?: string;
  /**
   * `destinatari` holds the first {@link SHOWN_RECIPIENTS} recipients, `destinatariTotal` how
   * many daticert lists: a sending to n recipients gives n receipts that each list all n, and
   * the state would grow as n².
   */
  daticert?: { tipo?: string; errore?: string; mittente?: string; destinatari?: string[]; destinatariTotal?: number; consegna?: string; gestore?: string };
  verdict: "trusted" | "valid-untrusted" | "invalid" | "unsigned" | "unreadable";
}

// dist/web next to the compiled module; from the sources (tests), the built copy in dist/web.
// Looked up per request, so that a page built after start-up is found.
const staticDir = (): string =>
  [new URL("./web/", import.meta.url), new URL("../dist/web/", import.meta.url)].map((u) => fileURLToPath(u)).find((d) => existsSync(join(d, "index.html"))) ??
  fileURLToPath(new URL("./web/", import.meta.url));
const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml" };
const FILE_NAME = /^[A-Za-z0-9._,:=+-]+$/;
/** The recipients a message's summary lists, at most (the card shows them all). */
export const SHOWN_RECIPIENTS = 10;

async function summarize(path: string, file: string, trust: TrustStore): Promise<MessageSummary> {
  const bytes = new Uint8Array(await readFile(path));
  const st = await stat(path);
  const flags = file.includes(":2,") ? file.slice(file.indexOf(":2,") + 3) : "";
  const base = { file, size: bytes.length, delivered: st.mtimeMs, seen: flags.includes("S") };
  try {
    const pec = readPec(bytes);
    let verdict: MessageSummary["verdict"] = "unsigned";
    if (pec.type !== "not-pec") {
      const v = await verifyPec(pec, { trust });
      verdict = v.valid ? (v.trusted ? "trusted" : "valid-untrusted") : "invalid";
    }
    const d = pec.daticert;
    const variant = pec.ricevuta ?? pec.timeout ?? (d?.errore !== "nessuno" ? d?.errore : undefined);
    return {
      ...base,
      type: pec.type,
      ...(variant !== undefined && { variant }),
      subject: pec.subject ?? "",
      from: pec.from ?? "",
      ...(pec.date && { date: pec.date.toISOString() }),
      ...(pec.identificativo !== undefined && { identificativo: pec.identificativo }),
      ...(d && {
        daticert: {
          tipo: d.tipo,
          ...(d.errore !== undefined && { errore: d.errore }),
          mittente: d.intestazione.mittente,
          destinatari: d.intestazione.destinatari.slice(0, SHOWN_RECIPIENTS).map((x) => x.address),
          destinatariTotal: d.intestazione.destinatari.length,
          ...(d.dati.consegna !== undefined && { consegna: d.dati.consegna }),
          gestore: d.dati.gestoreEmittente,
        },
      }),
      verdict,
    };
  } catch {
    return { ...base, type: "unreadable", subject: "", from: "", verdict: "unreadable" };
  }
}

/** Starts the web view. */
export async function startWeb(engine: Engine, host: string, port: number, log: (line: string) => void): Promise<WebServer> {
  const ldif = await engine.network.igpecLdif();
  const trust = await TrustStore.fromLdif(ldif);
  const cache = new Map<string, MessageSummary>();
  const streams = new Set<ServerResponse>();
  let version = 0;

  let pendingPing: NodeJS.Timeout | undefined;
  const unsubscribe = engine.subscribe(() => {
    version++;
    // Many deliveries in a burst make one event per 200 ms, not one each.
    pendingPing ??= setTimeout(() => {
      pendingPing = undefined;
      for (const s of streams) s.write(`event: change\ndata: ${version}\n\n`);
    }, 200);
  });

  async function mailboxList(): Promise<unknown[]> {
    const out: unknown[] = [];
    // Summaries of files no longer listed (expunged, moved, renamed by a client) are dropped.
    const listed = new Set<string>();
    for (const box of engine.mailboxes.values()) {
      const messages: MessageSummary[] = [];
      for (const sub of ["new", "cur"]) {
        let files: string[] = [];
        try {
          files = await readdir(join(box.maildir, sub));
        } catch {
          continue;
        }
        for (const f of files) {
          if (f.startsWith(".")) continue;
          const key = `${box.address}/${sub}/${f}`;
          listed.add(key);
          let s = cache.get(key);
          if (!s) {
            try {
              s = await summarize(join(box.maildir, sub, f), `${sub}/${f}`, trust);
            } catch {
              continue; // moved by a client meanwhile: the next poll shows it under its new name
            }
            cache.set(key, s);
          }
          messages.push(s);
        }
      }
      messages.sort((a, b) => a.file.replace(/^\w+\//, "").localeCompare(b.file.replace(/^\w+\//, "")));
      const { maildir: _m, ...rest } = box;
      out.push({ ...rest, messages });
    }
    for (const key of cache.keys()) if (!listed.has(key)) cache.delete(key);
    return out;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (code: number, type: string, body: string | Uint8Array): void => {
      res.writeHead(code, { "content-type": type, "cache-control": "no-store", "x-content-type-options": "nosniff" });
      res.end(body);
    };
    // A request target URL cannot parse ("http://[/x"), or a path with broken percent-encoding
    // ("/%zz"): the client's mistake, not an internal error.
    let url: URL;
    let decodedPath: string;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
      decodedPath = decodeURIComponent(url.pathname);
    } catch {
      return send(400, "text/plain", "bad request");
    }
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "text/plain", "method not allowed");
    if (url.pathname === "/api/state") {
      const state = {
        version,
        clockSpeed: engine.clockSpeed,
        gestori: engine.network.gestori.map((g) => ({ name: g.name, domain: g.domain, availability: g.availability, serviceMailbox: g.mailReceipt })),
        mailboxes: await mailboxList(),
        activeFlows: engine.activeFlows.map((f) => ({ id: f.id, identificativo: f.identificativo, envelope: f.envelope, steps: f.steps.map(({ file: _f, ...s }) => s), notes: f.notes })),
      };
      return send(200, "application/json", JSON.stringify(state));
    }
    if (url.pathname === "/api/trust.ldif") return send(200, "text/plain; charset=utf-8", ldif);
    if (url.pathname === "/api/message") {
      const box = engine.mailboxes.get((url.searchParams.get("box") ?? "").toLowerCase());
      const file = url.searchParams.get("file") ?? "";
      const [sub, name] = file.split("/");
      if (!box || (sub !== "new" && sub !== "cur") || !name || !FILE_NAME.test(name)) return send(404, "text/plain", "no such message");
      try {
        return send(200, "message/rfc822", await readFile(join(box.maildir, sub, name)));
      } catch {
        return send(404, "text/plain", "no such message (moved or deleted)");
      }
    }
    if (url.pathname === "/api/events") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
      res.write(`retry: 2000\nevent: change\ndata: ${version}\n\n`);
      streams.add(res);
      req.on("close", () => streams.delete(res));
      return;
    }
    const rel = url.pathname === "/" ? "index.html" : normalize(decodedPath).replace(/^[/\\]+/, "");
    const root = staticDir();
    const path = join(root, rel);
    if (!path.startsWith(root) || rel.split(sep).includes("..")) return send(404, "text/plain", "not found");
    try {
      const body = await readFile(path);
      return send(200, TYPES[extname(path)] ?? "application/octet-stream", body);
    } catch {
      return send(404, "text/plain", url.pathname === "/" ? "the web view is not built: run npm run build -w sandbox" : "not found");
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log(`web view: ${(e as Error)?.message ?? String(e)}`);
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end("internal error");
    });
  });
  // What Node's HTTP parser refuses (an overlong URL or header, a malformed line): a 400 or
  // 431 as the client can read it, then the socket closes.
  server.on("clientError", (e: NodeJS.ErrnoException, socket) => {
    if (e.code !== "ECONNRESET" && socket.writable) {
      const status = e.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    } else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shown = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shown}:${addr.port}/`,
    stop: () =>
      new Promise<void>((resolve) => {
        unsubscribe();
        if (pendingPing) clearTimeout(pendingPing);
        for (const s of streams) s.end();
        streams.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
