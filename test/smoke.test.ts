import { describe, expect, it } from "vitest";
import { PecError, isPecError } from "../src/errors.js";
import { decodeBase64, encodeBase64 } from "../src/util/base64.js";
import { readBytes, runtime } from "#files";
import { wildFiles } from "./support/wild.js";

describe("test rig", () => {
  it("runs in the expected runtime", () => {
    expect(["node", "browser"]).toContain(runtime);
    expect(typeof globalThis.crypto.subtle.digest).toBe("function");
  });

  it("reads project files through #files", async () => {
    const bytes = await readBytes("package.json");
    expect(new TextDecoder().decode(bytes)).toContain('"name": "postacert"');
  });

  it("sees the real samples when ../shared/wild exists", () => {
    if (wildFiles === null) return;
    expect(wildFiles.length).toBeGreaterThan(40);
  });
});

describe("PecError", () => {
  it("carries a stable code and details", () => {
    const e = new PecError("ERR_TOO_LARGE", "too big", { limit: 10 });
    expect(e).toBeInstanceOf(Error);
    expect(isPecError(e, "ERR_TOO_LARGE")).toBe(true);
    expect(isPecError(e, "ERR_TOO_DEEP")).toBe(false);
    expect(e.details.limit).toBe(10);
  });
});

describe("base64", () => {
  it("round-trips and tolerates whitespace, junk and bad padding", () => {
    const data = new Uint8Array(1000).map((_, i) => (i * 37) & 255);
    const b64 = encodeBase64(data, 76);
    expect(b64.split("\r\n")[0]!.length).toBe(76);
    expect(decodeBase64(b64)).toEqual(data);
    expect(decodeBase64("aGVs bG8\r\n=")).toEqual(new TextEncoder().encode("hello"));
    expect(decodeBase64("aGVsbG8==")).toEqual(new TextEncoder().encode("hello"));
    expect(encodeBase64(new TextEncoder().encode("hello"))).toBe("aGVsbG8=");
  });
});

describe("base64 chunks", () => {
  it("decodes concatenated, separately padded chunks", () => {
    expect(new TextDecoder().decode(decodeBase64("aGVsbG8=aGk="))).toBe("hellohi");
    expect(new TextDecoder().decode(decodeBase64("aGk=\r\naGk="))).toBe("hihi");
  });
});
