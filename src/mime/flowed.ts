/**
 * RFC 3676 `format=flowed` text, unwrapped for display as mail clients show it. Internal.
 *
 * @module
 * @internal
 */

/**
 * The paragraphs of a `text/plain; format=flowed` body: a line ending with a space (a soft
 * break; the signature separator `-- ` aside) joins the next line of the same quote depth;
 * a leading space added by space-stuffing goes; with `delsp=yes` the soft break's space goes
 * too. Quoted lines keep their `>` marks. Linear in the text.
 *
 * @internal
 */
export function unflow(text: string, delsp: boolean): string {
  const lines = text.split(/\r\n|\n/);
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const out: string[] = [];
  let open: { depth: number; parts: string[] } | undefined;
  const close = (): void => {
    if (!open) return;
    out.push(">".repeat(open.depth) + (open.depth > 0 ? " " : "") + open.parts.join(""));
    open = undefined;
  };
  for (let k = 0; k < lines.length; k++) {
    let line = lines[k]!;
    let depth = 0;
    while (depth < line.length && line.charCodeAt(depth) === 0x3e) depth++;
    line = line.slice(depth);
    if (line.charCodeAt(0) === 0x20) line = line.slice(1); // space-stuffing
    if (open && open.depth !== depth) close();
    const soft = line.length > 0 && line.charCodeAt(line.length - 1) === 0x20 && line !== "-- ";
    const part = soft && delsp ? line.slice(0, -1) : line;
    if (open) open.parts.push(part);
    else open = { depth, parts: [part] };
    if (!soft) close();
  }
  close();
  return out.join(eol);
}
