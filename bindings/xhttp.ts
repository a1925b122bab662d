/**
 * KSR.xhttp: the embedded HTTP server routing requests to the script (Kamailio's xhttp). Every
 * request on the HTTP listener that passes url_skip / url_match runs
 * `<event_callback>("xhttp:request")`; the script answers with KSR.xhttp.xhttp_reply(). The
 * request handling itself (body cap, default replies, hold/resume) is in xhttp-exchange.ts.
 */
import { z } from 'zod';
import type { Context } from '../host/kemi/context.js';
import { deferrable, defineModule, fn, type PvDef, type Xval } from '../host/kemi/types.js';
import { compileLinear, type Matcher } from '../host/safe-regex.js';
import { XhttpServer, type XhttpApi } from './xhttp-exchange.js';

/** url_skip / url_match: RE2 syntax, linear time (a peer's URL cannot stall a backtracking match) */
function regexParam(doc: string) {
  return z
    .string()
    .superRefine((s, c) => {
      if (s === '') return;
      const r = compileLinear(s, false);
      if (!r.ok) c.addIssue({ code: 'custom', message: `not a regular expression RE2 can run (no backreferences or lookaround): ${r.why}` });
    })
    .default('')
    .describe(doc);
}

function urlMatcher(s: string): Matcher | null {
  if (s === '') return null;
  const r = compileLinear(s, false);
  // validated by the schema; a failure here would be a bug, not a config error
  if (!r.ok) throw new Error(`xhttp: ${r.why}`);
  return r.re;
}

const params = z
  .object({
    url_skip: regexParam(
      'Regular expression (RE2 syntax, linear time; unanchored, case-sensitive) tested on the normalised URL: the path with %-encoded unreserved characters decoded, repeated "/" merged and "." / ".." segments resolved, then the query string as received (so /api//x, /api/%78 and /api/./x are all /api/x; Kamailio tests the raw URL, see docs/decisions.md). A request it matches does not run the event callback and gets 404. Checked before url_match, and wins over it. Empty: skip nothing.',
    ),
    url_match: regexParam(
      'Regular expression (RE2 syntax) tested on the normalised URL, as url_skip: a request it does not match does not run the event callback and gets 404. Empty: match everything.',
    ),
    event_callback: z
      .string()
      .default('')
      .describe(
        'The script function run for each HTTP request, with the one argument "xhttp:request" (Kamailio\'s usual name: ksr_xhttp_event). Empty: every request gets 404, with one warning at start-up.',
      ),
    max_body_bytes: z
      .number()
      .int()
      .min(0)
      .max(67_108_864)
      .default(1_048_576)
      .describe('Largest request body read for the script; a larger one gets 413 and the connection is closed (chunked bodies are counted as they arrive, never buffered past this).'),
    suspend_timeout_ms: z
      .number()
      .int()
      .min(1)
      .default(30_000)
      .describe('How long an async module may hold a request before it gets 504 Gateway Timeout; a later resume then finds it gone.'),
    send_timeout_ms: z
      .number()
      .int()
      .min(100)
      .default(30_000)
      .describe('A client that has not taken its whole reply after this long is disconnected (a slow reader cannot keep the connection and its buffer).'),
  })
  .strict();


/** Characters node (and RFC 9112) refuse in a reason phrase; checked first so -1 is certain. */
const BAD_REASON = /[^\t\x20-\x7e\x80-\xff]/;

/** Kamailio accepts 100..700; a 1xx cannot end an HTTP exchange, and 700 is not a status. */
function validStatus(code: number, reason: string): boolean {
  return Number.isInteger(code) && code >= 200 && code <= 699 && reason !== '' && !BAD_REASON.test(reason);
}

function xhttpReply(s: XhttpServer, ctx: Context, code: number, reason: string, ctype: string, body: string): number {
  const ex = s.exchangeOf(ctx);
  if (ex === null || !validStatus(code, reason)) return -1;
  return ex.answer(code, reason, ctype, body) ? 1 : -1;
}

/**
 * What xhttpReply will return, without replying (KemiFunctionDef.predict). It reads whether
 * the request was answered and the headers the script added, which later calls change: it
 * holds only while nothing has changed. Not in an xhttp request: not predicted (-1 at once).
 */
function predictReply(s: XhttpServer, ctx: Context, args: readonly unknown[]): number | undefined {
  const ex = s.exchangeOf(ctx);
  if (ex === null) return undefined;
  if (!validStatus(Number(args[0]), String(args[1]))) return -1;
  return ex.canAnswer() && ex.headersFor(String(args[2])) !== null ? 1 : -1;
}

/** $hu: the HTTP URL; for a SIP request, its Request-URI as received (Kamailio reads the first line). */
function hu(ctx: Context): string | null {
  if (ctx.http !== null) return ctx.http.url;
  return ctx.msg?.isRequest === true ? ctx.msg.ruri : null;
}

/** Kamailio's {url.path} / {url.querystring} transformations (xhttp_trans.c) on $hu. */
function urlPart(ctx: Context, part: 'path' | 'querystring'): Xval {
  const url = hu(ctx);
  if (url === null) return null;
  const q = url.indexOf('?');
  if (part === 'path') return q < 0 ? url : url.slice(0, q);
  return q < 0 ? '' : url.slice(q + 1);
}

const pv = (get: (ctx: Context) => Xval, doc: string): PvDef<XhttpServer> => ({ get: (_s, ctx) => get(ctx), doc });

export default defineModule({
  name: 'xhttp',
  doc: 'The embedded HTTP server: requests run the event_callback; the script replies with xhttp_reply.',
  params,
  stats: ['requests', 'replies', 'default_replies', 'errors', 'timeouts', 'not_found', 'too_large', 'dropped'],
  init: (host, raw): XhttpServer => {
    const p = params.parse(raw);
    const server = new XhttpServer(
      {
        callback: p.event_callback,
        skip: urlMatcher(p.url_skip),
        match: urlMatcher(p.url_match),
        maxBodyBytes: p.max_body_bytes,
        suspendTimeoutMs: p.suspend_timeout_ms,
        sendTimeoutMs: p.send_timeout_ms,
      },
      {
        requests: host.stat('requests'),
        replies: host.stat('replies'),
        defaultReplies: host.stat('default_replies'),
        errors: host.stat('errors'),
        timeouts: host.stat('timeouts'),
        notFound: host.stat('not_found'),
        tooLarge: host.stat('too_large'),
        dropped: host.stat('dropped'),
      },
      host.script,
      host.log,
      host.boundary,
    );
    if (host.http !== null) {
      host.http.setHandler(server.handle);
      if (p.event_callback === '') host.log.warn('xhttp: no event_callback configured; every HTTP request gets 404');
    }
    return server;
  },
  close: (s: XhttpServer) => { s.close(); },
  // jsonrpcs answers an xhttp request itself (KSR.jsonrpcs.dispatch)
  api: (s: XhttpServer): XhttpApi => ({ exchangeOf: (ctx) => s.exchangeOf(ctx) }),
  functions: {
    xhttp_reply: deferrable(fn(['int', 'str', 'str', 'str'], 'int', (s: XhttpServer, ctx, code, reason, ctype, body) => xhttpReply(s, ctx, code, reason, ctype, body),
      'Reply to the current HTTP request: status code (200..699), reason phrase (not empty), Content-Type ("" for none), body; headers added with KSR.hdr.append_to_reply() go with it. 1 sent; -1 when not in an xhttp request, already replied, the client is gone, or the code, reason or a header is invalid (nothing sent). Kamailio\'s KEMI variant returns 0 on success; here 1, since 0 means "stop the script" in KEMI\'s convention.'),
    (s: XhttpServer, ctx, args) => predictReply(s, ctx, args), 'while unchanged'),
    get_hu: fn([], 'xval', (_s: XhttpServer, ctx) => hu(ctx),
      'The URL of the current HTTP request (path and query string, as received), like $hu; a SIP request\'s Request-URI; null otherwise. For the path or the query string alone use KSR.pv.get("$(hu{url.path})") / KSR.pv.get("$(hu{url.querystring})"), Kamailio\'s KEMI way, which works here too (so no separate getters).'),
  },
  pvs: {
    hu: pv(hu, 'the URL of the HTTP request (path and query string, as received); a SIP request\'s Request-URI'),
    // Kamailio's KSR.pv.get() applies transformations; kemihost has no general transformation
    // support yet, so the two xhttp defines on $hu are declared under their full spelling.
    'hu{url.path}': pv((ctx) => urlPart(ctx, 'path'), 'as $(hu{url.path}): the URL up to "?"'),
    'hu{url.querystring}': pv((ctx) => urlPart(ctx, 'querystring'), 'as $(hu{url.querystring}): the URL after "?", "" when there is none'),
  },
});
