/**
 * KSR.jsonrpcs: the control RPC (host/rpc) run from the script, as Kamailio's jsonrpcs module
 * does it. `dispatch` answers the current xhttp request with the JSON-RPC request in its body
 * (Kamailio's examples serve /RPC from `event_route[xhttp:request]` this way); `exec` runs a
 * JSON-RPC document given as a string and keeps the answer for $jsonrpl(code|text|body) and
 * `response()`. Both use the same method table as the control listener (rpc.listen).
 */
import type { Context } from '../host/kemi/context.js';
import { holdMessage } from '../host/kemi/owner.js';
import { defineModule, fn, type ModuleHost, type PvDef, type Xval } from '../host/kemi/types.js';
import { jsonTooDeep } from '../host/json-depth.js';
import { answerJsonRpc, MAX_REQUEST_DEPTH } from '../host/rpc/jsonrpc.js';
import type { XhttpApi } from './xhttp-exchange.js';

/** The last answer of exec (Kamailio's _jsonrpc_plain_reply): one per runtime, as one per process there. */
interface PlainReply {
  code: number;
  text: string;
  body: string | null;
}

interface State {
  readonly host: ModuleHost;
  readonly xhttp: XhttpApi | null;
  last: PlainReply;
}

/** An async method's answer (a reload) under exec: started, its outcome not known in the call. */
const ACCEPTED = 202;

/**
 * Kamailio's status for an answer: 200, or 500 with the error's message as the reason when the
 * method failed (jsonrpc_fault: a code <= 100 becomes 500). A batch or a notification: 200.
 */
function statusOf(body: string | null): { code: number; text: string } {
  if (body === null || body.startsWith('[')) return { code: 200, text: 'OK' };
  const parsed = JSON.parse(body) as { error?: { message?: unknown } };
  if (parsed.error === undefined) return { code: 200, text: 'OK' };
  const msg = typeof parsed.error.message === 'string' ? parsed.error.message : '';
  // a reason phrase: printable, no CR/LF, at most Kamailio's 128-byte buffer
  const text = msg.replace(/[^\x20-\x7e]/g, ' ').slice(0, 127).trim();
  return { code: 500, text: text === '' ? 'Internal Server Error' : text };
}

function dispatch(s: State, ctx: Context): number {
  const ex = s.xhttp?.exchangeOf(ctx) ?? null;
  if (ex === null || ctx.http === null) {
    s.host.complain('KSR.jsonrpcs.dispatch: not an xhttp request (call it from the xhttp event callback)');
    return -1;
  }
  if (!ex.canAnswer()) {
    s.host.complain('KSR.jsonrpcs.dispatch: the HTTP request was already answered');
    return -1;
  }
  const out = answerJsonRpc(ctx.http.body.toString('utf8'), s.host.controlRpc());
  if (!(out instanceof Promise)) return send(s, ex, out) ? 1 : -1;
  // a reload: keep the request past the callback and answer when it is done
  const hold = holdMessage(ctx);
  if (typeof hold === 'string') {
    s.host.complain(`KSR.jsonrpcs.dispatch: ${hold}`);
    return -1;
  }
  s.host.boundary.then(out, 'module-promise', (body) => { send(s, ex, body); }, (e: unknown) => {
    s.host.boundary.caught('module-promise', e);
    ex.finish(500, 'Internal Server Error');
  });
  return 1;
}

function send(s: State, ex: NonNullable<ReturnType<XhttpApi['exchangeOf']>>, body: string | null): boolean {
  if (body === null) return ex.answer(204, 'No Content', '', '');
  const { code, text } = statusOf(body);
  return ex.answer(code, text, 'application/json', body);
}

function exec(s: State, _ctx: Context, cmd: string): number {
  if (cmd.trim() === '') {
    s.host.complain('KSR.jsonrpcs.exec: empty command');
    return -1;
  }
  if (!isJson(cmd)) {
    // Kamailio logs "invalid json doc" and returns -1 without touching $jsonrpl
    s.host.complain('KSR.jsonrpcs.exec: the command is not a JSON document');
    return -1;
  }
  const out = answerJsonRpc(cmd, s.host.controlRpc());
  if (out instanceof Promise) {
    s.host.boundary.then(out, 'module-promise', () => undefined, (e: unknown) => { s.host.boundary.caught('module-promise', e); });
    s.last = { code: ACCEPTED, text: 'Accepted', body: null };
    return 1;
  }
  s.last = { ...statusOf(out), body: out };
  return 1;
}

function isJson(text: string): boolean {
  if (jsonTooDeep(text, MAX_REQUEST_DEPTH)) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function jsonrpl(s: State, key: string): Xval {
  if (key === 'code') return s.last.code;
  if (key === 'text') return s.last.text === '' ? null : s.last.text;
  if (key === 'body') return s.last.body;
  return null;
}

const jsonrplPv: PvDef<State> = {
  get: (s, _ctx, key) => jsonrpl(s, key),
  param: true,
  doc: '$jsonrpl(code|text|body): the last KSR.jsonrpcs.exec answer — 200 / 500 (a failed method) / 202 (an asynchronous method such as a reload, started), its reason text, the JSON-RPC response document',
};

export default defineModule({
  name: 'jsonrpcs',
  doc: 'The control RPC from the script: answer an xhttp request with it (dispatch), or run a command (exec).',
  init: (host): State => ({ host, xhttp: (host.api('xhttp') as XhttpApi | undefined) ?? null, last: { code: 0, text: '', body: null } }),
  functions: {
    dispatch: fn([], 'int', dispatch,
      'Answer the current xhttp request with the JSON-RPC request in its body, run on the control RPC methods (rpc.listen\'s): 200 application/json with the response, 500 with the error\'s message as reason when the method failed, 204 for notifications; a reload is answered when done. 1 handled; -1 when not in an xhttp request or it was already answered.'),
    exec: fn(['str'], 'int', exec,
      'Run a JSON-RPC request document; the answer goes to $jsonrpl(code|text|body) and KSR.jsonrpcs.response(). An asynchronous method (a reload) is started and gives code 202, no body. 1 run; -1 when the command is empty or not JSON.'),
    execx: fn(['str'], 'int', exec, 'As exec (Kamailio exports both names for the same function).'),
    response: fn([], 'xval', (s: State) => s.last.body ?? '',
      'The response document of the last exec; "" when there is none (Kamailio\'s empty-string null).'),
  },
  pvs: { jsonrpl: jsonrplPv },
});
