/**
 * Conversions between `<data zona="…"><giorno/><ora/></data>` and instants.
 *
 * Everything is computed with integer calendar arithmetic or `Intl` with an explicit
 * time zone, never with the host's local time zone, so Node and browsers anywhere
 * give the same answers.
 *
 * @module
 */
import { PecError } from "../errors.js";
import type { DatiData } from "./model.js";

/** Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's algorithm). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The inverse of {@link daysFromCivil}: `[year, month, day]`. */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

/** The two ASCII digits at `i` as a number, or -1. @internal */
export function digits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 0x30;
  const b = s.charCodeAt(i + 1) - 0x30;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** Days in month `m` (1–12) of year `y`, proleptic Gregorian. @internal */
export function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

// Tolerant forms: 1-2 digit day/month/hour, optional seconds; zona with or without
// colon, with or without minutes, or "Z". All anchored and without nested quantifiers.
const GIORNO_LAX = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;
const ORA_LAX = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/;
const ZONA_LAX = /^([+-])(\d{2})(?::?(\d{2}))?$/;
const GIORNO_STRICT = /^(\d{2})\/(\d{2})\/(\d{4})$/;
const ORA_STRICT = /^(\d{2}):(\d{2}):(\d{2})$/;
const ZONA_STRICT = /^([+-])(\d{2})(\d{2})$/;

function trimAscii(s: string): string {
  // Only XML white space: a subject's NBSP is content, not padding.
  let a = 0;
  let b = s.length;
  while (a < b && isXmlSpace(s.charCodeAt(a))) a++;
  while (b > a && isXmlSpace(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

function isXmlSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

/**
 * Milliseconds since the epoch for a {@link DatiData}, or undefined when invalid.
 * `strict` demands the exact DTD shapes (`dd/mm/yyyy`, `hh:mm:ss`, `±hhmm`).
 */
export function datiDataToEpochMs(data: DatiData, strict: boolean): number | undefined {
  if (data === null || typeof data !== "object") return undefined;
  const { zona, giorno, ora } = data;
  if (typeof zona !== "string" || typeof giorno !== "string" || typeof ora !== "string") return undefined;
  // The exact DTD shapes (what every gestore writes), which both the strict and the lax
  // expressions accept with the same digits, read without the three expressions.
  if (zona.length === 5 && giorno.length === 10 && ora.length === 8) {
    const sign = zona.charCodeAt(0);
    const zh = digits(zona, 1);
    const zmin = digits(zona, 3);
    const d = digits(giorno, 0);
    const m = digits(giorno, 3);
    const century = digits(giorno, 6);
    const yy = digits(giorno, 8);
    const h = digits(ora, 0);
    const mi = digits(ora, 3);
    const sec = digits(ora, 6);
    if (
      (sign === 0x2b || sign === 0x2d) &&
      (zh | zmin | d | m | century | yy | h | mi | sec) >= 0 &&
      giorno.charCodeAt(2) === 0x2f &&
      giorno.charCodeAt(5) === 0x2f &&
      ora.charCodeAt(2) === 0x3a &&
      ora.charCodeAt(5) === 0x3a
    ) {
      const y = century * 100 + yy;
      if (zh > 23 || zmin > 59) return undefined;
      if (y < 1 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return undefined;
      if (h > 23 || mi > 59 || sec > 59) return undefined;
      const offsetMin = (zh * 60 + zmin) * (sign === 0x2d ? -1 : 1);
      return (daysFromCivil(y, m, d) * 86400 + h * 3600 + mi * 60 + sec - offsetMin * 60) * 1000;
    }
  }
  let offsetMin: number;
  const z = strict ? zona : trimAscii(zona);
  if (!strict && (z === "Z" || z === "z")) {
    offsetMin = 0;
  } else {
    const zm = (strict ? ZONA_STRICT : ZONA_LAX).exec(z);
    if (zm === null) return undefined;
    const zh = +zm[2]!;
    const zmin = zm[3] === undefined ? 0 : +zm[3];
    if (zh > 23 || zmin > 59) return undefined;
    offsetMin = (zh * 60 + zmin) * (zm[1] === "-" ? -1 : 1);
  }
  const gm = (strict ? GIORNO_STRICT : GIORNO_LAX).exec(strict ? giorno : trimAscii(giorno));
  if (gm === null) return undefined;
  const d = +gm[1]!;
  const m = +gm[2]!;
  const y = +gm[3]!;
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return undefined;
  const om = (strict ? ORA_STRICT : ORA_LAX).exec(strict ? ora : trimAscii(ora));
  if (om === null) return undefined;
  const h = +om[1]!;
  const mi = +om[2]!;
  const s = om[3] === undefined ? 0 : +om[3];
  // Leap seconds cannot be represented by Date; a gestore never writes them.
  if (h > 23 || mi > 59 || s > 59) return undefined;
  const secs = daysFromCivil(y, m, d) * 86400 + h * 3600 + mi * 60 + s - offsetMin * 60;
  return secs * 1000;
}

/**
 * The instant a `<data>` element denotes: `giorno` + `ora` in the local time whose
 * offset from UTC is `zona`.
 *
 * Accepted forms (surrounding white space ignored): `giorno` `dd/mm/yyyy` (also
 * one-digit day or month); `ora` `hh:mm:ss` (also one-digit hour, or `hh:mm` meaning
 * seconds 00); `zona` `+hhmm`, `-hhmm` (`-0000` is UTC), `+hh:mm`, `+hh` or `Z`.
 * Impossible values (31/02, 25:00, second 60, offset hour > 23) are invalid.
 *
 * @returns the instant, or `undefined` when any of the three values is invalid (it never throws)
 *
 * @example
 * ```ts
 * daticertDate({ zona: "+0100", giorno: "15/03/2024", ora: "10:30:00" })?.toISOString();
 * // "2024-03-15T09:30:00.000Z"
 * ```
 */
export function daticertDate(data: DatiData): Date | undefined {
  const ms = datiDataToEpochMs(data, false);
  return ms === undefined ? undefined : new Date(ms);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat("en-US-u-nu-latn", {
        timeZone,
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
        hourCycle: "h23",
        era: "short",
      });
    } catch (e) {
      throw new PecError("ERR_INVALID_ARGUMENT", `toDatiData: unknown time zone ${JSON.stringify(timeZone)}`, {}, { cause: e });
    }
    // Creating a DateTimeFormat costs far more than using one: keep a few.
    if (formatters.size < 16) formatters.set(timeZone, f);
  }
  return f;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

// One-entry cache of the UTC offset: formatToParts costs microseconds, and a gestore
// (or the simulator) stamps many events within the same minute. Zone transitions fall
// on whole minutes, so an offset is valid for the whole UTC minute it was computed in.
let cachedZone = "";
let cachedMinute = NaN;
let cachedOffset = 0;

/** Offset of `timeZone` from UTC at `secs` (epoch seconds), in whole minutes. */
function offsetMinutes(secs: number, timeZone: string): number {
  const minute = Math.floor(secs / 60);
  if (minute === cachedMinute && timeZone === cachedZone) return cachedOffset;
  let y = 0;
  let mo = 0;
  let d = 0;
  let h = 0;
  let mi = 0;
  let s = 0;
  let bc = false;
  for (const p of formatterFor(timeZone).formatToParts(new Date(secs * 1000))) {
    switch (p.type) {
      case "year":
        y = +p.value;
        break;
      case "month":
        mo = +p.value;
        break;
      case "day":
        d = +p.value;
        break;
      case "hour":
        // Some engines still print 24 for midnight despite hourCycle h23.
        h = +p.value % 24;
        break;
      case "minute":
        mi = +p.value;
        break;
      case "second":
        s = +p.value;
        break;
      case "era":
        bc = p.value.startsWith("B");
        break;
    }
  }
  if (bc) y = 1 - y;
  const off = Math.round((daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - secs) / 60);
  cachedZone = timeZone;
  cachedMinute = minute;
  cachedOffset = off;
  return off;
}

/**
 * The `<data>` values for an instant, in the legal time of `timeZone` (default
 * `Europe/Rome`: CET `+0100` in winter, CEST `+0200` in summer). Milliseconds are
 * dropped. The offset comes from `Intl.DateTimeFormat` (never the host's zone),
 * rounded to whole minutes (that matters only for local mean time before 1893), and
 * `giorno`/`ora` are derived from it, so {@link daticertDate} always gives back the
 * instant truncated to the second.
 *
 * @param date - the instant; its local date must fall in years 1 to 9999
 * @param timeZone - an IANA time zone name
 * @throws PecError `ERR_INVALID_ARGUMENT` for an invalid date, a year out of range or an unknown time zone
 *
 * @example
 * ```ts
 * toDatiData(new Date("2024-07-01T08:00:00Z"));
 * // { zona: "+0200", giorno: "01/07/2024", ora: "10:00:00" }
 * ```
 */
export function toDatiData(date: Date, timeZone = "Europe/Rome"): DatiData {
  const t = date instanceof Date ? date.getTime() : NaN;
  if (!Number.isFinite(t)) throw new PecError("ERR_INVALID_ARGUMENT", "toDatiData: invalid Date");
  if (typeof timeZone !== "string") throw new PecError("ERR_INVALID_ARGUMENT", "toDatiData: timeZone must be a string");
  const secs = Math.floor(t / 1000);
  const offMin = offsetMinutes(secs, timeZone);
  const local = secs + offMin * 60;
  const days = Math.floor(local / 86400);
  const sod = local - days * 86400;
  const [y, mo, d] = civilFromDays(days);
  if (!(y >= 1 && y <= 9999)) throw new PecError("ERR_INVALID_ARGUMENT", "toDatiData: year out of range 1-9999");
  const abs = Math.abs(offMin);
  return {
    zona: (offMin < 0 ? "-" : "+") + pad(Math.floor(abs / 60), 2) + pad(abs % 60, 2),
    giorno: `${pad(d, 2)}/${pad(mo, 2)}/${pad(y, 4)}`,
    ora: `${pad(Math.floor(sod / 3600), 2)}:${pad(Math.floor(sod / 60) % 60, 2)}:${pad(sod % 60, 2)}`,
  };
}
