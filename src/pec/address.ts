/**
 * RFC 5322 address lists, read leniently (real headers hold unbalanced quotes, spaces inside
 * domains, groups and comments). Internal to the PEC layer.
 */

/** One mailbox of an address header. */
export interface Mailbox {
  /** Display name without quotes, when present. */
  name?: string;
  /** The addr-spec, trimmed (case kept). */
  address: string;
}

/**
 * Splits an address header into mailboxes. Linear in the input; never throws.
 * Group syntax (`list: a@b, c@d;`) yields its members.
 */
export function parseAddressList(value: string): Mailbox[] {
  const out: Mailbox[] = [];
  let name = "";
  let addr = "";
  let inAngle = false;
  let sawAngle = false;
  let quote = false;
  let comment = 0;
  const flush = (): void => {
    let address: string;
    let display = "";
    if (sawAngle) {
      address = addr.replace(/\s+/g, "");
      display = name.trim();
    } else {
      // A bare addr-spec, possibly with a quoted display name and no angle brackets, or with
      // spaces inside the domain (seen: "pct@pec. agenziariscossione.gov.it").
      const text = name.trim();
      const q = /^"([^"]*)"\s*(.*)$/.exec(text);
      if (q) {
        display = q[1]!;
        address = q[2]!.replace(/\s+/g, "");
      } else address = text.replace(/\s+/g, "");
    }
    address = address.replace(/^mailto:/i, "");
    if (address) out.push(display ? { name: unquote(display), address } : { address });
    name = "";
    addr = "";
    sawAngle = false;
  };
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (comment > 0) {
      if (c === "\\") i++;
      else if (c === "(") comment++;
      else if (c === ")") comment--;
      continue;
    }
    if (quote) {
      if (c === "\\" && i + 1 < value.length) {
        name += value[++i];
      } else if (c === '"') {
        quote = false;
        name += c;
      } else name += c;
      continue;
    }
    if (inAngle) {
      if (c === ">") inAngle = false;
      else addr += c;
      continue;
    }
    switch (c) {
      case '"':
        quote = true;
        name += c;
        break;
      case "(":
        comment = 1;
        break;
      case "<":
        inAngle = true;
        sawAngle = true;
        addr = "";
        break;
      case ",":
      case ";":
        flush();
        break;
      case ":":
        // Group name: what came before is not a mailbox.
        if (!sawAngle) name = "";
        else name += c;
        break;
      default:
        name += c;
    }
  }
  flush();
  return out;
}

function unquote(s: string): string {
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).trim() : t.replace(/"/g, "").trim();
}

/** The first mailbox of a header, if any. */
export function firstMailbox(value: string | undefined): Mailbox | undefined {
  return value === undefined ? undefined : parseAddressList(value)[0];
}

const PER_CONTO = /^\s*"?\s*(?:per conto di|on behalf of)\s*:\s*/i;

/**
 * The original sender named in a busta's display name (`"Per conto di: x@y" <posta-certificata@G>`),
 * tolerant of extra quotes and spaces, and of the RFC's English "On behalf of:".
 */
export function perContoDi(mailbox: Mailbox | undefined): string | undefined {
  const name = mailbox?.name;
  if (!name || !PER_CONTO.test(name)) return undefined;
  const rest = name.replace(PER_CONTO, "").replace(/["\s]+$/g, "").trim();
  return rest || undefined;
}

/** Strips a "Per conto di:" prefix from a display name (clients copy it into replies). */
export function displayName(mailbox: Mailbox): string | undefined {
  if (!mailbox.name) return undefined;
  return mailbox.name.replace(PER_CONTO, "").trim() || undefined;
}

/** Normalises a Message-ID for comparison: trimmed, angle brackets and case of the domain ignored. */
export function normalizeMsgId(id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  const t = id.trim().replace(/^<+/, "").replace(/>+$/, "").trim();
  if (!t) return undefined;
  const at = t.lastIndexOf("@");
  return at < 0 ? t : t.slice(0, at) + "@" + t.slice(at + 1).toLowerCase();
}
