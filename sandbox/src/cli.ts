#!/usr/bin/env node
/**
 * `postacert-sandbox`: starts a whole PEC world on this machine and prints where it is.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ConfigError, defaultConfig, loadConfig, parseConfig, type SandboxConfig } from "./config.js";
import { DovecotMissingError, type SandboxInfo, startSandbox } from "./sandbox.js";

const HELP = `postacert-sandbox: a local PEC provider for tests (SMTP in, IMAP/POP3 out, signed PEC flows)

Usage: postacert-sandbox [--config sandbox.json] [--state <dir>] [--clock-speed N] [--no-dovecot] [--no-web]

  --config <file>     gestori, mailboxes, passwords, ports, limits (JSON; see sandbox/README.md).
                      Default: Gestore Alfa (pec.alfa.test) and Gestore Beta (pec.beta.test),
                      two mailboxes each, password "sandbox".
  --state <dir>       state folder: CA, LDIF, spool, Maildirs, Dovecot. Default ./.postacert-sandbox
  --clock-speed <N>   sandbox time runs N times faster: with 3600 the 12 h preavviso of an
                      unreachable gestore comes after 12 s. Default 1.
  --no-dovecot        no IMAP/POP3: mail stays in the Maildirs of the state folder.
  --no-web            no web view.
  -h, --help          this text.

Stop with Ctrl-C; a restart with the same --state resumes pending deliveries.`;

function summary(info: SandboxInfo): string {
  const lines = [
    `postacert-sandbox: a PEC world on ${info.host} (state ${info.stateDir}, clock ×${info.clockSpeed})`,
    "",
    "Gestori:",
    ...info.gestori.map((g) => `  ${g.name}  ${g.domain}  inbound SMTP ${info.host}:${info.inboundPorts[g.domain]}  ${g.availability}`),
    "",
    `SMTP submission  ${info.host}:${info.submissionPort}  (AUTH PLAIN/LOGIN${info.tls ? ", STARTTLS" : ""}; user = full address)`,
    info.imapPort !== undefined ? `IMAP             ${info.host}:${info.imapPort}${info.imapsPort ? `  (IMAPS ${info.imapsPort})` : ""}` : "IMAP             off (--no-dovecot)",
    info.pop3Port !== undefined ? `POP3             ${info.host}:${info.pop3Port}${info.pop3sPort ? `  (POP3S ${info.pop3sPort})` : ""}` : "POP3             off",
    `Web view         ${info.webUrl ?? "off"}`,
    "",
    "Mailboxes (login / password):",
    ...info.mailboxes.map((m) => `  ${m.address.padEnd(36)} ${m.password.padEnd(12)} ${m.kind === "user" ? (m.name ?? "") : m.kind === "service" ? "service mailbox (presa in carico)" : "mail to esterno recipients"}`),
    "",
    "Trust (load into postacert verify / the inspector):",
    `  CA          ${info.files.caPem}`,
    `  IGPEC LDIF  ${info.files.ldif}`,
    ...(info.files.tlsCert ? [`  TLS cert    ${info.files.tlsCert} (self-signed, localhost)`] : []),
  ];
  return lines.join("\n");
}

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        config: { type: "string" },
        state: { type: "string" },
        "clock-speed": { type: "string" },
        "no-dovecot": { type: "boolean" },
        "no-web": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }).values;
  } catch (e) {
    process.stderr.write(`postacert-sandbox: ${(e as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(HELP + "\n");
    return 0;
  }
  const clockSpeed = args["clock-speed"] === undefined ? 1 : Number(args["clock-speed"]);
  if (!Number.isFinite(clockSpeed) || clockSpeed <= 0) {
    process.stderr.write(`postacert-sandbox: --clock-speed must be a positive number, got ${args["clock-speed"]}\n`);
    return 2;
  }
  let config: SandboxConfig;
  try {
    config = args.config ? await loadConfig(args.config) : parseConfig(defaultConfig());
  } catch (e) {
    process.stderr.write(`postacert-sandbox: ${(e as Error).message}\n`);
    return 2;
  }
  let sandbox;
  try {
    sandbox = await startSandbox({
      config,
      stateDir: args.state ?? ".postacert-sandbox",
      clockSpeed,
      dovecot: !args["no-dovecot"],
      web: !args["no-web"],
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (e instanceof DovecotMissingError || e instanceof ConfigError) process.stderr.write(`postacert-sandbox: ${err.message}\n`);
    else if (err.code === "EADDRINUSE") process.stderr.write(`postacert-sandbox: a port is already in use (${err.message}); change ports in the configuration (0 = any free port)\n`);
    else process.stderr.write(`postacert-sandbox: cannot start: ${err?.stack ?? String(e)}\n`);
    return e instanceof DovecotMissingError ? 3 : 1;
  }
  process.stdout.write(summary(sandbox.info) + "\n\npostacert-sandbox ready\n");
  await new Promise<void>((resolve) => {
    const onSignal = (): void => {
      process.stdout.write("postacert-sandbox: stopping…\n");
      void sandbox.stop().then(resolve, resolve);
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  });
  return 0;
}

// Bad network input must never stop the server: log what slips through instead of dying.
process.on("uncaughtException", (e) => process.stderr.write(`postacert-sandbox: unexpected error (still running): ${e?.stack ?? String(e)}\n`));
process.on("unhandledRejection", (e) => process.stderr.write(`postacert-sandbox: unexpected error (still running): ${(e as Error)?.stack ?? String(e)}\n`));

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`postacert-sandbox: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
