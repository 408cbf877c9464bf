// Formatting of dates, sizes and the like for the inspector.

const ROME = (() => {
  try {
    return new Intl.DateTimeFormat("it-IT", {
      timeZone: "Europe/Rome",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hour12: false,
    });
  } catch {
    return undefined;
  }
})();

/** `2025-06-15 10:00:00 UTC`. */
export function utc(d: Date): string {
  return Number.isNaN(d.getTime()) ? "—" : d.toISOString().replace("T", " ").replace(/\.\d{3}Z$/, " UTC");
}

/** `15/06/2025, 12:00:00 (ora italiana) · 2025-06-15 10:00:00 UTC`. */
export function instant(d: Date | undefined): string {
  if (!d || Number.isNaN(d.getTime())) return "—";
  const local = ROME?.format(d);
  return local ? `${local} (Europe/Rome) · ${utc(d)}` : utc(d);
}

/** `2025-06-15` (UTC day), for certificate validity. */
export function day(d: Date): string {
  return Number.isNaN(d.getTime()) ? "—" : d.toISOString().slice(0, 10);
}

/** `12.3 kB`. */
export function size(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)} kB`;
  return `${(n / 1_000_000).toFixed(1)} MB`;
}
