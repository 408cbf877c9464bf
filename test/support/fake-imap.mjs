// A scriptable fake IMAP4rev1 server that misbehaves on purpose (test/node/imap-hostile.node.test.ts).
// Usage: node fakeimap.mjs <scenario> [port]   (scenario names: see SCEN below)
// Env: PORT (default 14300), TLS=1 (implicit TLS, self-signed cert in ./certs), STARTTLS=1,
//      LOG=1 (log client commands to stderr), MSGS=n (messages in INBOX), UIDV=n (uidvalidity)
import net from "node:net";
import tls from "node:tls";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const scen = process.argv[2] ?? "normal";
const port = Number(process.argv[3] ?? process.env.PORT ?? 14300);
const LOG = process.env.LOG === "1";
const log = (...a) => LOG && console.error("[fake]", ...a);

function msg(i, extra = "") {
  return Buffer.from(`From: a${i}@example.test\r\nTo: b@example.test\r\nSubject: message ${i}${extra}\r\nMessage-ID: <m${i}@example.test>\r\nDate: Mon, 16 Mar 2026 09:30:00 +0100\r\n\r\nbody ${i}\r\n`, "latin1");
}

const nMsgs = Number(process.env.MSGS ?? 3);
const uidv = Number(process.env.UIDV ?? 1000);
// mailboxes: name -> { uidvalidity, msgs: [{uid, body}] }
const boxes = new Map();
boxes.set("INBOX", { uidvalidity: uidv, msgs: Array.from({ length: nMsgs }, (_, i) => ({ uid: i + 1, body: msg(i + 1) })) });
let extraList = []; // extra LIST lines [flags, delim, name]
if (process.env.BOXES) for (const b of JSON.parse(process.env.BOXES)) boxes.set(b, { uidvalidity: uidv, msgs: [{ uid: 1, body: msg(900, ` in ${b}`) }] });

const S = {}; // scenario hooks
const hook = (name, ...args) => (S[name] ? S[name](...args) : undefined);
let conns = 0;

function quote(s) {
  return /^[\x20-\x7e]*$/.test(s) && !/["\\]/.test(s) ? `"${s}"` : null;
}
function astring(s) {
  const q = quote(s);
  if (q) return q;
  const b = Buffer.from(s, "utf8");
  return `{${b.length}}\r\n${b.toString("latin1")}`;
}

/** A body fetch answered with each asked-for UID's generated message. */
function bodiesAsAsked(c, tag, uids, raw) {
  log("body set", raw);
  for (const [k, u] of uids.entries()) c.w(`* ${k + 1} FETCH (UID ${u} BODY[] ${lit(msg(u))})\r\n`);
  c.w(`${tag} OK done\r\n`);
  return true;
}

// ---------- scenarios ----------
switch (scen) {
  case "normal":
  case "random-bye":
  case "random-cut":
  case "stall-logout":
  case "starttls-refused":
  case "starttls-bad":
    break;
  case "echo-password": // NO to LOGIN echoing the password
    S.login = (c, tag, user, pw) => c.w(`${tag} NO [AUTHENTICATIONFAILED] Authentication failed for ${user} with password ${pw}\r\n`);
    break;
  case "echo-raw": // NO to LOGIN quoting the raw command line as received (quoted-string escapes included)
    S.login = (c, tag) => c.w(`${tag} NO [AUTHENTICATIONFAILED] bad command: ${c.raw.replace(/[\u0000\u0001]/g, "")}\r\n`);
    break;
  case "echo-password-utf8": // as echo-password, but the reply is written as UTF-8
    S.login = (c, tag, user, pw) => c.w(Buffer.from(`${tag} NO [AUTHENTICATIONFAILED] Authentication failed for ${user} with password ${pw}\r\n`, "utf8"));
    break;
  case "echo-password-bye": // BYE echoing the password after LOGIN
    S.login = (c, tag, user, pw) => { c.w(`* BYE password ${pw} rejected\r\n`); c.end(); };
    break;
  case "echo-password-ok": // accept, then put password in an untagged alert and in fetch error
    S.login = (c, tag, user, pw) => { c.w(`* OK [ALERT] your password is ${pw}\r\n${tag} OK logged in\r\n`); c.auth = true; };
    S.fetchBody = (c, tag, uids) => { c.w(`${tag} NO fetch failed: password=${c.pw}\r\n`); return true; };
    break;
  case "escape": // terminal escape sequences in error messages
    S.login = (c, tag) => c.w(`${tag} NO [AUTHENTICATIONFAILED] \x1b]0;PWNED-TITLE\x07\x1b[2J\x1b[31mRED\x1b[0m bell\x07 \x1b]8;;http://evil.test\x07link\x1b]8;;\x07\r\n`);
    break;
  case "escape-fetch": // escapes in a FETCH NO
    S.fetchBody = (c, tag) => { c.w(`${tag} NO \x1b]0;PWNED\x07\x1b[2J\x1b[31mRED\x1b[0m\r\n`); return true; };
    break;
  case "escape-bye": // escapes in BYE during fetch
    S.fetchBody = (c, tag) => { c.w(`* BYE \x1b]0;PWNED\x07\x1b[2J\x1b[31mRED\x1b[0m\r\n`); c.end(); return true; };
    break;
  case "huge-literal": // announce {4294967295}
    S.fetchBody = (c, tag, uids) => { c.w(`* 1 FETCH (UID ${uids[0]} BODY[] {4294967295}\r\nFrom: x\r\n`); return true; };
    break;
  case "big-literal": { // a literal of SIZE bytes (default 300 MiB) actually sent, with SIZE reported as 10
    const size = Number(process.env.SIZE ?? 300 * 1024 * 1024);
    S.sizeOf = () => (process.env.HONEST === "1" ? size : 10);
    S.fetchBody = (c, tag, uids) => {
      let first = true;
      const sendOne = (k) => {
        if (k >= uids.length) { c.w(`${tag} OK done\r\n`); return; }
        const head = Buffer.from(`From: x@example.test\r\nSubject: big ${uids[k]}\r\n\r\n`);
        c.w(`* ${k + 1} FETCH (UID ${uids[k]} BODY[] {${size}}\r\n`);
        c.w(head);
        let left = size - head.length;
        const chunk = Buffer.alloc(1024 * 1024, 0x61);
        const pump = () => {
          while (left > 0) {
            const n = Math.min(left, chunk.length);
            left -= n;
            if (!c.sock.write(n === chunk.length ? chunk : chunk.subarray(0, n))) { c.sock.once("drain", pump); return; }
          }
          c.w(`)\r\n`);
          sendOne(k + 1);
        };
        pump();
      };
      sendOne(0);
      return true;
    };
    break;
  }
  case "listed-huge": // UID 2 listed (honestly) at 600 MiB: asked for, its literal is announced, a little sent, then silence
    S.sizeOf = (m) => (m.uid === 2 ? 600 * 1024 * 1024 : undefined);
    S.fetchBody = (c, tag, uids) => {
      if (!uids.includes(2)) return bodiesAsAsked(c, tag, uids);
      for (const [k, u] of uids.entries()) {
        if (u === 2) {
          c.w(`* ${k + 1} FETCH (UID 2 BODY[] {${600 * 1024 * 1024}}\r\nFrom: x@example.test\r\n`);
          return true;
        }
        c.w(`* ${k + 1} FETCH (UID ${u} BODY[] ${lit(msg(u))})\r\n`);
      }
      return true;
    };
    break;
  case "stall-fetch": // never answer the body fetch
    S.fetchBody = () => true;
    break;
  case "stall-mid-literal": // send half a literal, then go silent
    S.fetchBody = (c, tag, uids) => { c.w(`* 1 FETCH (UID ${uids[0]} BODY[] {1000}\r\nFrom: x\r\n`); return true; };
    break;
  case "trickle": // slowloris: one byte of the literal every TRICKLE_MS
    S.fetchBody = (c, tag, uids) => {
      c.w(`* 1 FETCH (UID ${uids[0]} BODY[] {100000}\r\n`);
      const t = setInterval(() => { if (c.sock.destroyed) clearInterval(t); else c.w("a"); }, Number(process.env.TRICKLE_MS ?? 1000));
      return true;
    };
    break;
  case "stall-select":
    S.select = () => true;
    break;
  case "stall-login":
    S.login = () => {};
    break;
  case "stall-greeting":
    S.greeting = () => true;
    break;
  case "disconnect-mid-literal":
    S.fetchBody = (c, tag, uids) => { c.w(`* 1 FETCH (UID ${uids[0]} BODY[] {1000}\r\nFrom: x\r\n`); c.sock.end(); return true; };
    break;
  case "disconnect-mid-literal-2": // first batch OK, second batch dies. MSGS should be > 100
    S.fetchBody = (c, tag, uids) => { if (uids[0] > 100) { c.w(`* 1 FETCH (UID ${uids[0]} BODY[] {1000}\r\nFrom: x\r\n`); c.sock.destroy(); return true; } };
    break;
  case "bye-fetch":
    S.fetchBody = (c, tag) => { c.w(`* BYE going away\r\n`); c.sock.end(); return true; };
    break;
  case "bye-list":
    S.list = (c, tag) => { c.w(`* BYE going away\r\n`); c.sock.end(); return true; };
    break;
  case "bye-select":
    S.select = (c, tag) => { c.w(`* BYE going away\r\n`); c.sock.end(); return true; };
    break;
  case "bye-sizes":
    S.fetchSizes = (c, tag) => { c.w(`* 1 FETCH (UID 1 RFC822.SIZE 10)\r\n* BYE going away\r\n`); c.sock.end(); return true; };
    break;
  case "unasked-uids": // body fetch answers also with UIDs not asked for (and one asked for is missing)
    S.fetchBody = (c, tag, uids) => {
      c.w(`* 50 FETCH (UID 777 BODY[] ${lit(msg(777, " UNASKED"))})\r\n`);
      for (const [k, u] of uids.entries()) if (u !== 2) c.w(`* ${k + 1} FETCH (UID ${u} BODY[] ${lit(c.box.msgs.find((m) => m.uid === u).body)})\r\n`);
      c.w(`${tag} OK done\r\n`);
      return true;
    };
    break;
  case "inject": // every body fetch also returns UID $INJECT (default 1) with its real body, unasked
    S.fetchBody = (c, tag, uids) => {
      const inj = Number(process.env.INJECT ?? 1);
      const m = c.box.msgs.find((x) => x.uid === inj);
      let out = `* ${inj} FETCH (UID ${inj} BODY[] ${lit(m.body)})\r\n`;
      for (const u of uids) out += `* ${u} FETCH (UID ${u} BODY[] ${lit(c.box.msgs.find((x) => x.uid === u).body)})\r\n`;
      c.w(out + `${tag} OK done\r\n`);
      return true;
    };
    break;
  case "omit-uid": // the body fetch silently leaves out UID $OMIT (default 2), which the UID listing had
    S.fetchBody = (c, tag, uids) => {
      const omit = Number(process.env.OMIT ?? 2);
      let out = "";
      for (const u of uids) if (u !== omit) out += `* ${u} FETCH (UID ${u} BODY[] ${lit(c.box.msgs.find((x) => x.uid === u).body)})\r\n`;
      c.w(out + `${tag} OK done\r\n`);
      return true;
    };
    break;
  case "dup-uids": // body fetch returns each UID twice, with different content
    S.fetchBody = (c, tag, uids) => {
      for (const [k, u] of uids.entries()) {
        c.w(`* ${k + 1} FETCH (UID ${u} BODY[] ${lit(msg(u, " first"))})\r\n`);
        c.w(`* ${k + 1} FETCH (UID ${u} BODY[] ${lit(msg(u, " second"))})\r\n`);
      }
      c.w(`${tag} OK done\r\n`);
      return true;
    };
    break;
  case "dup-uids-sizes": // the UID listing has duplicate UIDs
    S.fetchSizes = (c, tag) => {
      c.w(`* 1 FETCH (UID 1 RFC822.SIZE 10)\r\n* 2 FETCH (UID 1 RFC822.SIZE 10)\r\n* 3 FETCH (UID 2 RFC822.SIZE 10)\r\n${tag} OK done\r\n`);
      return true;
    };
    break;
  case "zero-uid": // UIDs 0, negative-ish, out of order, huge
    S.fetchSizes = (c, tag) => {
      c.w(`* 1 FETCH (UID 0 RFC822.SIZE 10)\r\n* 2 FETCH (UID 3 RFC822.SIZE 10)\r\n* 3 FETCH (UID 2 RFC822.SIZE 10)\r\n* 4 FETCH (UID 4294967295 RFC822.SIZE 10)\r\n* 5 FETCH (UID 99999999999999999999 RFC822.SIZE 10)\r\n* 6 FETCH (RFC822.SIZE 10)\r\n${tag} OK done\r\n`);
      return true;
    };
    S.fetchBody = bodiesAsAsked;
    break;
  case "uid-variant": { // UID listing with one odd UID given by ODDUID (e.g. 0, 4294967296, missing, -1, 1.5)
    S.fetchSizes = (c, tag) => {
      const odd = process.env.ODDUID;
      c.w(`* 1 FETCH (UID 1 RFC822.SIZE 10)\r\n* 2 FETCH (${odd === "missing" ? "" : `UID ${odd} `}RFC822.SIZE 10)\r\n* 3 FETCH (UID 3 RFC822.SIZE 10)\r\n${tag} OK done\r\n`);
      return true;
    };
    S.fetchBody = bodiesAsAsked;
    break;
  }
  case "no-uid-in-body": // body fetch responses lack UID
    S.fetchBody = (c, tag, uids) => {
      for (const [k, u] of uids.entries()) c.w(`* ${k + 1} FETCH (BODY[] ${lit(msg(u))})\r\n`);
      c.w(`${tag} OK done\r\n`);
      return true;
    };
    break;
  case "nil-body": // BODY[] NIL / empty
    S.fetchBody = (c, tag, uids) => {
      for (const [k, u] of uids.entries()) c.w(`* ${k + 1} FETCH (UID ${u} BODY[] ${k === 0 ? "NIL" : '""'})\r\n`);
      c.w(`${tag} OK done\r\n`);
      return true;
    };
    break;
  case "exists-lie": // EXISTS says 0 while there are messages
    S.exists = () => (process.env.EXISTS === "omit" ? "omit" : Number(process.env.EXISTS ?? 0));
    break;
  case "uidvalidity-change": // uidvalidity from file ./uidv (changes between runs), content changes too
    break;
  case "many-folders": {
    const n = Number(process.env.NFOLDERS ?? 5000);
    S.listExtra = () => Array.from({ length: n }, (_, i) => ["\\HasNoChildren", "/", `F${i}`]);
    break;
  }
  case "folder-loop": // LIST returns the same folder many times
    S.listExtra = () => Array.from({ length: 1000 }, () => ["\\HasNoChildren", "/", `INBOX`]).concat(Array.from({ length: 1000 }, () => ["\\HasNoChildren", "/", `Loop`]));
    break;
  case "odd-folders":
    S.listExtra = () => [
      ["\\HasNoChildren", "/", "Archivio"],
      ["\\HasNoChildren", "/", "&AOA-rchivi&AOA-"], // modified UTF-7 for "àrchivià"
      ["\\HasNoChildren", "/", ".."],
      ["\\HasNoChildren", "/", "../../etc"],
      ["\\HasNoChildren", "/", "a/b"],
      ["\\HasNoChildren", "/", "*"],
      ["\\HasNoChildren", "/", "%"],
      ["\\HasNoChildren", "/", "x;UIDVALIDITY=1"],
      ["\\HasNoChildren", "/", "sp ace"],
      ["\\HasNoChildren", "/", "\x1b[31mred\x1b[0m"],
      ["\\HasNoChildren", "/", "&Jjo-bad&-"],
      ["\\HasNoChildren", "/", "&AAA-"], // NUL in mUTF-7
      ["\\HasNoChildren", "/", "&2D3eAA-"], // lone surrogate-ish
      ["\\HasNoChildren", "/", "inbox"],
      ["\\HasNoChildren", "/", "Inbox"],
      ["\\HasNoChildren", NIL, "nodelim"],
    ];
    break;
  case "bad-greeting":
    S.greeting = (c) => { c.w(`\x1b]0;EVIL\x07garbage greeting\r\n`); return true; };
    break;
  case "bad-cert": // use with TLS=1
    break;
  case "no-list":
    S.list = (c, tag) => { c.w(`${tag} OK no folders\r\n`); return true; };
    break;
  case "long-line": // never-ending line in response to LIST
    S.list = (c, tag) => {
      const chunk = Buffer.alloc(1024 * 1024, 0x41);
      const pump = () => { while (!c.sock.destroyed) { if (!c.sock.write(chunk)) { c.sock.once("drain", pump); return; } } };
      c.w("* LIST () \"/\" ");
      pump();
      return true;
    };
    break;
  case "many-literals": // sizes fetch replies flood untagged FETCH for many UIDs (not in mailbox)
    S.fetchSizes = (c, tag) => {
      const n = Number(process.env.FLOOD ?? 1000000);
      let i = 0;
      const pump = () => {
        while (i < n) {
          let s = "";
          for (let j = 0; j < 1000 && i < n; j++, i++) s += `* ${i + 1} FETCH (UID ${i + 1} RFC822.SIZE 10)\r\n`;
          if (!c.sock.write(s)) { c.sock.once("drain", pump); return; }
        }
        c.w(`${tag} OK done\r\n`);
      };
      pump();
      return true;
    };
    break;
  default:
    console.error("unknown scenario", scen);
    process.exit(2);
}
const NIL = "NIL";

function lit(b) {
  return `{${b.length}}\r\n${b.toString("latin1")}`;
}

if (scen === "uidvalidity-change") {
  const f = path.join(process.env.UIDV_DIR ?? here, "uidv");
  const v = fs.existsSync(f) ? Number(fs.readFileSync(f, "utf8")) : 1;
  const box = boxes.get("INBOX");
  box.uidvalidity = v;
  // After a UIDVALIDITY change the same UIDs hold different messages
  box.msgs = box.msgs.map((m) => ({ uid: m.uid, body: msg(m.uid, ` epoch ${v}`) }));
  console.error(`[fake] uidvalidity ${v}`);
}

// ---------- protocol ----------
function handle(sock) {
  const id = ++conns;
  const c = {
    sock,
    auth: false,
    box: null,
    w: (s) => { if (!sock.destroyed && sock.writable) sock.write(typeof s === "string" ? Buffer.from(s, "latin1") : s); },
    end: () => sock.end(),
  };
  log(`conn ${id}`);
  if (scen === "random-bye" || scen === "random-cut") {
    // after K writes, say BYE (random-bye) or cut the socket mid-write (random-cut)
    const K = Number(process.env.K ?? 5);
    let n = 0;
    const w0 = c.w;
    c.w = (s) => {
      if (sock.destroyed) return;
      if (++n === K) {
        const b = typeof s === "string" ? Buffer.from(s, "latin1") : s;
        if (scen === "random-cut") { sock.write(b.subarray(0, Math.floor(b.length / 2))); sock.destroy(); }
        else { sock.write("* BYE random\r\n"); sock.end(); }
        return;
      }
      w0(s);
    };
  }
  sock.on("error", () => {});
  const caps = `IMAP4rev1 ${process.env.STARTTLS === "1" ? (process.env.NOLD === "1" ? "STARTTLS " : "STARTTLS LOGINDISABLED ") : ""}ID UIDPLUS`;
  if (!hook("greeting", c)) c.w(`* OK [CAPABILITY ${caps}] fake ready\r\n`);
  let buf = Buffer.alloc(0);
  let pendingLit = null; // {need, parts, line}
  let lineParts = [];
  const onData = (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      if (pendingLit) {
        if (buf.length < pendingLit) return;
        lineParts.push(buf.subarray(0, pendingLit).toString("utf8"));
        buf = buf.subarray(pendingLit);
        pendingLit = null;
        continue;
      }
      const nl = buf.indexOf("\r\n");
      if (nl < 0) return;
      let line = buf.subarray(0, nl).toString("utf8");
      buf = buf.subarray(nl + 2);
      const m = /\{(\d+)(\+?)\}$/.exec(line);
      if (m) {
        lineParts.push(line.slice(0, m.index) + "\u0000LIT" + lineParts.length);
        pendingLit = Number(m[1]);
        if (!m[2]) c.w("+ go ahead\r\n");
        continue;
      }
      lineParts.push(line);
      // reassemble: literal placeholders
      const parts = lineParts;
      lineParts = [];
      let full = "";
      const lits = [];
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i];
        const k = p.indexOf("\u0000LIT");
        if (k >= 0) { full += p.slice(0, k) + `\u0001${lits.length}\u0001`; lits.push(parts[i + 1]); i++; full += ""; }
        else full += p;
      }
      // Not quite right for literal followed by more text; literal text is at parts[i+1] then the continuation line
      command(c, full, lits);
      if (c.upgrade) { sock.removeListener("data", onData); const u = c.upgrade; c.upgrade = null; u(); return; }
    }
  };
  sock.on("data", onData);
}

function args(str, lits) {
  // tokenise IMAP args: quoted strings, atoms, literal placeholders
  const out = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|\u0001(\d+)\u0001|(\([^)]*\))|([^\s()]+))/g;
  let m;
  while ((m = re.exec(str))) {
    if (m[1] !== undefined) out.push(m[1].replace(/\\(.)/g, "$1"));
    else if (m[2] !== undefined) out.push(lits[Number(m[2])]);
    else if (m[3] !== undefined) out.push(m[3]);
    else if (m[4] !== undefined) out.push(m[4]);
  }
  return out;
}

function parseSet(set, all) {
  // all: sorted uids; returns uids matching set
  const max = all.length ? all[all.length - 1] : 0;
  const out = new Set();
  for (const part of set.split(",")) {
    const [a, b] = part.split(":");
    const lo = a === "*" ? max : Number(a);
    const hi = b === undefined ? lo : b === "*" ? max : Number(b);
    for (const u of all) if (u >= Math.min(lo, hi) && u <= Math.max(lo, hi)) out.add(u);
  }
  return [...out].sort((x, y) => x - y);
}

function command(c, line, lits) {
  c.raw = line;
  log("C:", JSON.stringify(line.length > 300 ? line.slice(0, 300) + "…" : line));
  const sp = line.indexOf(" ");
  const tag = line.slice(0, sp);
  let rest = line.slice(sp + 1);
  let cmd = rest.split(" ")[0].toUpperCase();
  let after = rest.slice(cmd.length + 1);
  let uidCmd = false;
  if (cmd === "UID") {
    uidCmd = true;
    cmd = after.split(" ")[0].toUpperCase();
    after = after.slice(cmd.length + 1);
  }
  const a = args(after, lits);
  switch (cmd) {
    case "CAPABILITY":
      c.w(`* CAPABILITY IMAP4rev1 ${process.env.STARTTLS === "1" && !c.tls ? (process.env.NOLD === "1" ? "STARTTLS " : "STARTTLS LOGINDISABLED ") : ""}ID UIDPLUS\r\n${tag} OK done\r\n`);
      return;
    case "STARTTLS": {
      if (scen === "starttls-refused") { c.w(`${tag} NO TLS not available right now\r\n`); return; }
      if (scen === "starttls-bad") { c.w(`${tag} BAD what\r\n`); return; }
      c.w(`${tag} OK begin TLS\r\n`);
      c.upgrade = () => {
        const t = new tls.TLSSocket(c.sock, { isServer: true, ...tlsOpts() });
        c.sock = t;
        c.tls = true;
        t.on("error", () => {});
        const wrap = { ...c };
        // reuse handler on the TLS socket
        handleUpgraded(c, t);
      };
      return;
    }
    case "ID":
      c.w(`* ID ("name" "fake")\r\n${tag} OK done\r\n`);
      return;
    case "LOGIN": {
      c.pw = a[1];
      log("LOGIN user", a[0]);
      if (S.login) return S.login(c, tag, a[0], a[1]);
      c.auth = true;
      c.w(`${tag} OK [CAPABILITY IMAP4rev1 ID UIDPLUS] logged in\r\n`);
      return;
    }
    case "AUTHENTICATE":
      c.w(`${tag} NO not supported\r\n`);
      return;
    case "NAMESPACE":
      c.w(`* NAMESPACE (("" "/")) NIL NIL\r\n${tag} OK done\r\n`);
      return;
    case "ENABLE":
      c.w(`${tag} OK done\r\n`);
      return;
    case "NOOP":
    case "CHECK":
      c.w(`${tag} OK done\r\n`);
      return;
    case "LOGOUT":
      if (scen === "stall-logout") return;
      c.w(`* BYE bye\r\n${tag} OK done\r\n`);
      c.sock.end();
      return;
    case "LIST":
    case "LSUB": {
      if (hook("list", c, tag)) return;
      let out = "";
      if (a[1] === "" ) { c.w(`* ${cmd} (\\Noselect) "/" ""\r\n${tag} OK done\r\n`); return; }
      for (const name of boxes.keys()) out += `* ${cmd} (\\HasNoChildren) "/" ${astring(name)}\r\n`;
      for (const [flags, delim, name] of hook("listExtra") ?? []) out += `* ${cmd} (${flags}) ${delim === "NIL" ? "NIL" : `"${delim}"`} ${astring(name)}\r\n`;
      c.w(out + `${tag} OK done\r\n`);
      return;
    }
    case "STATUS":
      c.w(`${tag} NO no status\r\n`);
      return;
    case "SELECT":
    case "EXAMINE": {
      if (hook("select", c, tag, a[0])) return;
      let name = a[0];
      if (name.toUpperCase() === "INBOX") name = "INBOX";
      let box = boxes.get(name);
      if (!box) {
        // extra listed folders: make an on-the-fly 1-message box
        box = { uidvalidity: uidv, msgs: [{ uid: 1, body: msg(900, ` in ${name}`) }] };
        boxes.set(name, box);
      }
      c.box = box;
      const exists = hook("exists") ?? box.msgs.length;
      const uidnext = (box.msgs.at(-1)?.uid ?? 0) + 1;
      c.w(`* FLAGS (\\Seen)\r\n${exists === "omit" ? "" : `* ${exists} EXISTS\r\n`}* 0 RECENT\r\n${process.env.UIDVMODE === "omit" ? "" : `* OK [UIDVALIDITY ${process.env.UIDVMODE ?? box.uidvalidity}] ok\r\n`}* OK [UIDNEXT ${uidnext}] ok\r\n${tag} OK [READ-ONLY] done\r\n`);
      return;
    }
    case "SEARCH": {
      const all = c.box.msgs.map((m, i) => (uidCmd ? m.uid : i + 1));
      c.w(`* SEARCH${all.map((n) => " " + n).join("")}\r\n${tag} OK done\r\n`);
      return;
    }
    case "CLOSE":
    case "UNSELECT":
      c.box = null;
      c.w(`${tag} OK done\r\n`);
      return;
    case "FETCH": {
      const set = a[0];
      const items = a.slice(1).join(" ").toUpperCase();
      const box = c.box;
      const all = box.msgs.map((m) => m.uid);
      if (items.includes("BODY")) {
        const uids = uidCmd ? parseSet(set, all) : parseSet(set, all.map((_, i) => i + 1)).map((s) => all[s - 1]);
        if (hook("fetchBody", c, tag, uids, set)) return;
        let out = [];
        for (const u of uids) {
          const seq = all.indexOf(u) + 1;
          const m = box.msgs[seq - 1];
          out.push(`* ${seq} FETCH (UID ${u} BODY[] ${lit(m.body)})\r\n`);
        }
        out.push(`${tag} OK done\r\n`);
        c.w(out.join(""));
      } else {
        if (hook("fetchSizes", c, tag)) return;
        const seqs = uidCmd ? parseSet(set, all).map((u) => all.indexOf(u) + 1) : parseSet(set, all.map((_, i) => i + 1));
        const chunks = [];
        let s = "";
        for (const q of seqs) {
          const m = box.msgs[q - 1];
          s += `* ${q} FETCH (UID ${m.uid} RFC822.SIZE ${hook("sizeOf", m) ?? m.body.length})\r\n`;
          if (s.length > 65536) { chunks.push(s); s = ""; }
        }
        chunks.push(s + `${tag} OK done\r\n`);
        for (const ch of chunks) c.w(ch);
      }
      return;
    }
    default:
      c.w(`${tag} BAD unknown command ${cmd}\r\n`);
  }
}

function handleUpgraded(c, t) {
  // re-run the line reader on the TLS socket
  const fakeSock = t;
  const c2 = c;
  c2.w = (s) => { if (!t.destroyed) t.write(typeof s === "string" ? Buffer.from(s, "latin1") : s); };
  c2.end = () => t.end();
  let buf = Buffer.alloc(0);
  t.on("data", (d) => {
    buf = Buffer.concat([buf, d]);
    let nl;
    while ((nl = buf.indexOf("\r\n")) >= 0) {
      const line = buf.subarray(0, nl).toString("utf8");
      buf = buf.subarray(nl + 2);
      command(c2, line, []);
    }
  });
}

function tlsOpts() {
  return { key: fs.readFileSync(path.join(here, "certs/key.pem")), cert: fs.readFileSync(path.join(here, "certs/cert.pem")) };
}

const server = process.env.TLS === "1" ? tls.createServer(tlsOpts(), handle) : net.createServer(handle);
server.listen(port, "127.0.0.1", () => console.error(`[fake] ${scen} listening on ${port}${process.env.TLS === "1" ? " (TLS)" : ""}`));
