/**
 * JSON-RPC 2.0 messages as jsonrpc-c sends and reads them: requests and notifications built as
 * text (the params the script gave are already JSON text, so they are not re-encoded), and the
 * check that an answer is a JSON-RPC response before its id is looked up.
 */

export type ParsedParams = { ok: true; text: string } | { ok: false; why: string };

/**
 * The script's params: JSON text of an object or an array (JSON-RPC 2.0 allows nothing else),
 * or "" for none. json-c, which Kamailio uses, also accepts single-quoted strings — the seed's
 * own example is `"{'id': 1234}"` — so a text that is not JSON is tried once more with its
 * single-quoted strings turned into JSON strings.
 */
export function parseParams(params: string): ParsedParams {
  const t = params.trim();
  if (t === '') return { ok: true, text: '' };
  let v: unknown;
  let text = t;
  try {
    v = JSON.parse(t);
  } catch (e) {
    const requoted = t.includes("'") ? singleToDoubleQuotes(t) : null;
    if (requoted === null) return { ok: false, why: `params are not JSON: ${(e as Error).message}` };
    try {
      v = JSON.parse(requoted);
      text = requoted;
    } catch {
      return { ok: false, why: `params are not JSON: ${(e as Error).message}` };
    }
  }
  if (typeof v !== 'object' || v === null) return { ok: false, why: 'params must be a JSON object or array (JSON-RPC 2.0), or "" for none' };
  return { ok: true, text };
}

/** 'a"b' → "a\"b"; double-quoted strings are copied as they are. null when a quote is unclosed. */
function singleToDoubleQuotes(s: string): string | null {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === '"' || c === "'") {
      let j = i + 1;
      let body = '';
      while (j < s.length && s[j] !== c) {
        if (s[j] === '\\' && j + 1 < s.length) {
          body += s.slice(j, j + 2);
          j += 2;
          continue;
        }
        body += c === "'" && s[j] === '"' ? '\\"' : (s[j] ?? '');
        j++;
      }
      if (j >= s.length) return null;
      out += `"${c === "'" ? body.replace(/\\'/g, "'") : body}"`;
      i = j + 1;
      continue;
    }
    out += c ?? '';
    i++;
  }
  return out;
}

function withParams(head: string, params: string): string {
  return params === '' ? `${head}}` : `${head},"params":${params}}`;
}

export function requestText(id: number, method: string, params: string): string {
  return withParams(`{"jsonrpc":"2.0","id":${String(id)},"method":${JSON.stringify(method)}`, params);
}

export function notificationText(method: string, params: string): string {
  return withParams(`{"jsonrpc":"2.0","method":${JSON.stringify(method)}`, params);
}

export type Response =
  | { id: unknown; ok: true; result: string }
  | { id: unknown; ok: false; error: string };

/**
 * A response object: `id` and exactly one of `result` / `error` (JSON-RPC 2.0 §5). result and
 * error come back as JSON text, which is what the script gets. null when the frame is not a
 * response (not JSON, a batch, a request from the server…): a protocol error for the caller.
 */
export function parseResponse(frame: string): Response | null {
  let v: unknown;
  try {
    v = JSON.parse(frame);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  if (!('id' in o) || ('jsonrpc' in o && o.jsonrpc !== '2.0')) return null;
  const hasResult = 'result' in o;
  const hasError = 'error' in o;
  if (hasResult === hasError) return null;
  return hasResult
    ? { id: o.id, ok: true, result: JSON.stringify(o.result) }
    : { id: o.id, ok: false, error: JSON.stringify(o.error) };
}
