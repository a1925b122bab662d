/**
 * KSR.textops: regular-expression search, replace and subst over the message, header tests and
 * removals, body setting, string tests (Kamailio src/modules/textops). Patterns are POSIX
 * extended as Kamailio compiles them (case-insensitive, line by line) and run in a linear-time
 * engine; an invalid one answers -1 with a rate-limited complaint. Edits show in what is sent
 * (and after msg_apply_changes); searches read the message as received (docs/textops.md).
 */
import { defineModule, fn } from '../host/kemi/types.js';
import { connection, direction } from '../host/sdp/sdp-lines.js';
import { filterBody, hasBody, setBody, setReplyBody } from './textops-body.js';
import {
  replace, replaceStr, search, searchAppend, searchBody, searchHf, substBody, substHf, substMessage, substUri, substUser, type TextopsState,
} from './textops-edit.js';
import { isPresentHf, isPresentHfRe, isPrivacy, removeHf, removeHfIdx, removeHfMatch, removeHfRe } from './textops-hf.js';
import { cmpStr, endsWith, inList, regexSubstring, searchStr, startsWith, strFind } from './textops-str.js';
import { sdpOf } from './sdpops-sdp.js';

type S = TextopsState;

export default defineModule({
  name: 'textops',
  doc: 'Text operations on the SIP message: search, replace, subst, headers, body.',
  init: (host): S => ({ host }),
  functions: {
    search: fn(['str'], 'int', (s: S, ctx, re) => search(s, ctx, re), '1 when the pattern matches the message as received (start line, headers, body), -1 otherwise.'),
    search_body: fn(['str'], 'int', (s: S, ctx, re) => searchBody(s, ctx, re), '1 when the pattern matches the body, -1 otherwise (or no body).'),
    search_hf: fn(['str', 'str', 'str'], 'int', (s: S, ctx, name, re, flags) => searchHf(s, ctx, name, re, flags),
      '1 when the pattern matches the value of a header of that name (flags "f": the first only, "l": the last only), -1 otherwise.'),
    search_str: fn(['str', 'str'], 'int', (s: S, _c, str, re) => searchStr(s, str, re), '1 when the pattern matches the text, -1 when not, -2 empty text or bad pattern.'),
    search_append: fn(['str', 'str'], 'int', (s: S, ctx, re, txt) => searchAppend(s, ctx, re, txt, false), 'Insert txt after the first match (after the start line); 1 done, -1 no match.'),
    search_append_body: fn(['str', 'str'], 'int', (s: S, ctx, re, txt) => searchAppend(s, ctx, re, txt, true), 'Insert txt after the first match in the body; 1 done, -1 no match.'),
    replace: fn(['str', 'str'], 'int', (s: S, ctx, re, txt) => replace(s, ctx, re, txt, 'message', false), 'Replace the first match (headers and body) with txt; 1 done, -1 no match.'),
    replace_all: fn(['str', 'str'], 'int', (s: S, ctx, re, txt) => replace(s, ctx, re, txt, 'message', true), 'Replace every match (headers and body) with txt; 1 done, -1 no match.'),
    replace_hdrs: fn(['str', 'str'], 'int', (s: S, ctx, re, txt) => replace(s, ctx, re, txt, 'headers', false), 'Replace the first match in the headers with txt; 1 done, -1 no match.'),
    replace_body: fn(['str', 'str'], 'int', (s: S, ctx, re, txt) => replace(s, ctx, re, txt, 'body', false), 'Replace the first match in the body with txt; 1 done, -1 no match.'),
    replace_body_all: fn(['str', 'str'], 'int', (s: S, ctx, re, txt) => replace(s, ctx, re, txt, 'body', true), 'Replace every match in the body with txt, line by line; 1 done, -1 no match.'),
    replace_body_atonce: fn(['str', 'str'], 'int', (s: S, ctx, re, txt) => replace(s, ctx, re, txt, 'body', true), 'Replace every match in the body with txt; 1 done, -1 no match.'),
    replace_str: fn(['str', 'str', 'str'], 'int', (s: S, ctx, m, r, mode) => replaceStr(s, ctx, m, r, mode, 'message'), 'Replace plain text in headers and body; mode "f" first, "a" all; 1 done, -1 not found.'),
    replace_hdrs_str: fn(['str', 'str', 'str'], 'int', (s: S, ctx, m, r, mode) => replaceStr(s, ctx, m, r, mode, 'headers'), 'Replace plain text in the headers; mode "f" or "a".'),
    replace_body_str: fn(['str', 'str', 'str'], 'int', (s: S, ctx, m, r, mode) => replaceStr(s, ctx, m, r, mode, 'body'), 'Replace plain text in the body; mode "f" or "a".'),
    subst: fn(['str'], 'int', (s: S, ctx, e) => substMessage(s, ctx, e), 'sed-like /re/repl/flags over headers and body (flags i, g, s); 1 done, -1 no match or bad expression.'),
    subst_uri: fn(['str'], 'int', (s: S, ctx, e) => substUri(s, ctx, e), 'sed-like /re/repl/flags on the R-URI, which is rewritten; 1 done, -1 no match.'),
    subst_user: fn(['str'], 'int', (s: S, ctx, e) => substUser(s, ctx, e), 'sed-like /re/repl/flags on the R-URI user part; 1 done, -1 no match.'),
    subst_body: fn(['str'], 'int', (s: S, ctx, e) => substBody(s, ctx, e), 'sed-like /re/repl/flags over the body; 1 done, -1 no match.'),
    subst_hf: fn(['str', 'str', 'str'], 'int', (s: S, ctx, name, e, flags) => substHf(s, ctx, name, e, flags),
      'sed-like /re/repl/flags over the values of headers of that name (flags "f": the first, "l": the last); 1 done, -1 no match.'),
    has_body: fn([], 'int', (_s, ctx) => hasBody(ctx, ''), '1 when the message has a body (Content-Length above 0), -1 otherwise.'),
    has_body_type: fn(['str'], 'int', (_s, ctx, t) => hasBody(ctx, t), '1 when the message has a body of this Content-Type (none means application/sdp), -1 otherwise.'),
    is_present_hf: fn(['str'], 'int', (_s, ctx, name) => isPresentHf(ctx, name), '1 when the message has a header of that name, -1 otherwise.'),
    is_present_hf_re: fn(['str'], 'int', (s: S, ctx, re) => isPresentHfRe(s, ctx, re), '1 when a header name matches the pattern, -1 otherwise.'),
    remove_hf: fn(['str'], 'int', (s: S, ctx, name) => removeHf(s, ctx, name), 'Remove every header of that name from what is sent; 1 when one was there, -1 otherwise.'),
    remove_hf_re: fn(['str'], 'int', (s: S, ctx, re) => removeHfRe(s, ctx, re, null), 'Remove the headers whose name matches the pattern; 1 when one did, -1 otherwise.'),
    remove_hf_exp: fn(['str', 'str'], 'int', (s: S, ctx, re, skip) => removeHfRe(s, ctx, re, skip), 'Remove the headers whose name matches the first pattern and not the second; 1 / -1.'),
    remove_hf_idx: fn(['str', 'int'], 'int', (s: S, ctx, name, idx) => removeHfIdx(s, ctx, name, idx), 'Remove the idx-th header of that name (0 first, -1 last); 1 / -1.'),
    remove_hf_match: fn(['str', 'str', 'str'], 'int', (s: S, ctx, name, op, e) => removeHfMatch(s, ctx, name, op, e),
      'Remove the headers of that name whose value compares with the expression by op ("eq", "ne", "re"); 1 / -1.'),
    set_body: fn(['str', 'str'], 'int', (s: S, ctx, b, t) => setBody(s, ctx, b, t), 'Replace the body sent on and its Content-Type; 1 done, -1 bad input.'),
    set_reply_body: fn(['str', 'str'], 'int', (s: S, ctx, b, t) => setReplyBody(s, ctx, b, t), 'The body and Content-Type of the reply this server generates (sl/tm); 1 done, -1 bad input.'),
    filter_body: fn(['str'], 'int', (_s, ctx, t) => filterBody(ctx, t), 'Reduce a multipart body to its first part of that type; 1 done, -1 not multipart or no such part.'),
    is_privacy: fn(['str'], 'int', (s: S, ctx, v) => isPrivacy(s, ctx, v), '1 when the Privacy header names that value (id, header, session, user, none, critical, history), -1 otherwise.'),
    is_audio_on_hold: fn([], 'int', (_s, ctx) => {
      const v = sdpOf(ctx);
      if (v === null) return -1;
      for (const m of v.sdp.media) {
        if (m.media.toLowerCase() !== 'audio') continue;
        if (/\s0\.0\.0\.0$/.test(connection(v.sdp, m) ?? '')) return 1;
        const d = direction(v.sdp, m);
        if (d === 'sendonly' || d === 'inactive') return 2;
      }
      return -1;
    }, '1 when an audio stream is on hold the RFC 2543 way (c= 0.0.0.0), 2 the RFC 3264 way (sendonly/inactive), -1 otherwise.'),
    in_list: fn(['str', 'str', 'str'], 'int', (s: S, _c, subj, list, sep) => inList(s, subj, list, sep, false), '1 when subject is an item of the list (one-character separator), -1 otherwise.'),
    in_list_prefix: fn(['str', 'str', 'str'], 'int', (s: S, _c, subj, list, sep) => inList(s, subj, list, sep, true), '1 when an item of the list is a prefix of subject, -1 otherwise.'),
    cmp_str: fn(['str', 'str'], 'int', (_s, _c, a, b) => cmpStr(a, b, false), '1 equal, -1 first greater, -2 first smaller (case-sensitive).', true),
    cmp_istr: fn(['str', 'str'], 'int', (_s, _c, a, b) => cmpStr(a, b, true), 'cmp_str ignoring case.', true),
    starts_with: fn(['str', 'str'], 'int', (_s, _c, a, b) => startsWith(a, b), '1 when the text starts with the prefix, negative otherwise.', true),
    ends_with: fn(['str', 'str'], 'int', (_s, _c, a, b) => endsWith(a, b), '1 when the text ends with the suffix, negative otherwise.', true),
    str_find: fn(['str', 'str'], 'int', (_s, _c, t, n) => strFind(t, n, false), '1 + the position of needle in the text, -1 when absent.', true),
    str_ifind: fn(['str', 'str'], 'int', (_s, _c, t, n) => strFind(t, n, true), 'str_find ignoring case.', true),
    regex_substring: fn(['str', 'str', 'int', 'int', 'str'], 'int', (s: S, ctx, input, re, idx, count, dpv) => regexSubstring(s, ctx, input, re, idx, count, dpv),
      'Store group `mindex` of the first match of the pattern (case-sensitive) in the pseudo-variable named; 1 done, -1 no match.'),
  },
});
