/**
 * Writing textops/sdpops binding cases once for both engines: statements are KSR calls with
 * string literals, which read the same in Lua and JS; `rc` records return codes in an X-Rc
 * header of the message sent on (or of a reply), so the peer sees them.
 */

/** Statements (one per line) for both engines: JS gets semicolons. */
export function both(...stmts: string[]): { lua: string; js: string } {
  return { lua: stmts.join('\n'), js: stmts.map((s) => `${s};`).join('\n') };
}

/** An X-Rc header, on what is sent on, with the results of these calls in order. */
export function rcLine(...exprs: string[]): string {
  return `KSR.hdr.append("X-Rc: " .. ${exprs.map((e) => `tostring(${e})`).join(' .. "," .. ')} .. "\\r\\n")`;
}

/** Statements with `rc(...)` lines: Lua as written, JS with `..` → `+`, tostring dropped. */
export function script(...stmts: string[]): { lua: string; js: string } {
  const js = stmts.map((s) => `${s.replace(/^local /, 'let ').replace(/tostring\(/g, 'String(').replace(/ \.\. /g, ' + ')};`);
  return { lua: stmts.join('\n'), js: js.join('\n') };
}

export const FORWARD = 'KSR.forward()';
