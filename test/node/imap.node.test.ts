// readImap against a private Dovecot (sandbox/src/dovecot.ts) serving Maildirs filled here with
// simulator flows and the wild samples: the same bytes as readMaildir, mailbox filtering, skip
// that really avoids downloads (counted by Dovecot itself), errors without the password, IMAPS,
// and the POP3 port the sandbox relies on. Skips when Dovecot is not installed.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DOVECOT_PACKAGES, findDovecot, startDovecot, type DovecotServer, type DovecotUser } from "../../sandbox/src/dovecot.js";
import { PecError } from "../../src/errors.js";
import { readImap, readMaildir, type ImapOptions, type SourceMessage } from "../../src/node/index.js";
import { SCENARIO_NAMES, createScenarioPki, runScenario } from "../../src/simulator/index.js";
import { NOT_BEFORE, START } from "../simulator/helpers.js";
import { readWild, wildFiles } from "../support/wild.js";
import { collect } from "../support/collect.js";

const HAVE_DOVECOT = findDovecot() !== undefined;
if (!HAVE_DOVECOT) console.warn(`test/node/imap.node.test.ts skipped: Dovecot is not installed (apt-get install ${DOVECOT_PACKAGES}; the package dovecot-imapd)`);
const HAVE_OPENSSL = spawnSync("openssl", ["version"]).status === 0;

const MARIO = "mario@pec.alfa.test";
const GIULIA = "giulia@pec.alfa.test";
// Colon, space and non-ASCII: the passwd-file must not choke on it, errors must not show it.
const MARIO_PW = "Pec:pässwörd segreta-42";
const GIULIA_PW = "giulia-password-7";

/** IMAP needs CRLF and Dovecot converts bare LF when serving: store what it will send. */
function crlf(bytes: Uint8Array): Uint8Array {
  return Buffer.from(Buffer.from(bytes).toString("latin1").replace(/\r?\n/g, "\r\n"), "latin1");
}

const hash = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");
const multiset = (ms: SourceMessage[]): string[] => ms.map((m) => hash(m.bytes)).sort();

async function caught(p: Promise<unknown>): Promise<PecError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(PecError);
    return e as PecError;
  }
  throw new Error("expected a PecError");
}

let counter = 0;
/** Writes messages into a Maildir (half in cur/ with flags, half in new/, as a real one). */
async function fill(maildir: string, messages: Uint8Array[]): Promise<void> {
  for (const sub of ["cur", "new", "tmp"]) await mkdir(join(maildir, sub), { recursive: true });
  for (const m of messages) {
    const n = counter++;
    const base = `${1773653400 + n}.M${n}P${process.pid}.postacert`;
    await writeFile(n % 2 ? join(maildir, "new", base) : join(maildir, "cur", `${base}:2,S`), m);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!HAVE_DOVECOT)("readImap against Dovecot", () => {
  let dir: string;
  let server: DovecotServer;
  let users: DovecotUser[];
  let marioDir: string;
  let giuliaDir: string;
  let flows: Uint8Array[] = [];
  let archivio: Uint8Array[] = [];

  const url = (user: string, path = "", s: DovecotServer = server, scheme = "imap", port = s.imapPort): string =>
    `${scheme}://${encodeURIComponent(user)}@${s.host}:${port}${path}`;

  /** Runs `fn`, then reads from Dovecot's log how many bodies `user`'s IMAP sessions fetched. */
  async function bodiesFetched<T>(user: string, fn: () => Promise<T>): Promise<[T, number]> {
    const log = join(server.dir, "dovecot.log");
    const before = (await readFile(log)).length;
    const result = await fn();
    // The session's counters are logged at logout, asynchronously.
    for (let t = 0; t < 200; t++) {
      const lines = (await readFile(log)).subarray(before).toString("utf8").split("\n").filter((l) => l.includes(`imap(${user})`) && l.includes("Disconnected"));
      if (lines.length > 0) return [result, lines.reduce((n, l) => n + Number(/body_count=(\d+)/.exec(l)?.[1] ?? NaN), 0)];
      await sleep(25);
    }
    throw new Error(`no logout of ${user} in the Dovecot log`);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "postacert-imap-"));
    const pki = await createScenarioPki({ keyAlgorithm: "ECDSA-P256", notBefore: NOT_BEFORE });
    for (const name of SCENARIO_NAMES) flows.push(...(await runScenario(name, { pki, start: START })).flow.messages.map((m) => m.message.bytes));
    if (wildFiles) for (const f of wildFiles) archivio.push(crlf(await readWild(f)));
    else archivio = flows.slice(0, 10);

    marioDir = join(dir, "mail", "mario");
    giuliaDir = join(dir, "mail", "giulia");
    await fill(marioDir, flows);
    await fill(join(marioDir, ".Archivio"), archivio);
    await fill(giuliaDir, flows.slice(0, 20));
    users = [
      { user: MARIO, password: MARIO_PW, maildir: marioDir },
      { user: GIULIA, password: GIULIA_PW, maildir: giuliaDir },
    ];
    server = await startDovecot({ dir: join(dir, "dovecot"), users });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
    flows = [];
    archivio = [];
  }, 30_000);

  it("yields exactly the Maildir's messages (INBOX and Archivio) with RFC 5092 ids", async () => {
    const got = await collect(readImap(url(MARIO), { password: MARIO_PW }));
    const local = [...(await collect(readMaildir(marioDir))), ...(await collect(readMaildir(join(marioDir, ".Archivio"))))];
    expect(got.length).toBe(flows.length + archivio.length);
    expect(multiset(got)).toEqual(multiset(local));

    const idRe = /^imap:\/\/mario%40pec\.alfa\.test@127\.0\.0\.1:(\d+)\/(INBOX|Archivio);UIDVALIDITY=\d+\/;UID=(\d+)$/;
    for (const m of got) {
      expect(m.id).toMatch(idRe);
      expect(m.source).toBe(url(MARIO));
    }
    expect(new Set(got.map((m) => m.id)).size).toBe(got.length);
    expect(got.filter((m) => m.id.includes("/INBOX;")).length).toBe(flows.length);
  });

  it("restricts to the mailbox in the URL or in options.mailboxes", async () => {
    const arch = await collect(readImap(url(MARIO, "/Archivio"), { password: MARIO_PW }));
    expect(multiset(arch)).toEqual(multiset(await collect(readMaildir(join(marioDir, ".Archivio")))));
    expect(arch.every((m) => m.id.includes("/Archivio;UIDVALIDITY="))).toBe(true);

    const inbox = await collect(readImap(url(MARIO), { password: MARIO_PW, mailboxes: ["INBOX"] }));
    expect(multiset(inbox)).toEqual(multiset(await collect(readMaildir(marioDir))));
    // Both given: they restrict each other.
    expect(await collect(readImap(url(MARIO, "/INBOX"), { password: MARIO_PW, mailboxes: ["Archivio"] }))).toEqual([]);

    const err = await caught(collect(readImap(url(MARIO), { password: MARIO_PW, mailboxes: ["Nessuna"] })));
    expect(err.code).toBe("ERR_INVALID_ARGUMENT");
    expect(err.message).toContain("Nessuna");
  });

  it("skip avoids downloading: a re-run fetches only new messages", async () => {
    const opts: ImapOptions = { password: GIULIA_PW };
    const [first, n1] = await bodiesFetched(GIULIA, () => collect(readImap(url(GIULIA), opts)));
    expect(first.length).toBe(20);
    expect(n1).toBe(20);
    const seen = new Set(first.map((m) => m.id));

    const asked: string[] = [];
    const skip = (id: string): boolean => (asked.push(id), seen.has(id));
    const [second, n2] = await bodiesFetched(GIULIA, () => collect(readImap(url(GIULIA), { ...opts, skip })));
    expect(second).toEqual([]);
    expect(n2).toBe(0);
    expect(new Set(asked)).toEqual(seen);

    // Three new arrivals, one with bare LF line ends: the server sends it with CRLF.
    const lf = new TextEncoder().encode("From: a@b.test\nTo: giulia@pec.alfa.test\nSubject: lf\n\nriga uno\nriga due\n");
    const fresh = [flows[30]!, flows[31]!, lf];
    await writeFile(join(giuliaDir, "new", "1773660000.N1.postacert"), fresh[0]!);
    await writeFile(join(giuliaDir, "new", "1773660001.N2.postacert"), fresh[1]!);
    await writeFile(join(giuliaDir, "new", "1773660002.N3.postacert"), fresh[2]!);
    const [third, n3] = await bodiesFetched(GIULIA, () => collect(readImap(url(GIULIA), { ...opts, skip: (id) => seen.has(id) })));
    expect(n3).toBe(3);
    expect(multiset(third)).toEqual(multiset(fresh.map((bytes) => ({ id: "", source: "", bytes: crlf(bytes) }))));
    expect(third.every((m) => !seen.has(m.id))).toBe(true);
  });

  it("stops cleanly when the consumer breaks early", async () => {
    let n = 0;
    for await (const m of readImap(url(MARIO), { password: MARIO_PW })) {
      expect(m.bytes.length).toBeGreaterThan(0);
      if (++n === 2) break;
    }
    expect(n).toBe(2);
  });

  it("a wrong password is a PecError naming host and user, never the password", async () => {
    const wrong = "Sbagliata:Password-123";
    const err = await caught(collect(readImap(url(MARIO), { password: wrong })));
    expect(err.code).toBe("ERR_SOURCE");
    expect(err.message).toContain(MARIO);
    expect(err.message).toContain(`127.0.0.1:${server.imapPort}`);
    expect(err.message).not.toContain(wrong);
    expect(err.message).not.toContain(MARIO_PW);
    expect(JSON.stringify(err)).not.toContain(wrong);
    expect(err.cause).toBeUndefined();
  });

  it("an unreachable server is a PecError naming host and user", async () => {
    const err = await caught(collect(readImap(`imap://${encodeURIComponent(GIULIA)}@127.0.0.1:1`, { password: GIULIA_PW })));
    expect(err.code).toBe("ERR_SOURCE");
    expect(err.message).toContain(`${GIULIA} at 127.0.0.1:1`);
    expect(err.message).not.toContain(GIULIA_PW);
  });

  it.each([
    ["not a url"],
    ["http://mario@127.0.0.1:143"],
    ["imap://127.0.0.1:143"],
    ["imap://mario:topsecret@127.0.0.1:143"],
    ["imap://mario@127.0.0.1:143/INBOX;UID=4"],
    ["imap://mario@127.0.0.1:143/INBOX?x=1"],
    ["imap://mario%zz@127.0.0.1:143"],
    [""],
  ])("rejects the bad URL %j", async (bad) => {
    const err = await caught(collect(readImap(bad, { password: "pw" })));
    expect(err.code).toBe("ERR_INVALID_ARGUMENT");
    expect(err.message).not.toContain("topsecret");
  });

  it("rejects bad options", async () => {
    expect((await caught(collect(readImap(url(MARIO), {} as ImapOptions)))).code).toBe("ERR_INVALID_ARGUMENT");
    expect((await caught(collect(readImap(url(MARIO), { password: "x", mailboxes: [""] })))).code).toBe("ERR_INVALID_ARGUMENT");
  });

  it("POP3 accepts the users' logins and counts the INBOX", async () => {
    const replies = await pop3(server.host, server.pop3Port, [`USER ${MARIO}`, `PASS ${MARIO_PW}`, "STAT", "QUIT"]);
    expect(replies[0]).toMatch(/^\+OK/);
    expect(replies[2]).toMatch(/^\+OK/);
    expect(replies[3]).toMatch(new RegExp(`^\\+OK ${flows.length} \\d+`));
    const bad = await pop3(server.host, server.pop3Port, [`USER ${GIULIA}`, "PASS nope", "QUIT"]);
    expect(bad[2]).toMatch(/^-ERR/);
  });

  it("setUsers changes the accounts without a restart", async () => {
    await server.setUsers([users[0]!, { ...users[1]!, password: "nuova-password" }]);
    expect((await collect(readImap(url(GIULIA, "/INBOX"), { password: "nuova-password" }))).length).toBeGreaterThan(0);
    expect((await caught(collect(readImap(url(GIULIA), { password: GIULIA_PW })))).message).toContain(GIULIA);
    await server.setUsers(users);
    expect((await collect(readImap(url(GIULIA, "/INBOX"), { password: GIULIA_PW }))).length).toBeGreaterThan(0);
  });

  describe.skipIf(!HAVE_OPENSSL)("over TLS", () => {
    let tlsServer: DovecotServer;

    beforeAll(async () => {
      const tls = join(dir, "cert");
      await mkdir(tls);
      execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
        "-subj", "/CN=localhost", "-keyout", join(tls, "key.pem"), "-out", join(tls, "cert.pem")], { stdio: "ignore" });
      tlsServer = await startDovecot({
        dir: join(dir, "dovecot-tls"),
        users,
        tls: { certPem: await readFile(join(tls, "cert.pem"), "utf8"), keyPem: await readFile(join(tls, "key.pem"), "utf8") },
      });
    }, 30_000);
    afterAll(async () => {
      await tlsServer?.stop();
    }, 30_000);

    it("imaps:// reads the same messages (self-signed, rejectUnauthorized false)", async () => {
      expect(tlsServer.imapsPort).toBeGreaterThan(0);
      const u = url(MARIO, "", tlsServer, "imaps", tlsServer.imapsPort);
      const got = await collect(readImap(u, { password: MARIO_PW, tls: { rejectUnauthorized: false } }));
      expect(multiset(got)).toEqual(multiset([...(await collect(readMaildir(marioDir))), ...(await collect(readMaildir(join(marioDir, ".Archivio"))))]));
      expect(got[0]!.id.startsWith(`imap://mario%40pec.alfa.test@127.0.0.1:${tlsServer.imapsPort}/`)).toBe(true);
    });

    it("refuses the self-signed certificate by default", async () => {
      const err = await caught(collect(readImap(url(MARIO, "", tlsServer, "imaps", tlsServer.imapsPort), { password: MARIO_PW })));
      expect(err.message).toContain(MARIO);
      expect(err.message).not.toContain(MARIO_PW);
    });
  });
});

/** Sends POP3 commands one by one; returns the greeting then one reply line per command. */
function pop3(host: string, port: number, commands: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    const replies: string[] = [];
    let buf = "";
    sock.setTimeout(10_000, () => sock.destroy(new Error("POP3 timeout")));
    sock.on("error", reject);
    sock.on("close", () => resolve(replies));
    sock.on("data", (d: Buffer) => {
      buf += d.toString("utf8");
      for (let nl = buf.indexOf("\r\n"); nl >= 0; nl = buf.indexOf("\r\n")) {
        replies.push(buf.slice(0, nl));
        buf = buf.slice(nl + 2);
        const next = commands[replies.length - 1];
        if (next !== undefined) sock.write(`${next}\r\n`);
        else sock.end();
      }
    });
  });
}
