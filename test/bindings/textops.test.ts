/**
 * KSR.textops and KSR.textopsx on a real server, both engines: a UAC sends a request, the
 * script edits it and forwards it statelessly to a UDP next hop; the cases assert what the next
 * hop received and the return codes (X-Rc, on the forwarded request or on a reply).
 */
import assert from 'node:assert/strict';
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';
import { FORWARD, rcLine, script } from '../helpers/text-cases.js';

const NEXT = { transport: 'udp' as const };
const REQ = { method: 'MESSAGE', ruri: 'sip:bob@127.0.0.1:{next}', headers: ['X-A: one', 'X-B: two', 'X-Keep: yes', 'Privacy: id;header', 'Supported: timer, path'] };
const TEXT = { ...REQ, headers: [...REQ.headers, 'Content-Type: text/plain'], body: 'hello world\r\nsecond line\r\n' };

const cases: BindingCase[] = [
  {
    name: 'searches read the message as received: search, search_body, search_hf, is_present_hf(_re), has_body(_type)',
    ...script(
      rcLine('KSR.textops.search("^MESSAGE sip:bob@")', 'KSR.textops.search("x-a: ONE")', 'KSR.textops.search("nothing-here")', 'KSR.textops.search_body("^second")',
        'KSR.textops.search_hf("X-B", "^tw", "")', 'KSR.textops.search_hf("X-B", "^x", "f")', 'KSR.textops.search_hf("f", "alice", "")', 'KSR.textops.is_present_hf("x-keep")', 'KSR.textops.is_present_hf("X-None")',
        'KSR.textops.is_present_hf_re("^X-[AB]$")', 'KSR.textops.has_body()', 'KSR.textops.has_body_type("text/plain")', 'KSR.textops.has_body_type("application/sdp")'),
      FORWARD),
    request: TEXT,
    next: NEXT,
    expect: { status: 200, forwarded: { headers: { 'X-Rc': '1,1,-1,1,1,-1,1,1,-1,1,1,1,-1' } } },
  },
  {
    name: 'replace, replace_all and subst change what is sent; a later search still sees the received text',
    ...script(
      'local a = KSR.textops.replace("X-A: one", "X-A: uno")',
      'local b = KSR.textops.replace_all("two|yes", "zz")',
      'local c = KSR.textops.subst("/^(User-Agent): ([^\\r]*)/\\\\1: \\\\2 via proxy/")',
      rcLine('a', 'b', 'c', 'KSR.textops.search("X-A: uno")', 'KSR.textops.search("X-A: one")'),
      FORWARD),
    request: REQ,
    next: NEXT,
    expect: {
      status: 200,
      forwarded: { headers: { 'X-A': 'uno', 'X-B': 'zz', 'X-Keep': 'zz', 'User-Agent': 'kemihost-test via proxy', 'X-Rc': '1,1,1,-1,1' } },
    },
  },
  {
    name: 'subst_uri and subst_user rewrite the R-URI the request goes to; subst_hf edits one header\'s value',
    ...script(
      'local a = KSR.textops.subst_user("/^bob$/carol/")',
      'local b = KSR.textops.subst_uri("/^sip:([a-z]+)@/sip:\\\\1-x@/")',
      'local c = KSR.textops.subst_hf("Supported", "/timer/100rel/", "f")',
      'local d = KSR.textops.subst_user("/^nobody$/x/")',
      rcLine('a', 'b', 'c', 'd'),
      FORWARD),
    request: REQ,
    next: NEXT,
    expect: { status: 200, forwarded: { ruri: 'sip:carol-x@127.0.0.1:{next}', headers: { Supported: '100rel, path', 'X-Rc': '1,1,1,-1' } } },
  },
  {
    name: 'subst replacements: pseudo-variables, \\u (the R-URI), an escaped separator, flags i and g',
    ...script(
      'KSR.pv.sets("$var(n)", "neo")',
      'local a = KSR.textops.subst_body("/WORLD/$var(n)/i")',
      'local b = KSR.textops.subst_hf("X-A", "/^.*$/\\\\u/", "")',
      'local c = KSR.textops.subst_hf("X-B", "/t(w)o/a\\\\/\\\\1/g", "")',
      'local d = KSR.textops.subst_body("/WORLD/x/")',
      rcLine('a', 'b', 'c', 'd'),
      FORWARD),
    request: TEXT,
    next: NEXT,
    expect: { status: 200, forwarded: { headers: { 'X-A': 'sip:bob@127.0.0.1:{next}', 'X-B': 'a/w', 'X-Rc': '1,1,1,-1' }, check: (req) => { assert.equal(req.bodyText, 'hello neo\r\nsecond line\r\n'); } } },
  },
  {
    name: 'remove_hf, remove_hf_re, remove_hf_exp, remove_hf_idx take header lines out of what is sent',
    ...script(
      rcLine('KSR.textops.remove_hf("X-A")', 'KSR.textops.remove_hf("X-Gone")', 'KSR.textops.remove_hf_exp("^X-", "^X-(Keep|Rc)$")', 'KSR.textops.remove_hf_re("^Privacy$")', 'KSR.textops.remove_hf_idx("Supported", -1)'),
      FORWARD),
    request: REQ,
    next: NEXT,
    expect: { status: 200, forwarded: { headers: { 'X-A': null, 'X-B': null, 'X-Keep': 'yes', Privacy: null, Supported: null, 'X-Rc': '1,-1,1,1,1' } } },
  },
  {
    name: 'body edits: replace_body, subst_body and search_append_body compose; Content-Length follows',
    ...script(
      'local a = KSR.textops.replace_body("hello", "goodbye")',
      'local b = KSR.textops.subst_body("/second/2nd/")',
      'local c = KSR.textops.search_append_body("world", "!")',
      rcLine('a', 'b', 'c', 'KSR.textops.replace_body_all("zzz", "y")'),
      FORWARD),
    request: TEXT,
    next: NEXT,
    expect: {
      status: 200,
      forwarded: { headers: { 'X-Rc': '1,1,1,-1' }, check: (req) => { assert.equal(req.bodyText, 'goodbye world!\r\n2nd line\r\n'); assert.equal(req.contentLength, 26); } },
    },
  },
  {
    name: 'set_body replaces body and Content-Type; search_append adds after a match in the headers',
    ...script(
      'local a = KSR.textops.set_body("new body", "text/x-test")',
      'local b = KSR.textops.search_append("^X-B: two", ", three")',
      rcLine('a', 'b', 'KSR.textops.set_body("", "text/plain")', 'KSR.textops.set_body("x", "no type")'),
      FORWARD),
    request: TEXT,
    next: NEXT,
    expect: { status: 200, forwarded: { headers: { 'Content-Type': 'text/x-test', 'X-B': 'two, three', 'X-Rc': '1,1,-1,-1' }, check: (req) => { assert.equal(req.bodyText, 'new body'); } } },
  },
  {
    name: 'msg_apply_changes: the script then reads its own edits',
    ...script(
      'KSR.hdr.append("X-New: 1\\r\\n")',
      'KSR.textops.remove_hf("X-A")',
      'KSR.textops.replace("X-B: two", "X-B: deux")',
      'local before = KSR.textops.is_present_hf("X-New")',
      'local r = KSR.textopsx.msg_apply_changes()',
      rcLine('before', 'r', 'KSR.textops.is_present_hf("X-New")', 'KSR.textops.is_present_hf("X-A")', 'KSR.textops.search("X-B: deux")'),
      FORWARD),
    request: REQ,
    next: NEXT,
    expect: { status: 200, forwarded: { headers: { 'X-New': '1', 'X-A': null, 'X-B': 'deux', 'X-Rc': '-1,1,1,-1,1' } } },
  },
  {
    name: 'invalid patterns and expressions answer -1 (search_str -2) and the server goes on',
    ...script(
      rcLine('KSR.textops.search("(")', 'KSR.textops.replace("[a", "x")', 'KSR.textops.subst("/(/x/")', 'KSR.textops.subst("/a/b/q")', 'KSR.textops.subst("ab")',
        'KSR.textops.remove_hf_re("*")', 'KSR.textops.search_str("abc", "(")', 'KSR.textops.search("(a)\\\\1")'),
      FORWARD),
    request: REQ,
    next: NEXT,
    expect: { status: 200, forwarded: { headers: { 'X-Rc': '-1,-1,-1,-1,-1,-1,-2,-1' } } },
  },
  {
    name: 'an edit that would break the message (a mandatory header removed, a blank line inserted) or overlaps an earlier one is refused with -1',
    ...script(
      rcLine('KSR.textops.remove_hf("Call-ID")', 'KSR.textops.replace("X-A: one", "X-A: 1\\r\\n\\r\\n")', 'KSR.textops.replace("X-B: two", "X-B: 2")', 'KSR.textops.replace("two", "deux")'),
      FORWARD),
    request: REQ,
    next: NEXT,
    expect: { status: 200, forwarded: { headers: { 'X-A': 'one', 'X-B': '2', 'X-Rc': '-1,-1,1,-1' }, check: (req) => { assert.match(req.callId, /@test$/); } } },
  },
  {
    name: 'more text edits than a message may carry: -1 and nothing made',
    ...script(rcLine('KSR.textops.replace_body_all("a", "b")', 'KSR.textops.replace_body_all("x", "y")'), FORWARD),
    request: { ...TEXT, body: `${'a,'.repeat(1100)}x` },
    next: NEXT,
    expect: { status: 200, forwarded: { headers: { 'X-Rc': '-1,1' }, check: (req) => { assert.equal(req.bodyText, `${'a,'.repeat(1100)}y`); } } },
  },
  {
    name: 'string tests: cmp_str, cmp_istr, starts_with, ends_with, str_find, in_list, in_list_prefix, search_str, is_privacy',
    ...script(
      rcLine('KSR.textops.cmp_str("abc", "abc")', 'KSR.textops.cmp_str("abd", "abc")', 'KSR.textops.cmp_str("ab", "abc")', 'KSR.textops.cmp_istr("ABC", "abc")',
        'KSR.textops.starts_with("abcdef", "abc")', 'KSR.textops.ends_with("abcdef", "def")', 'KSR.textops.str_find("abcdef", "cd")', 'KSR.textops.str_ifind("abcdef", "CD")',
        'KSR.textops.in_list("fi", "dk, fi ,no", ",")', 'KSR.textops.in_list("se", "dk,fi", ",")', 'KSR.textops.in_list_prefix("final", "dk,fi", ",")',
        'KSR.textops.search_str("abc123", "[0-9]+$")', 'KSR.textops.is_privacy("id")', 'KSR.textops.is_privacy("session")'),
      FORWARD),
    request: REQ,
    next: NEXT,
    expect: { status: 200, forwarded: { headers: { 'X-Rc': '1,-1,-2,1,1,1,3,3,1,-1,1,1,1,-1' } } },
  },
  {
    name: 'regex_substring stores a group in a pseudo-variable',
    ...script(
      'local r = KSR.textops.regex_substring("___ abc123def ___", "([a-z]*)([0-9]+)([a-z]*)", 1, 3, "$var(x)")',
      rcLine('r', 'KSR.pv.get("$var(x)")'),
      FORWARD),
    request: REQ,
    next: NEXT,
    expect: { status: 200, forwarded: { headers: { 'X-Rc': '1,abc' } } },
  },
  {
    name: 'set_reply_body gives the reply this server sends a body',
    ...script('KSR.textops.set_reply_body("busy here", "text/plain")', 'KSR.sl.sl_send_reply(486, "Busy Here")'),
    request: REQ,
    expect: { status: 486, headers: { 'Content-Type': 'text/plain', 'Content-Length': '9' }, check: (r) => { assert.equal(r.bodyText, 'busy here'); } },
  },
  {
    name: 'textopsx: include/exclude_hf_value, hf_value_exists, fnmatch, remove_body, keep_hf_re',
    ...script(
      'local a = KSR.textopsx.include_hf_value("Supported", "gruu")',
      'local b = KSR.textopsx.exclude_hf_value("Supported", "timer")',
      'local k = KSR.textopsx.keep_hf_re("^(X-Keep|Supported|X-Rc|User-Agent)$")',
      rcLine('a', 'b', 'k', 'KSR.textopsx.hf_value_exists("Supported", "PATH")', 'KSR.textopsx.hf_value_exists("Supported", "gruu")',
        'KSR.textopsx.fnmatch("alice@example.com", "*@example.*")', 'KSR.textopsx.fnmatch("Alice", "a*")', 'KSR.textopsx.fnmatch_ex("Alice", "a*", "i")', 'KSR.textopsx.remove_body()',
        'KSR.textopsx.fnmatch("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "*a*a*a*a*a*a*a*a*a*b")', 'KSR.textopsx.fnmatch("x.y", "[!a-w].?")', 'KSR.textopsx.fnmatch("é+1", "é+?")'),
      FORWARD),
    request: TEXT,
    next: NEXT,
    expect: {
      status: 200,
      forwarded: {
        headers: { Supported: 'path, gruu', 'X-A': null, Privacy: null, 'X-Keep': 'yes', 'X-Rc': '1,1,-1,1,-1,1,-1,1,1,-1,1,1' },
        check: (req) => { assert.equal(req.contentLength, 0); },
      },
    },
  },
  {
    name: 'textopsx change_reply_status in the reply route: the UAC gets the new status',
    full: true,
    lua: 'function ksr_request_route()\nKSR.forward()\nend\nfunction ksr_reply_route()\nif KSR.pv.get("$rs") == 486 then KSR.textopsx.change_reply_status(404, "Not Here Now") end\nKSR.textopsx.change_reply_status(200, "x")\nend\n',
    js: 'function ksr_request_route() { KSR.forward(); }\nfunction ksr_reply_route() { if (KSR.pv.get("$rs") == 486) KSR.textopsx.change_reply_status(404, "Not Here Now"); KSR.textopsx.change_reply_status(200, "x"); }\n',
    request: REQ,
    next: { transport: 'udp', answer: 486 },
    expect: { status: 404, reason: 'Not Here Now' },
  },
];

runBindingCases('KSR.textops / KSR.textopsx', cases);
