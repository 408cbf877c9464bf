/**
 * Argument checks on arrays. Not part of the public API.
 *
 * @module
 * @internal
 */

/**
 * Whether `v` is an array without holes. `every`, `some`, `map` and `forEach` skip holes, so an
 * array such as `[, , x]` passed their checks and then failed as a TypeError deep inside.
 *
 * @internal
 */
export function isDenseArray(v: unknown): v is readonly unknown[] {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!(i in v)) return false;
  return true;
}
