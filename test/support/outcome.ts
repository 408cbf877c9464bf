import { type PecErrorCode, isPecError } from "../../src/errors.js";

/** A call's result, or its PecError, as comparable data (other errors are rethrown): for comparing a fast path with the general one. */
export function outcome(f: () => unknown): unknown {
  try {
    return { ok: JSON.stringify(f()) };
  } catch (e) {
    if (!isPecError(e)) throw e;
    return { code: e.code, message: e.message, details: JSON.stringify(e.details) };
  }
}

/** The PecError code `f` throws, or undefined when it returns (other errors are rethrown). */
export function code(f: () => unknown): PecErrorCode | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (!isPecError(e)) throw e;
    return e.code;
  }
}

/** {@link code} for an async call: the PecError code it rejects with, or undefined when it resolves. */
export async function codeAsync(f: () => Promise<unknown>): Promise<PecErrorCode | undefined> {
  try {
    await f();
    return undefined;
  } catch (e) {
    if (!isPecError(e)) throw e;
    return e.code;
  }
}
