/** Every value of an async iterable, in order (Array.fromAsync, which Node 20 lacks). */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}
