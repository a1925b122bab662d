/**
 * JSON-RPC 2.0 messages as jsonrpc-c sends and reads them: requests and notifications built as
 * text (the params the script gave are already JSON text, so they are not re-encoded), and the
 * check that an answer is a JSON-RPC response before its id is looked up.
 */
import { jsonTooDeep, stringEnd } from '../json-depth.js';

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
  | { id: unknown; ok: false; error: string }
  /** nested deeper than allowed: not parsed; `id` read from the top level when it is a number */
  | { id: number | undefined; ok: false; tooDeep: true };

/**
 * A response object: `id` and exactly one of `result` / `error` (JSON-RPC 2.0 §5). result and
 * error come back as JSON text, which is what the script gets. null when the frame is not a
 * response (not JSON, a batch, a request from the server…): a protocol error for the caller.
 * A frame nesting deeper than `maxDepth` (the response object is level 1) is not parsed at all.
 */
export function parseResponse(frame: string, maxDepth: number): Response | null {
  if (jsonTooDeep(frame, maxDepth)) return { id: topLevelId(frame), ok: false, tooDeep: true };
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

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/**
 * The numeric "id" member of a top-level JSON object, read without parsing the rest (which may
 * be nested too deeply to parse): which request a refused answer was for. Linear, no recursion.
 * undefined when the text is not an object or has no numeric id at its top level.
 */
export function topLevelId(text: string): number | undefined {
  let i = 0;
  const n = text.length;
  while (i < n && isSpace(text.charCodeAt(i))) i++;
  if (text[i] !== '{') return undefined;
  let depth = 0;
  let keyNext = false;
  for (; i < n; i++) {
    const ch = text[i];
    if (ch === '"') {
      const end = stringEnd(text, i);
      if (depth === 1 && keyNext && text.slice(i, end + 1) === '"id"') return numberAfterColon(text, end + 1);
      keyNext = false;
      i = end;
    } else if (ch === '{' || ch === '[') {
      depth++;
      keyNext = depth === 1;
    } else if (ch === '}' || ch === ']') depth--;
    else if (ch === ',' && depth === 1) keyNext = true;
  }
  return undefined;
}

/** `: 123` at `i` → 123 */
function numberAfterColon(text: string, i: number): number | undefined {
  const m = /^\s*:\s*(-?\d{1,15})\s*[,}]/.exec(text.slice(i, i + 40));
  return m === null ? undefined : Number(m[1]);
}
