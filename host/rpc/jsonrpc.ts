/**
 * JSON-RPC 2.0 (https://www.jsonrpc.org/specification) as Kamailio's jsonrpcs speaks it over
 * HTTP: one request or a batch per POST body, positional params, errors as error objects.
 */
import { describeError } from '../errors.js';
import { jsonTooDeep, tooDeepMessage } from '../json-depth.js';

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;
/** Server error (implementation-defined range -32000..-32099): a script reload that failed. */
export const RELOAD_FAILED = -32000;

/**
 * A request body nesting deeper is refused unparsed (PARSE_ERROR): control calls take flat
 * positional params, and nothing that walks a parsed value may meet a peer's 100,000 levels.
 */
export const MAX_REQUEST_DEPTH = 32;

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/** A method: positional params in, a JSON-serialisable result out (or an RpcError thrown). */
export type RpcMethod = (params: readonly unknown[]) => unknown;

export interface RpcMethodDef {
  readonly doc: string;
  readonly run: RpcMethod;
}

type Id = string | number | null;

interface ErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

type Response = { jsonrpc: '2.0'; id: Id; result: unknown } | { jsonrpc: '2.0'; id: Id; error: ErrorObject };

function errorResponse(id: Id, e: unknown): Response {
  if (e instanceof RpcError) {
    const error: ErrorObject = { code: e.code, message: e.message };
    if (e.data !== undefined) error.data = e.data;
    return { jsonrpc: '2.0', id, error };
  }
  return { jsonrpc: '2.0', id, error: { code: INTERNAL_ERROR, message: describeError(e) } };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

type Answer = Response | null;

/** A method's result as a Response: at once when it is a plain value, later when it is a promise. */
function settle(id: Id, run: () => unknown): Response | Promise<Response> {
  let out: unknown;
  try {
    out = run();
  } catch (e) {
    return errorResponse(id, e);
  }
  if (out instanceof Promise) {
    return (out as Promise<unknown>).then((v) => ({ jsonrpc: '2.0' as const, id, result: v ?? null }), (e: unknown) => errorResponse(id, e));
  }
  return { jsonrpc: '2.0', id, result: out ?? null };
}

/**
 * One request object; null for a notification (no answer). Synchronous unless the method
 * returns a promise (a reload), so KSR.jsonrpcs.exec can answer in the script's own call.
 */
function call(req: unknown, methods: ReadonlyMap<string, RpcMethodDef>): Answer | Promise<Answer> {
  if (!isObject(req)) return errorResponse(null, new RpcError(INVALID_REQUEST, 'a request must be an object'));
  const rawId = req.id;
  const notification = !('id' in req);
  const id: Id = typeof rawId === 'string' || typeof rawId === 'number' ? rawId : null;
  if (!notification && rawId !== null && id === null) return errorResponse(null, new RpcError(INVALID_REQUEST, 'id must be a string, a number or null'));
  if (req.jsonrpc !== '2.0') return errorResponse(id, new RpcError(INVALID_REQUEST, 'jsonrpc must be "2.0"'));
  if (typeof req.method !== 'string') return errorResponse(id, new RpcError(INVALID_REQUEST, 'method must be a string'));
  const p = req.params;
  // Kamailio takes params as an array or an object whose member names do not matter, only
  // their order (jsonrpcs docs, "JSONRPC Commands"); both arrive here as positional params.
  if (p !== undefined && !Array.isArray(p) && !isObject(p)) {
    return errorResponse(id, new RpcError(INVALID_PARAMS, 'params must be an array (positional, as Kamailio\'s RPC takes them) or an object (its values in order)'));
  }
  const params: unknown[] = p === undefined ? [] : Array.isArray(p) ? p : Object.values(p);
  const m = methods.get(req.method);
  const res = m === undefined
    ? errorResponse(id, new RpcError(METHOD_NOT_FOUND, `no method "${req.method}" (system.listMethods lists them)`))
    : settle(id, () => m.run(params));
  if (res instanceof Promise) return res.then((r) => (notification ? null : r));
  return notification ? null : res;
}

/** The parsed body, or the error answer for a body that is not JSON (or nests too deep). */
function parse(body: string, onTooDeep?: () => void): { ok: true; value: unknown } | { ok: false; answer: string } {
  if (jsonTooDeep(body, MAX_REQUEST_DEPTH)) {
    onTooDeep?.();
    return { ok: false, answer: JSON.stringify(errorResponse(null, new RpcError(PARSE_ERROR, `parse error: ${tooDeepMessage(MAX_REQUEST_DEPTH)}`))) };
  }
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch (e) {
    return { ok: false, answer: JSON.stringify(errorResponse(null, new RpcError(PARSE_ERROR, `parse error: ${describeError(e)}`))) };
  }
}

async function batch(reqs: readonly unknown[], methods: ReadonlyMap<string, RpcMethodDef>): Promise<string | null> {
  if (reqs.length === 0) return JSON.stringify(errorResponse(null, new RpcError(INVALID_REQUEST, 'empty batch')));
  const out: Response[] = [];
  // in order, one at a time: two reloads in one batch must not interleave
  for (const req of reqs) {
    const r = await call(req, methods);
    if (r !== null) out.push(r);
  }
  return out.length === 0 ? null : JSON.stringify(out);
}

/**
 * The body of a POST: the response body, or null when nothing is to be answered (notifications
 * only) — at once when every method called answers at once, else a promise. `onTooDeep` hears
 * of a body refused for nesting past MAX_REQUEST_DEPTH (for a statistic).
 */
export function answerJsonRpc(body: string, methods: ReadonlyMap<string, RpcMethodDef>, onTooDeep?: () => void): string | null | Promise<string | null> {
  const parsed = parse(body, onTooDeep);
  if (!parsed.ok) return parsed.answer;
  if (Array.isArray(parsed.value)) return batch(parsed.value, methods);
  const r = call(parsed.value, methods);
  if (r instanceof Promise) return r.then((x) => (x === null ? null : JSON.stringify(x)));
  return r === null ? null : JSON.stringify(r);
}

/** answerJsonRpc, always as a promise (the control listener). */
export function handleJsonRpc(body: string, methods: ReadonlyMap<string, RpcMethodDef>, onTooDeep?: () => void): Promise<string | null> {
  return Promise.resolve(answerJsonRpc(body, methods, onTooDeep));
}
