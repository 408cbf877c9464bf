/**
 * Tree traversal without recursion.
 *
 * @module
 */
import type { MimeEntity } from "./types.js";

/** Options for {@link walkEntities}, {@link findEntity} and {@link findAllEntities}. */
export interface WalkOptions {
  /**
   * Whether to enter the message embedded in `message/rfc822` parts below the start
   * entity (the part itself is still visited). Default `true`.
   * Set it to `false` to stay within one message, e.g. to find a PEC envelope's own
   * `daticert.xml` without reaching the one inside `postacert.eml`.
   */
  intoMessages?: boolean;
}

function isMessage(e: MimeEntity): boolean {
  return e.contentType.type === "message" && e.multipart === undefined;
}

/**
 * Visits `root` and its descendants depth-first, in document order (pre-order), using an
 * explicit stack.
 *
 * @param root - where to start
 * @param options - see {@link WalkOptions}
 * @returns an iterator over the entities
 *
 * @example
 * ```ts
 * const root = parseMime(bytes);
 * for (const e of walkEntities(root)) console.log(e.path.join("."), e.contentType.mimeType);
 * ```
 */
export function* walkEntities(root: MimeEntity, options: WalkOptions = {}): Generator<MimeEntity, void, undefined> {
  const into = options.intoMessages ?? true;
  const stack: MimeEntity[] = [root];
  while (stack.length > 0) {
    const e = stack.pop()!;
    yield e;
    if (!into && e !== root && isMessage(e)) continue;
    for (let i = e.children.length - 1; i >= 0; i--) stack.push(e.children[i]!);
  }
}

/**
 * The first entity, in document order, for which `predicate` is true.
 *
 * @param root - where to start (included)
 * @param predicate - the test
 * @param options - see {@link WalkOptions}
 * @returns the entity, or `undefined`
 *
 * @example
 * ```ts
 * const root = parseMime(bytes);
 * const daticert = findEntity(root, (e) => e.filename?.toLowerCase() === "daticert.xml", { intoMessages: false });
 * ```
 */
export function findEntity(
  root: MimeEntity,
  predicate: (entity: MimeEntity) => boolean,
  options?: WalkOptions,
): MimeEntity | undefined {
  for (const e of walkEntities(root, options)) if (predicate(e)) return e;
  return undefined;
}

/**
 * Every entity, in document order, for which `predicate` is true.
 *
 * @param root - where to start (included)
 * @param predicate - the test
 * @param options - see {@link WalkOptions}
 * @returns the entities
 *
 * @example
 * ```ts
 * const root = parseMime(bytes);
 * const xmlParts = findAllEntities(root, (e) => e.contentType.mimeType.endsWith("/xml"));
 * ```
 */
export function findAllEntities(
  root: MimeEntity,
  predicate: (entity: MimeEntity) => boolean,
  options?: WalkOptions,
): MimeEntity[] {
  const out: MimeEntity[] = [];
  for (const e of walkEntities(root, options)) if (predicate(e)) out.push(e);
  return out;
}
