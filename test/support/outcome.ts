import { isPecError } from "../../src/errors.js";

/** A call's result, or its PecError, as comparable data (other errors are rethrown): for comparing a fast path with the general one. */
export function outcome(f: () => unknown): unknown {
  try {
    return { ok: JSON.stringify(f()) };
  } catch (e) {
    if (!isPecError(e)) throw e;
    return { code: e.code, message: e.message, details: JSON.stringify(e.details) };
  }
}
