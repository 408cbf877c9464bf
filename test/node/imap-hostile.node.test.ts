// readImap against a server that misbehaves on purpose (test/support/fake-imap.mjs): answers
// with UIDs not asked for or twice, odd UIDs, no UIDVALIDITY, no STARTTLS, an echoed password.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { connect, createServer } from "node:net";
import { resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PecError } from "../../src/errors.js";
import { type ImapOptions, readImap } from "../../src/node/imap.js";

const FAKE = resolve(import.meta.dirname, "../support/fake-imap.mjs");
let server: ChildProcess | undefined;

afterEach(() => {
  server?.kill();
  server = undefined;
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, "127.0.0.1", ok));
  const port = (s.address() as { port: number }).port;
  await new Promise((ok) => s.close(ok));
  return port;
}

/** Starts the fake server with a scenario; resolves with its port once it accepts connections. */
async function fake(scenario: string, env: Record<string, string> = {}): Promise<number> {
  const port = await freePort();
  server = spawn(process.execPath, [FAKE, scenario, String(port)], { env: { ...process.env, ...env }, stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((ok) => {
      const s = connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        ok(true);
      });
      s.on("error", () => ok(false));
    });
    if (up) return port;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the fake IMAP server did not start");
}

async function read(url: string, options: Partial<ImapOptions> = {}): Promise<{ ids: string[]; subjects: string[] }> {
  const ids: string[] = [];
  const subjects: string[] = [];
  for await (const m of readImap(url, { password: "S3cr3t-PW!", ...options })) {
    ids.push(m.id);
    subjects.push(/^Subject: (.*)$/m.exec(new TextDecoder().decode(m.bytes))?.[1]?.trim() ?? "");
  }
  return { ids, subjects };
}

describe("readImap and a server that misbehaves", () => {
  it("yields each UID asked for once: not a UID answered twice, nor one never asked for", async () => {
    let port = await fake("dup-uids");
    const dup = await read(`imap://u@127.0.0.1:${port}/INBOX`);
    expect(dup.ids.map((id) => id.replace(/^.*;UID=/, ""))).toEqual(["1", "2", "3"]);
    expect(dup.subjects).toEqual(["message 1 first", "message 2 first", "message 3 first"]);
    server!.kill();
    // UID 1 is skipped (as by a --state re-run), and the server sends it anyway: not yielded.
    port = await fake("inject", { INJECT: "1" });
    const injected = await read(`imap://u@127.0.0.1:${port}/INBOX`, { skip: (id) => id.endsWith(";UID=1") });
    expect(injected.ids.map((id) => id.replace(/^.*;UID=/, ""))).toEqual(["2", "3"]);
  });

  it("a message listed larger than a message read is refused unread: ERR_TOO_LARGE to onError, and the next ones are read", async () => {
    const port = await fake("listed-huge");
    const url = `imap://u@127.0.0.1:${port}/INBOX`;
    const errors: string[] = [];
    // Fetched, its literal passed imapflow's cap: the connection closed, and UID 3 (every later
    // message, on every re-run) was lost with it.
    const got = await read(url, { onError: (e, id) => errors.push(`${e.code} ${id.replace(/^.*;UID=/, "")} ${e.message.replace(/^.*;UID=\d+ /, "")}`) });
    expect(got.ids.map((id) => id.replace(/^.*;UID=/, ""))).toEqual(["1", "3"]);
    expect(errors).toEqual(["ERR_TOO_LARGE 2 is 629145600 bytes as the server lists it, larger than a message read (268435456 bytes)"]);
    // Without onError, the read ends with it, after the message before it.
    const ids: string[] = [];
    await expect(
      (async () => {
        for await (const m of readImap(url, { password: "S3cr3t-PW!" })) ids.push(m.id.replace(/^.*;UID=/, ""));
      })(),
    ).rejects.toMatchObject({ code: "ERR_TOO_LARGE", details: { limit: 268435456 } });
    expect(ids).toEqual(["1"]);
    await expect(read(url, { onError: "x" as unknown as ImapOptions["onError"] })).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
  });

  it("scan imap:// reports such a message as unreadable, by its id, and reads the rest", async () => {
    const port = await fake("listed-huge");
    const r = spawnSync(process.execPath, [resolve(import.meta.dirname, "../../dist/cli/main.js"), "scan", "--json", `imap://u@127.0.0.1:${port}/INBOX`], {
      env: { ...process.env, POSTACERT_IMAP_PASSWORD: "S3cr3t-PW!" },
      encoding: "utf8",
      timeout: 60_000,
    });
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { id: string; status: string; issues?: { code: string }[] });
    expect(lines.map((l) => [l.id.replace(/^.*;UID=/, ""), l.status])).toEqual([
      ["1", "not-pec"],
      ["2", "unreadable"],
      ["3", "not-pec"],
    ]);
    expect(lines[1]!.issues?.map((i) => i.code)).toEqual(["ERR_TOO_LARGE"]);
  });

  it("a UID listed twice is asked about, and fetched, once", async () => {
    const port = await fake("dup-uids-sizes");
    const asked: string[] = [];
    const got = await read(`imap://u@127.0.0.1:${port}/INBOX`, {
      skip: (id) => {
        asked.push(id.replace(/^.*;UID=/, ""));
        return false;
      },
    });
    expect(asked).toEqual(["1", "2"]);
    expect(got.ids.map((id) => id.replace(/^.*;UID=/, ""))).toEqual(["1", "2"]);
  });

  it("a UID the listing cannot hold (0) leaves the other messages readable", async () => {
    const port = await fake("uid-variant", { ODDUID: "0" });
    const got = await read(`imap://u@127.0.0.1:${port}/INBOX`);
    expect(got.ids.map((id) => id.replace(/^.*;UID=/, ""))).toEqual(["1", "3"]);
  });

  it("a mailbox whose EXISTS says 0, or is missing, is still read when a search finds messages", async () => {
    for (const exists of ["0", "omit"]) {
      const port = await fake("exists-lie", { EXISTS: exists });
      expect((await read(`imap://u@127.0.0.1:${port}/INBOX`)).ids, exists).toHaveLength(3);
      server!.kill();
    }
  });

  it("without UIDVALIDITY the UIDs are not taken as stable: skip() is never asked", async () => {
    const port = await fake("normal", { UIDVMODE: "omit" });
    const asked: string[] = [];
    const got = await read(`imap://u@127.0.0.1:${port}/INBOX`, {
      skip: (id) => {
        asked.push(id);
        return true;
      },
    });
    expect(asked).toEqual([]);
    expect(got.ids).toHaveLength(3);
    expect(got.ids[0]).toMatch(/;UIDVALIDITY=0\/;UID=1$/);
  });

  it("imap:// to a host that is not loopback logs in only over TLS, unless cleartext is allowed", async () => {
    const port = await fake("normal");
    // 0.0.0.0 reaches this machine, but is no loopback address: the password would cross a network.
    const refused = await read(`imap://u@0.0.0.0:${port}/INBOX`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(PecError);
    expect((refused as PecError).code).toBe("ERR_SOURCE");
    expect((await read(`imap://u@0.0.0.0:${port}/INBOX`, { tls: { allowCleartext: true } })).ids).toHaveLength(3);
  });

  it("a server that stalls, or sends a byte now and then, ends the read with ERR_SOURCE within the timeout", async () => {
    for (const [scenario, env] of [["stall-fetch", {}], ["trickle", { TRICKLE_MS: "200" }], ["stall-mid-literal", {}]] as const) {
      const port = await fake(scenario, env);
      const started = Date.now();
      const err = await read(`imap://u@127.0.0.1:${port}/INBOX`, { timeout: 1500 }).then(
        () => undefined,
        (e: unknown) => e as PecError,
      );
      expect(err?.code, scenario).toBe("ERR_SOURCE");
      expect(err?.message, scenario).toMatch(/no message from the server|timeout|timed out/i);
      expect(Date.now() - started, scenario).toBeLessThan(10_000);
      server!.kill();
    }
    // Node would run a timer of 2^31 ms or more after 1 ms: refused, as 0 is.
    for (const timeout of [0, 2 ** 31, Infinity]) await expect(read("imap://u@127.0.0.1:1/INBOX", { timeout }), String(timeout)).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    const port = await fake("normal");
    expect((await read(`imap://u@127.0.0.1:${port}/INBOX`, { timeout: 2 ** 31 - 1 })).ids).toHaveLength(3);
  });

  it("a server quoting the login command back does not show the password, escaped or not", async () => {
    const port = await fake("echo-raw");
    const err = await read(`imap://u@127.0.0.1:${port}/INBOX`, { password: 'pa"ss\\word' }).then(
      () => undefined,
      (e: unknown) => e as PecError,
    );
    expect(err?.code).toBe("ERR_SOURCE");
    expect(err?.message).not.toMatch(/pa\\?"ss|ss\\+word/);
    expect(err?.message).toContain('LOGIN "u" "***"');
  });
});
