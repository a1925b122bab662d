/**
 * KSR.uac on both engines: a real UAC sends through kemihost to a real next hop; the case checks
 * the From / To the next hop received and the ones the UAC got back in the relayed reply.
 */
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';

/** relay to the next hop after `lua` / `js`, with the return codes in X-Rc */
const relay = (lua: string, js: string): Pick<BindingCase, 'lua' | 'js'> => ({
  lua: `local rc = ${lua}\nKSR.hdr.append("X-Rc: " .. rc .. "\\r\\n")\nKSR.tm.t_relay()`,
  js: `const rc = ${js};\nKSR.hdr.append("X-Rc: " + rc + "\\r\\n");\nKSR.tm.t_relay();`,
});
const TO_NEXT = { method: 'INVITE', ruri: 'sip:bob@127.0.0.1:{next}', fromTag: 'ft1' };
const ORIGINAL_FROM = '"Alice" <sip:alice@example.com>;tag=ft1';

const cases: BindingCase[] = [
  {
    name: 'uac_replace_from(display, uri): the callee gets the new From (tag kept), the caller its own From back',
    ...relay('KSR.uac.uac_replace_from("", "sip:hidden@example.net")', 'KSR.uac.uac_replace_from("", "sip:hidden@example.net")'),
    request: TO_NEXT,
    next: { answer: 200 },
    expect: {
      status: 200,
      headers: { From: ORIGINAL_FROM },
      forwarded: { headers: { From: '<sip:hidden@example.net>;tag=ft1', 'X-Rc': '1' } },
    },
  },
  {
    name: 'the display name only ("" URI keeps it, quotes not added): not restored in the reply, as Kamailio',
    ...relay('KSR.uac.uac_replace_from("\\"Batman\\"", "")', 'KSR.uac.uac_replace_from("\\"Batman\\"", "")'),
    request: TO_NEXT,
    next: { answer: 200 },
    expect: {
      status: 200,
      headers: { From: '"Batman" <sip:alice@example.com>;tag=ft1' },
      forwarded: { headers: { From: '"Batman" <sip:alice@example.com>;tag=ft1' } },
    },
  },
  {
    name: 'uac_replace_from_uri keeps the display name; a second URI change of the same header is -1 (Kamailio: "called multiple times")',
    ...relay('KSR.uac.uac_replace_from_uri("sip:one@example.net") .. KSR.uac.uac_replace_from_uri("sip:two@example.net")', 'KSR.uac.uac_replace_from_uri("sip:one@example.net") + "" + KSR.uac.uac_replace_from_uri("sip:two@example.net")'),
    request: TO_NEXT,
    next: { answer: 200 },
    expect: {
      status: 200,
      headers: { From: ORIGINAL_FROM },
      forwarded: { headers: { From: '"Alice" <sip:one@example.net>;tag=ft1', 'X-Rc': '1-1' } },
    },
  },
  {
    name: 'restore_mode none: a second call replaces the first',
    ...relay('KSR.uac.uac_replace_from_uri("sip:one@example.net") .. KSR.uac.uac_replace_from_uri("sip:two@example.net")', 'KSR.uac.uac_replace_from_uri("sip:one@example.net") + "" + KSR.uac.uac_replace_from_uri("sip:two@example.net")'),
    config: { modules: { uac: { restore_mode: 'none' } } },
    request: TO_NEXT,
    next: { answer: 200 },
    expect: { status: 200, forwarded: { headers: { From: '"Alice" <sip:two@example.net>;tag=ft1', 'X-Rc': '11' } } },
  },
  {
    name: 'uac_replace_to: the callee gets the new To; the reply has the original To with the callee\'s tag',
    ...relay('KSR.uac.uac_replace_to("\\"Robin\\"", "sip:robin@gotham.org")', 'KSR.uac.uac_replace_to("\\"Robin\\"", "sip:robin@gotham.org")'),
    request: TO_NEXT,
    next: { answer: 486 },
    expect: {
      status: 486,
      headers: { To: '<sip:bob@example.com>;tag=nexthop' },
      forwarded: { headers: { To: '"Robin" <sip:robin@gotham.org>' } },
    },
  },
  {
    name: 'restore_mode none: the reply keeps the replaced From',
    ...relay('KSR.uac.uac_replace_from_uri("sip:hidden@example.net")', 'KSR.uac.uac_replace_from_uri("sip:hidden@example.net")'),
    config: { modules: { uac: { restore_mode: 'none' } } },
    request: TO_NEXT,
    next: { answer: 200 },
    expect: { status: 200, headers: { From: '"Alice" <sip:hidden@example.net>;tag=ft1' } },
  },
  {
    name: 'bad input: not a URI, a URI with a line break → -1, nothing changed; uac_restore_from → -1',
    ...relay(
      'KSR.uac.uac_replace_from("", "not a uri") .. "," .. KSR.uac.uac_replace_to_uri("sip:a@b\\r\\nX-Evil: 1") .. "," .. KSR.uac.uac_restore_from() .. "," .. KSR.uac.uac_restore_to()',
      'KSR.uac.uac_replace_from("", "not a uri") + "," + KSR.uac.uac_replace_to_uri("sip:a@b\\r\\nX-Evil: 1") + "," + KSR.uac.uac_restore_from() + "," + KSR.uac.uac_restore_to()',
    ),
    request: TO_NEXT,
    next: { answer: 200 },
    expect: { status: 200, forwarded: { headers: { From: ORIGINAL_FROM, To: '<sip:bob@example.com>', 'X-Evil': null, 'X-Rc': '-1,-1,-1,-1' } } },
  },
  {
    name: 'restore_mode auto declines a URI change within a dialog (a To-tag): -1',
    ...relay('KSR.uac.uac_replace_from_uri("sip:hidden@example.net")', 'KSR.uac.uac_replace_from_uri("sip:hidden@example.net")'),
    request: { ...TO_NEXT, method: 'OPTIONS', toTag: 'tt1' },
    next: { answer: 200 },
    expect: { status: 200, forwarded: { headers: { From: ORIGINAL_FROM, 'X-Rc': '-1' } } },
  },
];

runBindingCases('KSR.uac', cases);
