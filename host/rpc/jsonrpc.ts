/**
 * JSON-RPC 2.0 (https://www.jsonrpc.org/specification) as Kamailio's jsonrpcs speaks it over
 * HTTP: one request or a batch per POST body, positional params, errors as error objects.
 */
import { describeError } from '../errors.js';

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;
/** Server error (implementation-defined range -32000..-32099): a script reload that failed. */
export const RELOAD_FAILED = -32000;

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

/** One request object; null for a notification (no answer). */
async function call(req: unknown, methods: ReadonlyMap<string, RpcMethodDef>): Promise<Response | null> {
  if (!isObject(req)) return errorResponse(null, new RpcError(INVALID_REQUEST, 'a request must be an object'));
  const rawId = req.id;
  const notification = !('id' in req);
  const id: Id = typeof rawId === 'string' || typeof rawId === 'number' ? rawId : null;
  if (!notification && rawId !== null && id === null) return errorResponse(null, new RpcError(INVALID_REQUEST, 'id must be a string, a number or null'));
  if (req.jsonrpc !== '2.0') return errorResponse(id, new RpcError(INVALID_REQUEST, 'jsonrpc must be "2.0"'));
  if (typeof req.method !== 'string') return errorResponse(id, new RpcError(INVALID_REQUEST, 'method must be a string'));
  const params = req.params;
  if (params !== undefined && !Array.isArray(params)) {
    return errorResponse(id, new RpcError(INVALID_PARAMS, 'params must be an array (positional, as Kamailio\'s RPC takes them)'));
  }
  const m = methods.get(req.method);
  let res: Response;
  if (m === undefined) {
    res = errorResponse(id, new RpcError(METHOD_NOT_FOUND, `no method "${req.method}" (system.listMethods lists them)`));
  } else {
    try {
      res = { jsonrpc: '2.0', id, result: (await m.run((params ?? []) as unknown[])) ?? null };
    } catch (e) {
      res = errorResponse(id, e);
    }
  }
  return notification ? null : res;
}

/** The body of a POST: the response body, or null when nothing is to be answered (notifications only). */
export async function handleJsonRpc(body: string, methods: ReadonlyMap<string, RpcMethodDef>): Promise<string | null> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (e) {
    return JSON.stringify(errorResponse(null, new RpcError(PARSE_ERROR, `parse error: ${describeError(e)}`)));
  }
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) return JSON.stringify(errorResponse(null, new RpcError(INVALID_REQUEST, 'empty batch')));
    const out: Response[] = [];
    // in order, one at a time: two reloads in one batch must not interleave
    for (const req of parsed) {
      const r = await call(req, methods);
      if (r !== null) out.push(r);
    }
    return out.length === 0 ? null : JSON.stringify(out);
  }
  const r = await call(parsed, methods);
  return r === null ? null : JSON.stringify(r);
}
