/**
 * RFC 5322 address lists, read leniently (real headers hold unbalanced quotes, spaces inside
 * domains, groups and comments). Internal to the PEC layer.
 */
import { decodeHeaderValue } from "../mime/words.js";
import { isJsSpace, trimEndWhere } from "../util/text.js";

/** One mailbox of an address header. */
export interface Mailbox {
  /** Display name without quotes, when present. */
  name?: string;
  /** The addr-spec, trimmed (case kept). */
  address: string;
}

/**
 * The mailboxes of an address header as written, encoded words not yet decoded. They are
 * decoded in the display names only, after the split: "Bianchi, Anna è", written
 * `=?UTF-8?Q?Bianchi=2C_Anna_=C3=A8?= <anna@x>`, keeps its comma instead of becoming two
 * mailboxes. A field written whole as encoded words, address included (some clients do),
 * is decoded first, as before. Never throws.
 */
export function mailboxesOf(raw: string): Mailbox[] {
  const list = parseAddressList(raw);
  if (raw.indexOf("=?") < 0) return list;
  for (const m of list) if (m.address.indexOf("=?") >= 0) return parseAddressList(decodeHeaderValue(raw));
  // The name was unquoted when split: quotes the encoded words hold are the name's own.
  return list.map((m) => (m.name !== undefined && m.name.indexOf("=?") >= 0 ? { name: decodeHeaderValue(m.name).trim(), address: m.address } : m));
}

/** The first mailbox of an address header as written (see {@link mailboxesOf}), if any. */
export function firstMailboxOf(raw: string | undefined): Mailbox | undefined {
  return raw === undefined ? undefined : mailboxesOf(raw)[0];
}

/**
 * Splits an address header, its encoded words decoded or absent, into mailboxes (header
 * fields as written go through {@link mailboxesOf}). Linear in the input; never throws.
 * Group syntax (`list: a@b, c@d;`) yields its members.
 */
export function parseAddressList(value: string): Mailbox[] {
  // One bare address (nothing quoted, commented, bracketed, listed or grouped: the usual
  // header of a PEC message) is what parseAddressListGeneral gives, without building it a
  // character at a time and the three regular expressions of its flush.
  let special = false;
  let space = false;
  for (let i = 0; i < value.length && !special; i++) {
    const c = value.charCodeAt(i);
    special = c === 0x22 || c === 0x28 || c === 0x3c || c === 0x2c || c === 0x3b || c === 0x3a; // " ( < , ; :
    // Possibly white space (also U+00A0, U+FEFF, …).
    if (c <= 0x20 || c >= 0x7f) space = true;
  }
  if (!special) {
    if (!space) return value ? [{ address: value }] : [];
    const m = bareMailbox(value);
    return m.address ? [m.display ? { name: m.display, address: m.address } : { address: m.address }] : [];
  }
  return parseAddressListGeneral(value);
}

/**
 * A mailbox written without angle brackets: an addr-spec, or (not RFC 5322, but written)
 * display-name words before it, "Mario Rossi mario@x.it". White space next to "@" or "." is
 * inside the address (seen: "pct@pec. agenziariscossione.gov.it"); elsewhere it parts the
 * name's words from the address, when only the last word holds an "@".
 */
function bareMailbox(text: string): { display: string; address: string } {
  const words = text.split(/\s+/).filter((w) => w !== "");
  if (words.length <= 1) return { display: "", address: words[0] ?? "" };
  // Groups as [first, last) word ranges: a group is joined once, at the end (joining as it
  // grows made a 1 MB header of "a. a. a. …" quadratic, the string flattened at each step).
  const starts: number[] = [0];
  const withAt: boolean[] = [words[0]!.includes("@")];
  for (let i = 1; i < words.length; i++) {
    const prev = words[i - 1]!;
    const w = words[i]!;
    const pc = prev.charCodeAt(prev.length - 1);
    const wc = w.charCodeAt(0);
    if (!(pc === 0x2e || pc === 0x40 || wc === 0x2e || wc === 0x40)) {
      starts.push(i);
      withAt.push(false);
    }
    if (w.includes("@")) withAt[withAt.length - 1] = true;
  }
  const last = starts.length - 1;
  if (last > 0 && withAt[last] && !withAt.slice(0, last).includes(true)) {
    const name: string[] = [];
    for (let g = 0; g < last; g++) name.push(words.slice(starts[g], starts[g + 1]).join(""));
    return { display: name.join(" "), address: words.slice(starts[last]).join("") };
  }
  return { display: "", address: words.join("") };
}

/** `s` without white space outside double quotes: `"mario rossi"@x.it` keeps its quoted space. */
function withoutSpaces(s: string): string {
  if (s.indexOf('"') < 0) return s.replace(/\s+/g, "");
  let out = "";
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"') quoted = !quoted;
    if (quoted || c === '"' || !isJsSpace(s.charCodeAt(i))) out += c;
  }
  return out;
}

/**
 * {@link parseAddressList} without its fast path, for any value: the reference the fast
 * path is tested against.
 *
 * @internal
 */
export function parseAddressListGeneral(value: string): Mailbox[] {
  const out: Mailbox[] = [];
  let name = "";
  let addr = "";
  let inAngle = false;
  let sawAngle = false;
  let quote = false;
  let comment = 0;
  const groupEnd = value.lastIndexOf(";");
  const hasWords = value.indexOf("=?") >= 0;
  const flush = (): void => {
    let address: string;
    let display = "";
    if (sawAngle) {
      address = withoutSpaces(addr);
      display = name.trim();
    } else {
      // A bare addr-spec, possibly with a quoted display name and no angle brackets; a quoted
      // string right before "@" is the local part ("mario rossi"@x.it), not a name.
      const text = name.trim();
      const q = /^"([^"]*)"\s*(.*)$/.exec(text);
      if (q && !q[2]!.startsWith("@")) {
        display = q[1]!;
        address = q[2]!.replace(/\s+/g, "");
      } else if (q) address = withoutSpaces(text);
      else ({ display, address } = bareMailbox(text));
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
    if (hasWords && c === "=" && value.charCodeAt(i + 1) === 0x3f) {
      // An encoded word is one token, whatever it holds: writers put raw commas in Q words.
      ENCODED_WORD.lastIndex = i;
      const w = ENCODED_WORD.exec(value);
      if (w) {
        name += w[0];
        i += w[0].length - 1;
        continue;
      }
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
        // Group name: what came before is not a mailbox. Only where a ";" ends the group: a
        // decoded display name holds colons too ("Per conto di: josé@x" <posta-certificata@G>,
        // once its encoded word is decoded), and a group never lacks its ";".
        if (!sawAngle && i < groupEnd) name = "";
        else name += c;
        break;
      default:
        name += c;
    }
  }
  flush();
  return out;
}

const ENCODED_WORD = /=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=/y;

function unquote(s: string): string {
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).trim() : t.replace(/"/g, "").trim();
}

const PER_CONTO = /^\s*"?\s*(?:per conto di|on behalf of)\s*:\s*/i;

/**
 * The original sender named in a busta's display name (`"Per conto di: x@y" <posta-certificata@G>`),
 * tolerant of extra quotes and spaces, and of the RFC's English "On behalf of:".
 */
export function perContoDi(mailbox: Mailbox | undefined): string | undefined {
  const name = mailbox?.name;
  if (!name || !PER_CONTO.test(name)) return undefined;
  const rest = trimEndWhere(name.replace(PER_CONTO, ""), (c) => c === 0x22 || isJsSpace(c)).trim();
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
  // trim, /^<+/ and />+$/ removed, trim again; by index, with no regular expression.
  let t = id.trim();
  let a = 0;
  let b = t.length;
  while (a < b && t.charCodeAt(a) === 0x3c) a++;
  while (b > a && t.charCodeAt(b - 1) === 0x3e) b--;
  if (a > 0 || b < t.length) t = t.slice(a, b).trim();
  if (!t) return undefined;
  const at = t.lastIndexOf("@");
  if (at < 0) return t;
  for (let i = at + 1; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a) || c >= 0x80) return t.slice(0, at) + "@" + t.slice(at + 1).toLowerCase();
  }
  return t; // the domain is already lower case
}
