// The sample of docs/limits.md (checked by test/docs/guides.node.test.ts): reading with tight limits.
const bytes = new Uint8Array(2 << 20);
import { readPec } from "postacert/pec";
import { isPecError } from "postacert";

try {
  readPec(bytes, { maxSize: 1 << 20, maxParts: 50 });
} catch (e) {
  if (isPecError(e, "ERR_TOO_LARGE")) console.log("refused, limit", e.details.limit);
}
export {};
