/**
 * KSR.uac within the dialog on both engines: the vsf / vst Record-Route parameter of the initial
 * request, and the requests within the dialog rewritten from it (loose_route in restore_mode
 * auto, uac_restore_from / uac_restore_to in manual), what the next hop received and what came
 * back. The parameter values are the ones Kamailio 5.6 wrote for these URIs and restore_passwd
 * (test/compat/uac-dialog.test.ts), so a dialog Kamailio started continues here.
 */
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';

const PASSWD = { modules: { uac: { restore_passwd: 'kemi-secret' } } };
/** alice@example.com ↔ hidden@example.net and bob@example.com ↔ robin.the.boy.wonder@gotham.org, by Kamailio */
const VSF = 'a2VtaSR2aGRyS1F2fGF0MXouLnNtAA--';
const VST = 'a2VtaT1zZUp5M2FucC9ubGkkeR0LEA4XLQ5CBw0CH0sbGQI-';
const OUR_ROUTE = `Route: <sip:127.0.0.1:{udp};lr;ftag=peer-from;vsf=${VSF};vst=${VST}>`;

/** the caller's BYE: From alice (its dialog's From-tag), To bob with the callee's tag */
const CALLER_BYE = { method: 'BYE', ruri: 'sip:bob@127.0.0.1:{next}', fromTag: 'peer-from', toTag: 'callee', headers: [OUR_ROUTE] };
/** the callee's BYE: From the To it was shown, To the From it was shown */
const CALLEE_BYE = {
  method: 'BYE', ruri: 'sip:alice@127.0.0.1:{next}', fromUri: 'sip:robin.the.boy.wonder@gotham.org', fromTag: 'callee',
  to: '<sip:hidden@example.net>', toTag: 'peer-from', headers: [OUR_ROUTE],
};

/** loose_route and t_relay, with what `extra` returned in X-Rc */
const inDialog = (extraLua: string, extraJs: string): Pick<BindingCase, 'lua' | 'js'> => ({
  lua: `local rc = KSR.rr.loose_route() .. "," .. ${extraLua}\nKSR.hdr.append("X-Rc: " .. rc .. "\\r\\n")\nKSR.tm.t_relay()`,
  js: `const rc = KSR.rr.loose_route() + "," + ${extraJs};\nKSR.hdr.append("X-Rc: " + rc + "\\r\\n");\nKSR.tm.t_relay();`,
});

const cases: BindingCase[] = [
  {
    name: 'the initial INVITE: vsf and vst in the Record-Route, the bytes Kamailio writes',
    lua: 'KSR.rr.record_route()\nKSR.uac.uac_replace_from("", "sip:hidden@example.net")\nKSR.uac.uac_replace_to("", "sip:robin.the.boy.wonder@gotham.org")\nKSR.tm.t_relay()',
    js: 'KSR.rr.record_route();\nKSR.uac.uac_replace_from("", "sip:hidden@example.net");\nKSR.uac.uac_replace_to("", "sip:robin.the.boy.wonder@gotham.org");\nKSR.tm.t_relay();',
    config: PASSWD,
    request: { method: 'INVITE', ruri: 'sip:bob@127.0.0.1:{next}', fromTag: 'peer-from' },
    next: { answer: 200 },
    expect: {
      status: 200,
      headers: { From: '"Alice" <sip:alice@example.com>;tag=peer-from', To: '<sip:bob@example.com>;tag=nexthop' },
      forwarded: { headers: { 'Record-Route': `<sip:127.0.0.1:{udp};lr;ftag=peer-from;vsf=${VSF};vst=${VST}>`, From: '<sip:hidden@example.net>;tag=peer-from' } },
    },
  },
  {
    name: 'auto: the caller\'s BYE gets the replaced From and To; its 200 comes back with what the caller sent',
    ...inDialog('"x"', '"x"'),
    config: PASSWD,
    request: CALLER_BYE,
    next: { answer: 200 },
    expect: {
      status: 200,
      headers: { From: '"Alice" <sip:alice@example.com>;tag=peer-from', To: '<sip:bob@example.com>;tag=callee' },
      forwarded: { headers: { From: '"Alice" <sip:hidden@example.net>;tag=peer-from', To: '<sip:robin.the.boy.wonder@gotham.org>;tag=callee', Route: null, 'X-Rc': '1,x' } },
    },
  },
  {
    name: 'auto: the callee\'s BYE gets the original URIs back (From bob, To alice)',
    ...inDialog('"x"', '"x"'),
    config: PASSWD,
    request: CALLEE_BYE,
    next: { answer: 200 },
    expect: {
      status: 200,
      headers: { From: '"Alice" <sip:robin.the.boy.wonder@gotham.org>;tag=callee', To: '<sip:hidden@example.net>;tag=peer-from' },
      forwarded: { headers: { From: '"Alice" <sip:bob@example.com>;tag=callee', To: '<sip:alice@example.com>;tag=peer-from' } },
    },
  },
  {
    name: 'manual: loose_route leaves the headers; uac_restore_from / uac_restore_to rewrite them (1, 1); the reply is not restored, as in Kamailio',
    ...inDialog('KSR.pv.get("$hdr(From)") .. "," .. KSR.uac.uac_restore_from() .. "," .. KSR.uac.uac_restore_to()', 'KSR.pv.get("$hdr(From)") + "," + KSR.uac.uac_restore_from() + "," + KSR.uac.uac_restore_to()'),
    config: { modules: { uac: { restore_mode: 'manual', restore_passwd: 'kemi-secret' } } },
    request: CALLER_BYE,
    next: { answer: 200 },
    expect: {
      status: 200,
      headers: { From: '"Alice" <sip:hidden@example.net>;tag=peer-from' },
      forwarded: { headers: { From: '"Alice" <sip:hidden@example.net>;tag=peer-from', To: '<sip:robin.the.boy.wonder@gotham.org>;tag=callee', 'X-Rc': '1,"Alice" <sip:alice@example.com>;tag=peer-from,1,1' } },
    },
  },
  {
    name: 'manual: no parameter in our Route → -1; auto mode does not rewrite without one',
    ...inDialog('KSR.uac.uac_restore_from()', 'KSR.uac.uac_restore_from()'),
    config: { modules: { uac: { restore_mode: 'manual' } } },
    request: { ...CALLER_BYE, headers: ['Route: <sip:127.0.0.1:{udp};lr;ftag=peer-from>'] },
    next: { answer: 200 },
    expect: { status: 200, forwarded: { headers: { From: '"Alice" <sip:alice@example.com>;tag=peer-from', 'X-Rc': '1,-1' } } },
  },
  {
    name: 'another restore_passwd: the value does not decode to a URI, the headers stay (-1, logged)',
    ...inDialog('KSR.uac.uac_restore_from()', 'KSR.uac.uac_restore_from()'),
    config: { modules: { uac: { restore_mode: 'manual', restore_passwd: 'other' } } },
    request: CALLER_BYE,
    next: { answer: 200 },
    expect: { status: 200, forwarded: { headers: { From: '"Alice" <sip:alice@example.com>;tag=peer-from', 'X-Rc': '1,-1' } } },
  },
  {
    name: 'without rr\'s append_fromtag the direction is unknown: uac_replace_from -1, as Kamailio',
    lua: 'KSR.rr.record_route()\nKSR.hdr.append("X-Rc: " .. KSR.uac.uac_replace_from("", "sip:hidden@example.net") .. "\\r\\n")\nKSR.tm.t_relay()',
    js: 'KSR.rr.record_route();\nKSR.hdr.append("X-Rc: " + KSR.uac.uac_replace_from("", "sip:hidden@example.net") + "\\r\\n");\nKSR.tm.t_relay();',
    config: { modules: { rr: { append_fromtag: 0 } } },
    request: { method: 'INVITE', ruri: 'sip:bob@127.0.0.1:{next}', fromTag: 'peer-from' },
    next: { answer: 200 },
    expect: { status: 200, forwarded: { headers: { 'Record-Route': '<sip:127.0.0.1:{udp};lr>', 'X-Rc': '-1' } } },
  },
];

runBindingCases('KSR.uac within the dialog', cases);
