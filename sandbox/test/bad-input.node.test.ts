// Bad input: each gets the right SMTP reply (or the right PEC notice) and the servers keep
// serving. The configuration refuses header injection in its names.
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import nodemailer from "nodemailer";
import { readPec } from "postacert";
import { ConfigError, defaultConfig, parseConfig } from "../src/index.js";
import { rawSmtp, startTestSandbox, testConfig, type TestSandbox } from "./helpers.js";

const mario = "mario.rossi@pec.alfa.test";
const anna = "anna.bianchi@pec.beta.test";
const plain = (s: string): string => Buffer.from(s, "utf8").toString("base64");
const authPlain = `AUTH PLAIN ${plain(`\0${mario}\0pw-mario`)}`;

describe("bad SMTP input", () => {
  let t: TestSandbox;
  beforeAll(async () => {
    t = await startTestSandbox(
      testConfig({
        limits: { maxMessageSize: 20_000, maxRecipients: 3, maxConnections: 5 },
        gestori: [
          { name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", mailboxes: [{ address: "mario.rossi", password: "pw-mario" }] },
          { name: "Gestore Beta S.p.A.", domain: "pec.beta.test", mailboxes: [{ address: "anna.bianchi", password: "pw-anna" }, { address: "luca.verdi", password: "pw-luca" }] },
        ],
      }),
      { clockSpeed: 1000, dovecot: false },
    );
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  }, 60_000);

  const host = (): string => t.sandbox.info.host;
  const port = (): number => t.sandbox.info.submissionPort;

  /** Types of the messages in a mailbox whose subject contains the token. */
  async function inbox(login: string, token: string): Promise<string[]> {
    await t.sandbox.idle();
    const out: string[] = [];
    for (const sub of ["new", "cur"]) {
      const dir = join(t.dir, "mail", login, "Maildir", sub);
      for (const f of await readdir(dir)) {
        const pec = readPec(new Uint8Array(await readFile(join(dir, f))));
        if ((pec.subject ?? "").includes(token)) out.push(pec.type);
      }
    }
    return out.sort();
  }

  async function stillServes(): Promise<void> {
    const r = await rawSmtp(host(), port(), ["EHLO ok.test", "QUIT"]);
    expect(r[0]).toMatch(/^220 /);
    expect(r.some((l) => l.startsWith("250 "))).toBe(true);
  }

  it("malformed commands get 5xx replies, and the server keeps serving", async () => {
    const r = await rawSmtp(host(), port(), [
      "EHLO client.test",
      "FOO BAR",
      "MAIL FROM:<broken",
      "RCPT TO:<anna.bianchi@pec.beta.test>",
      "DATA",
      "A".repeat(5000),
      Buffer.from([0xff, 0xfe, 0x00, 0x0d, 0x0a]),
      "AUTH PLAIN !!!notbase64",
      "QUIT",
    ]);
    const codes = r.map((l) => Number(l.slice(0, 3)));
    expect(codes.length).toBeGreaterThanOrEqual(8);
    expect(codes[0]).toBe(220);
    // Unknown command, bad syntax, commands out of order, overlong line, garbage: all refused with 5xx.
    expect(codes.slice(2, 8).every((c) => c >= 500 && c < 600)).toBe(true);
    await stillServes();
  });

  it("a wrong password gets 535", async () => {
    const r = await rawSmtp(host(), port(), ["EHLO client.test", `AUTH PLAIN ${plain(`\0${mario}\0wrong`)}`, `AUTH PLAIN ${plain(`\0posta-certificata@pec.alfa.test\0sandbox`)}`, "QUIT"]);
    expect(r[2]).toMatch(/^535 /);
    // A service mailbox reads over IMAP but cannot submit.
    expect(r[3]).toMatch(/^535 /);
  });

  it("an unauthenticated relay attempt is refused (submission: 530; inbound port: 550 for foreign domains)", async () => {
    const sub = await rawSmtp(host(), port(), ["EHLO spammer.test", "MAIL FROM:<spam@evil.example>", "RCPT TO:<victim@other.example>", "QUIT"]);
    expect(sub[2]).toMatch(/^530 /);
    const inbound = await rawSmtp(host(), t.sandbox.info.inboundPorts["pec.beta.test"]!, ["EHLO spammer.test", "MAIL FROM:<spam@evil.example>", "RCPT TO:<victim@other.example>", "RCPT TO:<nessuno@pec.beta.test>", "QUIT"]);
    expect(inbound[2]).toMatch(/^250 /);
    expect(inbound[3]).toMatch(/^550 5\.7\.1 /);
    expect(inbound[4]).toMatch(/^550 5\.1\.1 /);
  });

  it("a recipient at a punycode domain is taken as written (smtp-server shows it in Unicode)", async () => {
    const r = await rawSmtp(host(), port(), ["EHLO client.test", authPlain, `MAIL FROM:<${mario}>`, "RCPT TO:<info@xn--caff-8oa.it>", "DATA", `From: <${mario}>\r\nTo: <info@xn--caff-8oa.it>\r\nSubject: punycode\r\n\r\nCiao.\r\n.`, "QUIT"]);
    expect(r[4]).toMatch(/^250 /);
    expect(r[6]).toMatch(/^250 2\.0\.0 Ok/);
    const accettazione = (await inbox(mario, "punycode"))[0];
    expect(accettazione).toBe("accettazione");
  });

  it("a bounce with the null sender and no From, on the inbound port, is delivered in a busta di anomalia", async () => {
    const inboundPort = t.sandbox.info.inboundPorts["pec.beta.test"]!;
    for (const [from, token] of [["<>", "bounce-null"], ["<root@localhost>", "bounce-local"]] as const) {
      const r = await rawSmtp(host(), inboundPort, ["EHLO mx.example", `MAIL FROM:${from}`, `RCPT TO:<${anna}>`, "DATA", `To: <${anna}>\r\nSubject: ${token}\r\n\r\nUndelivered.\r\n.`, "QUIT"]);
      expect(r[5], from).toMatch(/^250 2\.0\.0 Ok/);
      expect(await inbox("anna.bianchi@pec.beta.test", token), from).toEqual(["anomalia"]);
    }
  });

  it("the gestore's own address takes no mail on the inbound port: 550, not a 250 and then nothing", async () => {
    const r = await rawSmtp(host(), t.sandbox.info.inboundPorts["pec.beta.test"]!, ["EHLO mx.example", "MAIL FROM:<someone@example.org>", "RCPT TO:<posta-certificata@pec.beta.test>", "QUIT"]);
    expect(r[3]).toMatch(/^550 5\.1\.1 /);
  });

  it("several whole transactions in one write are each answered, on both ports", async () => {
    // smtp-server stopped answering after the second (the third MAIL FROM had no reply until
    // the idle timeout) when the MAIL and RCPT handlers both answered at once.
    const burst = async (p: number, auth: boolean): Promise<string> => {
      const sock = connect({ host: host(), port: p });
      let text = "";
      sock.on("data", (d: Buffer) => (text += d.toString("latin1")));
      const until = async (what: RegExp, n: number): Promise<void> => {
        for (let i = 0; i < 500 && (text.match(what) ?? []).length < n; i++) await new Promise((r) => setTimeout(r, 20));
      };
      await until(/^220 /gm, 1);
      sock.write("EHLO burst.test\r\n");
      await until(/^250 /gm, 1);
      if (auth) {
        sock.write(authPlain + "\r\n");
        await until(/^235 /gm, 1);
      }
      let all = "";
      for (let k = 0; k < 5; k++) {
        all += `MAIL FROM:<${mario}>\r\nRCPT TO:<${anna}>\r\nDATA\r\nFrom: <${mario}>\r\nTo: <${anna}>\r\nSubject: burst ${k}\r\n\r\nbody ${k}\r\n.\r\n`;
      }
      sock.write(all + "NOOP\r\n");
      await until(/^250 2\.0\.0 Ok/gm, 5);
      await until(/^250 .*OK/gim, 1);
      sock.destroy();
      return text;
    };
    for (const [p, auth] of [[port(), true], [t.sandbox.info.inboundPorts["pec.beta.test"]!, false]] as const) {
      const text = await burst(p, auth);
      expect(text.match(/^250 2\.0\.0 Ok: queued/gm), `port ${p}`).toHaveLength(5);
      expect(text.split("\r\n").at(-2), `port ${p}`).toMatch(/^250 /);
    }
    await stillServes();
  }, 30_000);

  it("a client that leaves in the middle of DATA: one log line, no stack trace, nothing queued", async () => {
    const before = t.logs.length;
    await rawSmtp(
      host(),
      port(),
      ["EHLO half.test", authPlain, `MAIL FROM:<${mario}>`, `RCPT TO:<${anna}>`, "DATA", Buffer.from(`From: <${mario}>\r\nSubject: half-data\r\n\r\npartial`)],
      { waitMs: 300 },
    );
    let lines: string[] = [];
    for (let i = 0; i < 100 && lines.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      lines = t.logs.slice(before);
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/left during DATA/);
    expect(lines[0]).not.toMatch(/\n\s+at /);
    expect(await inbox("anna.bianchi@pec.beta.test", "half-data")).toEqual([]);
    await stillServes();
  });

  it("DATA of all connections together is bounded: past four messages' worth, 452 and the client retries", async () => {
    // Opens a session up to DATA (354) and sends part of a message.
    const opened = async (token: string, fill: number) => {
      const sock = connect({ host: host(), port: port() });
      let text = "";
      sock.on("data", (d: Buffer) => (text += d.toString("latin1")));
      const until = async (what: RegExp): Promise<void> => {
        for (let i = 0; i < 500 && !what.test(text); i++) await new Promise((r) => setTimeout(r, 20));
      };
      await until(/^220 /m);
      sock.write(`EHLO ${token}.test\r\n${authPlain}\r\nMAIL FROM:<${mario}>\r\nRCPT TO:<${anna}>\r\nDATA\r\n`);
      await until(/^354 /m);
      sock.write(`From: <${mario}>\r\nTo: <${anna}>\r\nSubject: ${token}\r\n\r\n${"x".repeat(fill)}`);
      return {
        async end(): Promise<string> {
          sock.write("\r\n.\r\n");
          await until(/^(250 2\.0\.0|4\d\d |5\d\d )/m);
          sock.destroy();
          return text.split("\r\n").filter((l) => /^\d{3} /.test(l)).at(-1) ?? "";
        },
      };
    };
    // maxMessageSize is 20,000: four of 19,000 fill the budget of 80,000.
    const held = [];
    for (let k = 0; k < 4; k++) held.push(await opened(`budget-${k}`, 19_000));
    await new Promise((r) => setTimeout(r, 500));
    const late = await opened("budget-late", 19_000);
    expect(await late.end()).toMatch(/^452 4\.3\.1 /);
    for (const h of held) expect(await h.end()).toMatch(/^250 2\.0\.0 Ok/);
    // What the four held was given back: the late one goes through now.
    expect(await (await opened("budget-retry", 19_000)).end()).toMatch(/^250 2\.0\.0 Ok/);
    expect(await inbox("anna.bianchi@pec.beta.test", "budget-")).toHaveLength(5);
    await stillServes();
  });

  it("MAIL FROM other than the authenticated mailbox gets 553; too many recipients 452", async () => {
    const r = await rawSmtp(host(), port(), [
      "EHLO client.test",
      authPlain,
      "MAIL FROM:<anna.bianchi@pec.beta.test>",
      `MAIL FROM:<${mario}>`,
      "RCPT TO:<a@pec.beta.test>",
      "RCPT TO:<b@pec.beta.test>",
      "RCPT TO:<c@pec.beta.test>",
      "RCPT TO:<d@pec.beta.test>",
      "QUIT",
    ]);
    expect(r[2]).toMatch(/^235 /);
    expect(r[3]).toMatch(/^553 /);
    expect(r[4]).toMatch(/^250 /);
    expect(r[7]).toMatch(/^250 /);
    expect(r[8]).toMatch(/^452 /);
  });

  it("8-bit header bytes: accepted and certified, no crash", async () => {
    const head = Buffer.from(`From: ${mario}\r\nTo: ${anna}\r\nSubject: Perché così [8bit] \xe8 \r\nDate: ${new Date().toUTCString()}\r\nMessage-ID: <8bit.${Date.now()}@client.test>\r\n\r\nciao\r\n.\r\n`, "latin1");
    const r = await rawSmtp(host(), port(), ["EHLO client.test", authPlain, `MAIL FROM:<${mario}>`, `RCPT TO:<${anna}>`, "DATA", head, "QUIT"]);
    expect(r[6]).toMatch(/^250 /);
    expect(await inbox(mario, "[8bit]")).toEqual(["accettazione", "avvenuta-consegna"]);
    expect(await inbox(anna, "[8bit]")).toEqual(["posta-certificata"]);
    await stillServes();
  });

  it("an oversize message gets 552; size × recipients over the limit gets a non accettazione", async () => {
    const tr = nodemailer.createTransport({ host: host(), port: port(), secure: false, auth: { user: mario, pass: "pw-mario" }, tls: { rejectUnauthorized: false } });
    try {
      await expect(tr.sendMail({ from: mario, to: anna, subject: "Grande [oversize]", text: "x".repeat(30_000) })).rejects.toMatchObject({ responseCode: 552 });
      // 12 kB to two recipients is 24 kB against a 20 kB limit: the PEC rule (spec §8.3) refuses it with a notice.
      const info = await tr.sendMail({ from: mario, to: [anna, "luca.verdi@pec.beta.test"], subject: "Doppio [size-x-rcpt]", text: "y".repeat(12_000) });
      expect(info.response).toMatch(/^250 /);
    } finally {
      tr.close();
    }
    expect(await inbox(mario, "[oversize]")).toEqual([]);
    expect(await inbox(mario, "[size-x-rcpt]")).toEqual(["non-accettazione"]);
    await stillServes();
  });

  it("connections beyond the limit get 421, and the server recovers", async () => {
    const { connect } = await import("node:net");
    const socks = await Promise.all(
      Array.from({ length: 7 }, () => new Promise<{ s: import("node:net").Socket; first: Promise<string> }>((res) => {
        const s = connect({ host: host(), port: port() });
        const first = new Promise<string>((r) => s.once("data", (d: Buffer) => r(d.toString("latin1"))));
        s.once("connect", () => res({ s, first }));
      })),
    );
    const greetings = await Promise.all(socks.map((x) => x.first));
    expect(greetings.filter((g) => g.startsWith("421")).length).toBeGreaterThanOrEqual(1);
    for (const x of socks) x.s.destroy();
    await new Promise((r) => setTimeout(r, 300));
    await stillServes();
  });
});

describe("configuration", () => {
  const base = (g: Record<string, unknown>, m: Record<string, unknown> = {}): unknown => ({
    gestori: [{ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", mailboxes: [{ address: "mario.rossi", password: "pw", ...m }], ...g }],
  });

  it.each([
    ["a gestore name", base({ name: "Gestore Alfa\r\nBcc: spia@evil.example" }), /gestori\[0\]\.name.*header injection/],
    ["a display name", base({}, { name: "Mario\nX-Injected: yes" }), /mailboxes\[0\]\.name.*header injection/],
    ["an address", base({}, { address: "mario\r\n.rossi" }), /mailboxes\[0\]\.address.*header injection/],
    ["a domain", base({ domain: "pec.alfa.test\r\nX: y" }), /gestori\[0\]\.domain.*header injection/],
    ["a password (passwd-file line)", base({}, { password: "pw\nroot::0:0" }), /password.*header injection/],
  ])("CR/LF in %s is refused with a clear error", (_what, input, message) => {
    expect(() => parseConfig(input)).toThrow(ConfigError);
    expect(() => parseConfig(input)).toThrow(message);
  });

  it("other mistakes name the field", () => {
    expect(() => parseConfig(base({ domain: "not a domain" }))).toThrow(/gestori\[0\]\.domain/);
    expect(() => parseConfig(base({ availability: "sometimes" }))).toThrow(/availability/);
    expect(() => parseConfig({ ports: { submission: 70000 } })).toThrow(/ports\.submission/);
    expect(() => parseConfig(base({}, { password: "a:b" }))).toThrow(/password.*':'/);
    // A folder and a Dovecot user are named after the address: "/" and "%" are refused here,
    // not later by startSandbox; "+" and "'" are fine.
    for (const a of ["a/b", "a%b", "x/..@pec.alfa.test"]) expect(() => parseConfig(base({}, { address: a })), a).toThrow(/mailboxes\[0\]\.address.*"\/" or "%"/);
    expect(parseConfig(base({}, { address: "protocollo+pec" })).gestori[0]!.mailboxes[0]!.address).toBe("protocollo+pec@pec.alfa.test");
    expect(parseConfig(base({}, { address: "d'amico" })).gestori[0]!.mailboxes[0]!.address).toBe("d'amico@pec.alfa.test");
    expect(parseConfig({}).gestori.map((g) => g.domain)).toEqual(["pec.alfa.test", "pec.beta.test"]);
  });

  // Logins and deliveries look mailboxes up by full address: the default world must name
  // them so (it once listed local parts, and the CLI's default world lost every delivery).
  it("the default world names its mailboxes by full address", () => {
    const addresses = (c: ReturnType<typeof defaultConfig>): string[] => c.gestori.flatMap((g) => g.mailboxes.map((m) => m.address));
    expect(addresses(defaultConfig())).toEqual(addresses(parseConfig(defaultConfig())));
    expect(addresses(defaultConfig())).toContain("mario.rossi@pec.alfa.test");
  });
});
