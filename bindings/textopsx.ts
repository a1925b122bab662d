/**
 * KSR.textopsx: msg_apply_changes, reply status changes, body removal, header keep/value lists,
 * fnmatch (Kamailio src/modules/textopsx). The header and body iterators are not here
 * (docs/textops.md).
 */
import type { Context } from '../host/kemi/context.js';
import { defineModule, fn } from '../host/kemi/types.js';
import { parseSipMessage } from '../host/sip/message.js';
import { canonicalHeaderName } from '../host/sip/header-names.js';
import { addEdits, applyChanges, replaceBody } from '../host/textops/edit.js';
import { headerSpans, headText, type HeaderSpan } from '../host/sip/header-spans.js';
import { bytes, pattern } from '../host/textops/patterns.js';
import { done, re } from './textops-edit.js';
import { removeLines } from './textops-hf.js';
import { iteratorFunctions, iteratorPvs, type IteratorState } from './textopsx-iterators.js';

type State = IteratorState;

/** The headers keep_hf never removes (Kamailio's list). */
const KEPT = new Set(['from', 'to', 'call-id', 'cseq', 'via', 'contact', 'content-length', 'content-type', 'route', 'record-route', 'max-forwards']);

function keepHf(s: State, ctx: Context, source: string | null): number {
  const msg = ctx.msg;
  if (msg === null) return -1;
  const finder = source === null ? null : re(s, source);
  if (source !== null && finder === null) return -1;
  removeLines(s, ctx, headerSpans(msg).filter((h) => !KEPT.has(h.name) && (finder === null || finder.find(h.rawName, 0) === null)));
  // Kamailio 5.6's keep_hf answers -1 even when it removed headers
  return -1;
}

/** change_reply_status: the status (and reason) of the reply relayed; the class may change only among 3xx-6xx. */
function changeStatus(s: State, ctx: Context, code: number, reason: string | null): number {
  const msg = ctx.msg;
  if (msg === null || msg.isRequest) return -1;
  if (code < 100 || code > 699) {
    s.host.complain('wrong status code', { code });
    return -1;
  }
  if ((code < 300 || msg.status < 300) && Math.floor(code / 100) !== Math.floor(msg.status / 100)) {
    s.host.complain('the status class of a 1xx or 2xx reply cannot change', { from: msg.status, to: code });
    return -1;
  }
  if (reason !== null && (reason === '' || /[\r\n]/.test(reason))) return -1;
  const head = headText(msg);
  const eol = head.indexOf('\r\n');
  const at = 'SIP/2.0 '.length;
  if (eol < 0 || !head.startsWith('SIP/2.0 ')) return -1;
  // the status code keeps its 3 digits; with a reason the rest of the line goes too
  const lump = reason === null ? { start: at, end: at + 3, text: String(code) } : { start: at, end: eol, text: `${String(code)} ${bytes(reason)}` };
  return done(s, addEdits(ctx, [lump]));
}

/**
 * fnmatch(3) without flags as a regular expression: * ? and [...] classes ([!...] negated),
 * \ escapes. It runs in the linear-time engine: a pattern like *a*a*a*b cannot backtrack.
 */
function globSource(expr: string): string {
  let out = '^';
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i] as string;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '\\' && i + 1 < expr.length) out += quote(expr[++i] ?? '');
    else if (c === '[') {
      const end = expr.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        let body = expr.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        out += `[${body}]`;
        i = end;
      }
    } else out += quote(c);
  }
  return `${out}$`;
}

function quote(c: string): string {
  // RE2 takes a backslash before ASCII punctuation only
  return /[!-/:-@[-`{-~]/.test(c) ? `\\${c}` : c;
}

function fnmatch(s: State, value: string, expr: string, flags: string): number {
  // newline: false — `.` (from * and ?) matches any byte, ^ and $ are the ends of the value
  const c = pattern(globSource(expr), { icase: flags.includes('i'), newline: false });
  if (!c.ok) {
    s.host.complain('invalid fnmatch pattern', { expr, why: c.why });
    return -1;
  }
  return c.re.find(bytes(value), 0) === null ? -1 : 1;
}

/** The comma-separated values of every header of that name (byte strings), with the header's line. */
function values(ctx: Context, name: string): { span: HeaderSpan; items: string[] }[] {
  const msg = ctx.msg;
  if (msg === null) return [];
  const want = canonicalHeaderName(name.trim());
  const head = headText(msg);
  return headerSpans(msg).filter((h) => h.name === want).map((span) => ({
    span,
    items: head.slice(span.valueStart, span.end).split(',').map((v) => v.trim()).filter((v) => v !== ''),
  }));
}

function hfValueExists(ctx: Context, name: string, value: string): number {
  const v = bytes(value.trim()).toLowerCase();
  return values(ctx, name).some((h) => h.items.some((i) => i.toLowerCase() === v)) ? 1 : -1;
}

/** include_hf_value: add the value to the last header of that name (or a new header) unless it is there. */
function includeHfValue(s: State, ctx: Context, name: string, value: string): number {
  const msg = ctx.msg;
  if (msg === null || name === '' || value.trim() === '' || /[\r\n,]/.test(value)) return -1;
  if (hfValueExists(ctx, name, value) > 0) return 1;
  const want = canonicalHeaderName(name.trim());
  const last = headerSpans(msg).filter((h) => h.name === want).at(-1);
  if (last === undefined) {
    ctx.headerEdits.append.push(`${name.trim()}: ${value.trim()}\r\n`);
    return 1;
  }
  return done(s, addEdits(ctx, [{ start: last.end, end: last.end, text: `, ${bytes(value.trim())}` }]));
}

/** exclude_hf_value: take the value out of every header of that name; a header left empty goes. */
function excludeHfValue(s: State, ctx: Context, name: string, value: string): number {
  if (ctx.msg === null || name === '') return -1;
  const v = bytes(value.trim()).toLowerCase();
  let changed = false;
  for (const h of values(ctx, name)) {
    const kept = h.items.filter((i) => i.toLowerCase() !== v);
    if (kept.length === h.items.length) continue;
    changed = true;
    if (kept.length === 0) removeLines(s, ctx, [h.span]);
    else done(s, addEdits(ctx, [{ start: h.span.valueStart, end: h.span.end, text: kept.join(', ') }]));
  }
  return changed ? 1 : -1;
}

export default defineModule({
  name: 'textopsx',
  doc: 'More text operations: msg_apply_changes, reply status, body removal, header value lists, header and body-line iterators.',
  init: (host): State => ({ host, of: new WeakMap() }),
  pvs: iteratorPvs,
  functions: {
    ...iteratorFunctions,
    msg_apply_changes: fn([], 'int', (s: State, ctx) => {
      if (ctx.msg?.isRequest !== true) {
        s.host.complain('msg_apply_changes works on a request here', {}, 'warn');
        return -1;
      }
      if (applyChanges(ctx) === null) {
        s.host.complain('msg_apply_changes: the edited message does not parse; it is left as it was');
        return -1;
      }
      return 1;
    }, 'Make the edits so far part of the message the script reads (requests); 1 done, -1 failed.'),
    msg_set_buffer: fn(['str'], 'int', (s: State, ctx, data) => {
      const msg = ctx.msg;
      if (msg === null) return -1;
      try {
        const next = parseSipMessage(Buffer.from(bytes(data), 'latin1'));
        if (next.isRequest !== msg.isRequest) return -1;
        ctx.msg = next;
      } catch {
        s.host.complain('msg_set_buffer: not a SIP message');
        return -1;
      }
      const e = ctx.headerEdits;
      e.insert.length = 0;
      e.append.length = 0;
      e.remove.clear();
      e.body = null;
      delete e.lumps;
      return 1;
    }, 'Replace the whole message with this text (a request for a request, a reply for a reply); 1 done, -1 not valid.'),
    change_reply_status: fn(['int', 'str'], 'int', (s: State, ctx, code, reason) => changeStatus(s, ctx, code, reason),
      'In a reply route: relay the reply with this status and reason (a 1xx/2xx keeps its class); 1 done, -1 not allowed.'),
    change_reply_status_code: fn(['int'], 'int', (s: State, ctx, code) => changeStatus(s, ctx, code, null), 'change_reply_status keeping the reason phrase.'),
    remove_body: fn([], 'int', (_s, ctx) => {
      if (ctx.msg === null || ctx.msg.body.length === 0) return -1;
      replaceBody(ctx, Buffer.alloc(0));
      return 1;
    }, 'Send the message without its body (Content-Length 0); 1 done, -1 no body.'),
    keep_hf: fn([], 'int', (s: State, ctx) => keepHf(s, ctx, null), 'Remove every header but Via, From, To, Call-ID, CSeq, Contact, Route, Record-Route, Max-Forwards, Content-Type/-Length; answers -1, as Kamailio 5.6.'),
    keep_hf_re: fn(['str'], 'int', (s: State, ctx, r) => keepHf(s, ctx, r), 'keep_hf, also keeping the headers whose name matches the pattern.'),
    fnmatch: fn(['str', 'str'], 'int', (s: State, _c, v, e) => fnmatch(s, v, e, ''), '1 when the value matches the shell wildcard pattern, -1 otherwise.'),
    fnmatch_ex: fn(['str', 'str', 'str'], 'int', (s: State, _c, v, e, f) => fnmatch(s, v, e, f), 'fnmatch with flags ("i": ignore case).'),
    hf_value_exists: fn(['str', 'str'], 'int', (_s, ctx, hf, v) => hfValueExists(ctx, hf, v), '1 when a header of that name lists the value (comma-separated, case-insensitive), -1 otherwise.'),
    include_hf_value: fn(['str', 'str'], 'int', (s: State, ctx, hf, v) => includeHfValue(s, ctx, hf, v), 'Add the value to the header\'s list unless it is there (a new header when there is none); 1 / -1.'),
    exclude_hf_value: fn(['str', 'str'], 'int', (s: State, ctx, hf, v) => excludeHfValue(s, ctx, hf, v), 'Take the value out of the header\'s lists; a header left empty is removed; 1 / -1.'),
  },
});
