/**
 * `kemihost rpc <method> [params…]`: one JSON-RPC call to a running server's control listener,
 * the way `kamcmd`/`kamctl rpc` talk to Kamailio. Params that read as JSON (numbers, true,
 * false, null, quoted strings, arrays, objects) are sent as such; anything else as a string.
 */
import { describeError } from '../errors.js';
import { jsonTooDeep, tooDeepMessage } from '../json-depth.js';

/** the answer is printed with JSON.stringify, which recurses: a server cannot make it overflow */
const MAX_ANSWER_DEPTH = 256;

export interface RpcCallOptions {
  /** host:port of the control listener */
  readonly address: string;
  readonly token: string | null;
  readonly timeoutMs: number;
}

export interface RpcReply {
  /** the JSON-RPC response: { result } or { error: { code, message, data? } } */
  readonly result?: unknown;
  readonly error?: { readonly code: number; readonly message: string; readonly data?: unknown };
}

export function parseParam(s: string): unknown {
  if (/^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null|".*"|\[.*\]|\{.*\})$/s.test(s)) {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      return s;
    }
  }
  return s;
}

/** Call one method. Throws Error with a readable message when the server cannot be reached or answers something else. */
export async function callRpc(opts: RpcCallOptions, method: string, params: readonly unknown[]): Promise<RpcReply> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (opts.token !== null) headers.Authorization = `Bearer ${opts.token}`;
  let res: Response;
  try {
    res = await fetch(`http://${opts.address}/RPC`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
  } catch (e) {
    const cause = e instanceof Error && e.cause !== undefined ? `: ${describeError(e.cause)}` : '';
    throw new Error(`cannot reach the control RPC at ${opts.address}: ${describeError(e)}${cause}`);
  }
  const text = await res.text();
  if (res.status === 401) throw new Error(`the control RPC at ${opts.address} refused the call: a token is needed (--token, KEMIHOST_RPC_TOKEN or rpc.token in -c config)`);
  if (res.status !== 200) throw new Error(`the control RPC at ${opts.address} answered HTTP ${String(res.status)}: ${text.trim()}`);
  if (jsonTooDeep(text, MAX_ANSWER_DEPTH)) throw new Error(`the control RPC at ${opts.address} answered ${tooDeepMessage(MAX_ANSWER_DEPTH)}`);
  try {
    return JSON.parse(text) as RpcReply;
  } catch {
    throw new Error(`the control RPC at ${opts.address} answered something that is not JSON`);
  }
}

/** What the command prints: a string result as is, anything else as indented JSON. */
export function formatResult(result: unknown): string {
  return typeof result === 'string' ? `${result}\n` : `${JSON.stringify(result, null, 2)}\n`;
}
