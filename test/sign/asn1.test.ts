import * as asn1js from "asn1js";
import { describe, expect, it } from "vitest";
import { isPecError } from "../../src/errors.js";
import {
  TAG,
  cons,
  encodeBer,
  encodeDer,
  int,
  octets,
  oid,
  oidString,
  oidValue,
  prim,
  readChildren,
  readTlv,
  seq,
  setOf,
  time,
  uintValue,
} from "../../src/smime/asn1-der.js";
import { berToDer, toHex } from "./helpers.js";

describe("DER writer", () => {
  it("encodes OIDs like asn1js and decodes them back", () => {
    for (const o of ["1.2.840.113549.1.7.2", "2.5.29.15", "1.3.76.16.3.1.1", "2.999.3", "0.9.2342.19200300.100.1.1", "1.3.6.1.4.1.16572.2.2.1"]) {
      const mine = encodeDer(oid(o));
      expect(toHex(mine)).toBe(toHex(new Uint8Array(new asn1js.ObjectIdentifier({ value: o }).toBER())));
      expect(oidString(oidValue(o))).toBe(o);
    }
    for (const bad of ["", "1", "3.1", "1.40", "1.a"]) {
      let e: unknown;
      try {
        oidValue(bad);
      } catch (x) {
        e = x;
      }
      expect(isPecError(e, "ERR_INVALID_ARGUMENT"), bad).toBe(true);
    }
  });

  it("encodes unsigned integers minimally with a sign octet when needed", () => {
    expect(toHex(uintValue(new Uint8Array([0, 0, 1])))).toBe("01");
    expect(toHex(uintValue(new Uint8Array([0x80])))).toBe("0080");
    expect(toHex(uintValue(new Uint8Array([0, 0])))).toBe("00");
    expect(toHex(encodeDer(int(0)))).toBe("020100");
    expect(toHex(encodeDer(int(128)))).toBe("02020080");
    expect(toHex(encodeDer(int(65537)))).toBe("0203010001");
  });

  it("writes short and long lengths", () => {
    for (const n of [0, 1, 127, 128, 255, 256, 65535, 65536, 70000]) {
      const der = encodeDer(octets(new Uint8Array(n)));
      const t = readTlv(der, 0)!;
      expect(t.end - t.contentStart).toBe(n);
      expect(t.end).toBe(der.length);
      expect(toHex(der.subarray(0, t.contentStart))).toBe(toHex(new Uint8Array(new asn1js.OctetString({ valueHex: new Uint8Array(n) }).toBER()).subarray(0, t.contentStart)));
    }
  });

  it("sorts SET OF by encoding, shorter prefix first", () => {
    const a = octets(new Uint8Array([1, 2]));
    const b = octets(new Uint8Array([1]));
    const c = int(5);
    const der = encodeDer(setOf([a, b, c]));
    const kids = readChildren(der, readTlv(der, 0)!)!.map((k) => toHex(der.subarray(k.start, k.end)));
    expect(kids).toEqual(["020105", "040101", "04020102"]);
  });

  it("writes UTCTime to 2049 and GeneralizedTime after, without fractions", () => {
    expect(new TextDecoder().decode(encodeDer(time(new Date("2024-02-03T04:05:06.789Z"))).subarray(2))).toBe("240203040506Z");
    expect(encodeDer(time(new Date("2024-02-03T04:05:06Z")))[0]).toBe(TAG.UTC_TIME);
    expect(encodeDer(time(new Date("1950-01-01T00:00:00Z")))[0]).toBe(TAG.UTC_TIME);
    const g = encodeDer(time(new Date("2050-01-01T00:00:00Z")));
    expect(g[0]).toBe(TAG.GENERALIZED_TIME);
    expect(new TextDecoder().decode(g.subarray(2))).toBe("20500101000000Z");
    expect(encodeDer(time(new Date("1949-12-31T23:59:59Z")))[0]).toBe(TAG.GENERALIZED_TIME);
  });

  it("BER: indefinite lengths and chunked strings that reduce to the DER", () => {
    const payload = new Uint8Array(2500).map((_, i) => i & 0xff);
    const tree = cons(TAG.SEQUENCE, [oid("1.2.3"), cons(0xa0, [{ tag: TAG.OCTET_STRING, value: payload, chunk: 1000 }], true), seq(int(1))], true);
    const ber = encodeBer(tree);
    const der = encodeDer(tree);
    expect(toHex(ber.subarray(0, 2))).toBe("3080");
    expect(toHex(ber.subarray(-2))).toBe("0000");
    expect(toHex(berToDer(ber))).toBe(toHex(der));
    // A definite node around indefinite children gets its length right.
    const wrapped = encodeBer(seq(tree, prim(TAG.NULL, new Uint8Array(0))));
    const t = readTlv(wrapped, 0)!;
    expect(t.end).toBe(wrapped.length);
    expect(toHex(berToDer(wrapped))).toBe(toHex(encodeDer(seq(tree, prim(TAG.NULL, new Uint8Array(0))))));
    expect(asn1js.fromBER(ber.slice()).offset).toBe(ber.length);
  });

  it("reads TLVs defensively", () => {
    expect(readTlv(new Uint8Array([0x30]), 0)).toBeUndefined();
    expect(readTlv(new Uint8Array([0x30, 0x05, 0x00]), 0)).toBeUndefined();
    expect(readTlv(new Uint8Array([0x30, 0x80, 0x00, 0x00]), 0)).toBeUndefined();
    expect(readTlv(new Uint8Array([0x1f, 0x01, 0x00]), 0)).toBeUndefined();
    const bad = new Uint8Array([0x30, 0x03, 0x02, 0x05, 0x00]);
    expect(readChildren(bad, readTlv(bad, 0)!)).toBeUndefined();
  });
});
