// daticertDate and toDatiData, independent of the host time zone.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { daticertDate, toDatiData, type DatiData } from "../../src/daticert/index.js";
import { catchPec } from "./helpers.js";

const iso = (zona: string, giorno: string, ora: string): string | undefined => daticertDate({ zona, giorno, ora })?.toISOString();

describe("daticertDate", () => {
  it("reads +0100 and +0200", () => {
    expect(iso("+0100", "15/03/2024", "10:30:00")).toBe("2024-03-15T09:30:00.000Z");
    expect(iso("+0200", "19/09/2026", "15:41:19")).toBe("2026-09-19T13:41:19.000Z");
  });

  it("accepts the other offset spellings", () => {
    expect(iso("+01:00", "15/03/2024", "10:30:00")).toBe("2024-03-15T09:30:00.000Z");
    expect(iso("-0000", "15/03/2024", "10:30:00")).toBe("2024-03-15T10:30:00.000Z");
    expect(iso("Z", "15/03/2024", "10:30:00")).toBe("2024-03-15T10:30:00.000Z");
    expect(iso("+02", "15/03/2024", "10:30:00")).toBe("2024-03-15T08:30:00.000Z");
    expect(iso("-05:30", "15/03/2024", "10:30:00")).toBe("2024-03-15T16:00:00.000Z");
    expect(iso(" +0100 ", " 5/3/2024\n", " 9:30 ")).toBe("2024-03-05T08:30:00.000Z");
  });

  it("crosses day and year boundaries", () => {
    expect(iso("+0100", "01/01/2025", "00:30:00")).toBe("2024-12-31T23:30:00.000Z");
    expect(iso("-0100", "31/12/2024", "23:30:00")).toBe("2025-01-01T00:30:00.000Z");
    expect(iso("+0000", "29/02/2024", "12:00:00")).toBe("2024-02-29T12:00:00.000Z");
    expect(iso("+0000", "01/01/0050", "00:00:00")).toBe("0050-01-01T00:00:00.000Z");
  });

  it("returns undefined for invalid values", () => {
    const bad: [string, string, string][] = [
      ["+0100", "31/02/2024", "10:00:00"],
      ["+0100", "29/02/2023", "10:00:00"],
      ["+0100", "00/01/2024", "10:00:00"],
      ["+0100", "01/13/2024", "10:00:00"],
      ["+0100", "2024-03-15", "10:00:00"],
      ["+0100", "15/03/24", "10:00:00"],
      ["+0100", "15/03/2024", "24:00:00"],
      ["+0100", "15/03/2024", "10:60:00"],
      ["+0100", "15/03/2024", "10:00:60"],
      ["+0100", "15/03/2024", "10"],
      ["+2400", "15/03/2024", "10:00:00"],
      ["+0160", "15/03/2024", "10:00:00"],
      ["0100", "15/03/2024", "10:00:00"],
      ["CET", "15/03/2024", "10:00:00"],
      ["", "", ""],
    ];
    for (const [z, g, o] of bad) expect(daticertDate({ zona: z, giorno: g, ora: o }), `${z} ${g} ${o}`).toBeUndefined();
    expect(daticertDate(undefined as unknown as DatiData)).toBeUndefined();
    expect(daticertDate({ zona: "+0100" } as DatiData)).toBeUndefined();
  });
});

describe("toDatiData", () => {
  it("gives CET in winter and CEST in summer", () => {
    expect(toDatiData(new Date("2024-03-15T09:30:00Z"))).toEqual({ zona: "+0100", giorno: "15/03/2024", ora: "10:30:00" });
    expect(toDatiData(new Date("2026-09-19T13:41:19.999Z"))).toEqual({ zona: "+0200", giorno: "19/09/2026", ora: "15:41:19" });
  });

  it("switches to CEST on 2024-03-31 at 01:00 UTC", () => {
    expect(toDatiData(new Date("2024-03-31T00:59:59Z"))).toEqual({ zona: "+0100", giorno: "31/03/2024", ora: "01:59:59" });
    expect(toDatiData(new Date("2024-03-31T01:00:00Z"))).toEqual({ zona: "+0200", giorno: "31/03/2024", ora: "03:00:00" });
  });

  it("switches back to CET on 2024-10-27 at 01:00 UTC (02:xx happens twice)", () => {
    expect(toDatiData(new Date("2024-10-27T00:30:00Z"))).toEqual({ zona: "+0200", giorno: "27/10/2024", ora: "02:30:00" });
    expect(toDatiData(new Date("2024-10-27T00:59:59Z"))).toEqual({ zona: "+0200", giorno: "27/10/2024", ora: "02:59:59" });
    expect(toDatiData(new Date("2024-10-27T01:00:00Z"))).toEqual({ zona: "+0100", giorno: "27/10/2024", ora: "02:00:00" });
    expect(toDatiData(new Date("2024-10-27T01:30:00Z"))).toEqual({ zona: "+0100", giorno: "27/10/2024", ora: "02:30:00" });
  });

  it("works in other zones and keeps each zone's offset apart", () => {
    const t = new Date("2024-07-01T12:00:00Z");
    expect(toDatiData(t, "UTC")).toEqual({ zona: "+0000", giorno: "01/07/2024", ora: "12:00:00" });
    expect(toDatiData(t, "America/New_York")).toEqual({ zona: "-0400", giorno: "01/07/2024", ora: "08:00:00" });
    expect(toDatiData(t, "Asia/Kolkata")).toEqual({ zona: "+0530", giorno: "01/07/2024", ora: "17:30:00" });
    expect(toDatiData(t)).toEqual({ zona: "+0200", giorno: "01/07/2024", ora: "14:00:00" });
  });

  it("truncates to the second, also before 1970", () => {
    expect(toDatiData(new Date(-1))).toEqual({ zona: "+0100", giorno: "01/01/1970", ora: "00:59:59" });
  });

  it("refuses invalid dates, zones and years", () => {
    expect(catchPec(() => toDatiData(new Date(NaN))).code).toBe("ERR_INVALID_ARGUMENT");
    expect(catchPec(() => toDatiData("2024-01-01" as unknown as Date)).code).toBe("ERR_INVALID_ARGUMENT");
    expect(catchPec(() => toDatiData(new Date(), "Mars/Olympus")).code).toBe("ERR_INVALID_ARGUMENT");
    expect(catchPec(() => toDatiData(new Date("+010000-01-01T00:00:00Z"))).code).toBe("ERR_INVALID_ARGUMENT");
  });

  it("is the inverse of daticertDate, to the second", () => {
    const zones = ["Europe/Rome", "UTC", "America/Sao_Paulo", "Asia/Kathmandu", "Pacific/Chatham"];
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2100, 0, 1) }), fc.constantFrom(...zones), (ms, zone) => {
        const d = toDatiData(new Date(ms), zone);
        expect(d.zona).toMatch(/^[+-]\d{4}$/);
        expect(d.giorno).toMatch(/^\d{2}\/\d{2}\/\d{4}$/);
        expect(d.ora).toMatch(/^\d{2}:\d{2}:\d{2}$/);
        expect(daticertDate(d)!.getTime()).toBe(Math.floor(ms / 1000) * 1000);
      }),
      { seed: 0x0dc6, numRuns: 300 },
    );
  });
});
