/**
 * uac_req_send and $uac_req(key) (Kamailio's uac_send.c): the script fills one request
 * description, module-wide as Kamailio's is per process, and sends it from the server in a
 * client transaction of its own (host/sip/transaction/local-request.ts). With
 * $uac_req(evroute) the final reply (1; 2: a failure only) runs the uac event_callback with
 * "uac:reply" on the reply, $uac_req(evcode) / $uac_req(evtype) set; with $uac_req(auser) and
 * $uac_req(apasswd) a 401/407 is answered once with Digest credentials (CSeq + 1).
 */
import { randomBytes } from 'node:crypto';
import { Context } from '../host/kemi/context.js';
import type { ModuleHost, Xval } from '../host/kemi/types.js';
import { digestAuthorization, parseChallenges } from '../host/http-client/digest.js';
import type { SipMessage } from '../host/sip/message.js';
import { localTarget, type LocalRequestSpec } from '../host/sip/transaction/local-request.js';
import type { SocketAddress } from '../host/sip/types.js';
import { parseUri } from '../host/sip/uri.js';

const STR_KEYS = ['ruri', 'turi', 'furi', 'hdrs', 'body', 'ouri', 'method', 'auser', 'apasswd', 'callid', 'sock', 'evparam'] as const;
const INT_KEYS = ['evroute', 'evcode', 'evtype', 'flags'] as const;
type StrKey = (typeof STR_KEYS)[number];
type IntKey = (typeof INT_KEYS)[number];

/** Kamailio's buffer sizes: a longer value is refused (one byte is its C string end). */
const MAX_LEN: Readonly<Record<StrKey, number>> = {
  ruri: 1024, turi: 1024, furi: 1024, ouri: 1024, sock: 1024, hdrs: 2048, body: 32768, method: 32, auser: 128, apasswd: 64, callid: 128, evparam: 128,
};

/** flags bit 1: apasswd is the HA1 (Kamailio's UAC_SEND_FL_HA1) */
const FL_HA1 = 1;
/** Kamailio's DEFAULT_CSEQ for a request of its own */
const FIRST_CSEQ = 10;

export type UacReq = Record<StrKey, string> & Record<IntKey, number>;

export function emptyUacReq(): UacReq {
  return {
    ruri: '', turi: '', furi: '', hdrs: '', body: '', ouri: '', method: '', auser: '', apasswd: '', callid: '', sock: '', evparam: '',
    evroute: 0, evcode: 0, evtype: 0, flags: 0,
  };
}

export interface UacSendState {
  readonly host: ModuleHost;
  /** the event_callback modparam ('' none) */
  readonly callback: string;
  /** the default_socket modparam, parsed */
  readonly defaultSocket: SocketAddress | null;
  req: UacReq;
}

const isStrKey = (k: string): k is StrKey => (STR_KEYS as readonly string[]).includes(k);
const isIntKey = (k: string): k is IntKey => (INT_KEYS as readonly string[]).includes(k);

/** $uac_req(key): '' strings read as $null, as in Kamailio; `all` reads the flags. */
export function getUacReq(s: UacSendState, key: string): Xval {
  const k = key.trim();
  if (isStrKey(k)) return s.req[k] === '' ? null : s.req[k];
  if (isIntKey(k)) return s.req[k];
  if (k === 'all') return s.req.flags;
  s.host.complain(`$uac_req(${k}): unknown key`);
  return null;
}

/** $uac_req(key) = value: $null clears it (`all`: everything but sock, auser and apasswd, as Kamailio). */
export function setUacReq(s: UacSendState, key: string, v: Xval): void {
  const k = key.trim();
  const r = s.req;
  if (k === 'all') {
    if (v === null) s.req = { ...emptyUacReq(), sock: r.sock, auser: r.auser, apasswd: r.apasswd };
    return;
  }
  if (isStrKey(k)) {
    if (v === null) r[k] = '';
    else if (typeof v !== 'string') s.host.complain(`$uac_req(${k}): a string is expected; not set`, { value: v });
    else if (Buffer.byteLength(v) >= MAX_LEN[k]) s.host.complain(`$uac_req(${k}): longer than ${String(MAX_LEN[k] - 1)} bytes; not set`);
    else r[k] = v;
    return;
  }
  if (isIntKey(k)) {
    if (v === null) r[k] = 0;
    else if (typeof v !== 'number') s.host.complain(`$uac_req(${k}): an integer is expected (KSR.pv.seti); not set`, { value: v });
    else r[k] = v;
    return;
  }
  s.host.complain(`$uac_req(${k}): unknown key (method, ruri, furi, turi, ouri, hdrs, body, flags, callid, sock, auser, apasswd, evroute, evcode, evtype, evparam, all)`);
}

/** "proto:ip:port" (set_send_socket's form), null when it is not one. */
export function parseSocket(spec: string): SocketAddress | null {
  const m = /^(udp|tcp):(\[[0-9a-fA-F:.]+\]|[^:]+):(\d{1,5})$/i.exec(spec.trim());
  if (m === null) return null;
  return { proto: (m[1] ?? '').toLowerCase(), ip: (m[2] ?? '').replace(/^\[|\]$/g, ''), port: Number(m[3]) };
}

/** The header lines of `hdrs`, each ending in CRLF; null when one is not a header. */
function extraHeaders(hdrs: string): string[] | null {
  const lines = hdrs.split(/\r?\n/).filter((l) => l !== '');
  return lines.every((l) => /^[A-Za-z0-9!%*_+`'~.-]+[ \t]*:/.test(l)) ? lines.map((l) => `${l}\r\n`) : null;
}

interface Built {
  readonly spec: LocalRequestSpec;
  readonly fromTag: string;
  readonly callId: string;
}

/** The request as the description says, or why it cannot be sent. */
function build(s: UacSendState, r: UacReq, cseq: number, fromTag: string, callId: string, auth: string | null): Built | string {
  if (r.method === '' || r.ruri === '') return 'needs $uac_req(method) and $uac_req(ruri)';
  if (!/^[A-Za-z0-9!%*_+`'~.-]+$/.test(r.method)) return `not a SIP method: ${r.method}`;
  // our own client transactions are non-INVITE ones (no ACK for a failure): RFC 3261 §17.1.1 is not built for them
  if (r.method === 'INVITE' || r.method === 'ACK' || r.method === 'CANCEL') return `${r.method} is not sent by uac_req_send here`;
  const to = r.turi === '' ? r.ruri : r.turi;
  const from = r.furi === '' ? r.ruri : r.furi;
  for (const [name, u] of [['ruri', r.ruri], ['turi', to], ['furi', from]] as const) {
    if (parseUri(u) === null || /[\s<>]/.test(u)) return `$uac_req(${name}) is not a SIP URI: ${u}`;
  }
  const target = localTarget(r.ouri === '' ? r.ruri : r.ouri);
  if (typeof target === 'string') return target;
  const sock = r.sock === '' ? s.defaultSocket : parseSocket(r.sock);
  if (sock === null && r.sock !== '') return `$uac_req(sock) is not "proto:ip:port": ${r.sock}`;
  const extra = extraHeaders(r.hdrs);
  if (extra === null) return '$uac_req(hdrs) holds a line that is not a header ("Name: value")';
  const headers = [
    `To: <${to}>\r\n`,
    `From: <${from}>;tag=${fromTag}\r\n`,
    `CSeq: ${String(cseq)} ${r.method}\r\n`,
    `Call-ID: ${callId}\r\n`,
    'Max-Forwards: 70\r\n',
    ...extra,
    ...(auth === null ? [] : [auth]),
  ];
  return { spec: { method: r.method, ruri: r.ruri, headers, body: r.body, ...target, sendSocket: sock }, fromTag, callId };
}

/** uac_req_send(): 1 sent, -1 not (logged). */
export function uacReqSend(s: UacSendState): number {
  const r = { ...s.req };
  const tag = randomBytes(8).toString('hex');
  const callId = r.callid === '' ? `${randomBytes(10).toString('hex')}@kemihost` : r.callid;
  const b = build(s, r, FIRST_CSEQ, tag, callId, null);
  if (typeof b === 'string') {
    s.host.complain(`uac_req_send: ${b}`);
    return -1;
  }
  if (!s.host.sip.sendLocal(b.spec, (code, reply) => { later(s, () => { onFinal(s, r, b, FIRST_CSEQ, code, reply, true); }); })) {
    s.host.complain('uac_req_send: not sent (no socket of ours for its transport, or the server is not listening)', { ruri: r.ruri });
    return -1;
  }
  return 1;
}

/** Run `f` once the reply's own handling is done: the event callback never runs inside it. */
function later(s: UacSendState, f: () => void): void {
  s.host.boundary.timeout('tm-timer', 0, f, null);
}

/** A final reply (or 408 for none): the event callback as asked for, then (as Kamailio, after it) a challenge answered once. */
function onFinal(s: UacSendState, r: UacReq, b: Built, cseq: number, code: number, reply: SipMessage | null, mayAuth: boolean): void {
  // evroute 2 is Kamailio's TMCB_ON_FAILURE: failures only, and no challenge answered
  if (r.evroute === 2 ? code >= 300 : r.evroute !== 0) runEvent(s, r, code, reply);
  // Kamailio answers from the callback it registers for auser + apasswd or for evroute 1
  if (!mayAuth || r.evroute === 2 || (r.auser === '' && r.evroute === 0)) return;
  if ((code !== 401 && code !== 407) || r.apasswd === '' || reply === null) return;
  const ch = reply.getHeaders(code === 401 ? 'www-authenticate' : 'proxy-authenticate').flatMap(parseChallenges).find((c) => c.scheme === 'digest');
  const value = ch === undefined ? null : digestAuthorization(ch, r.auser, r.apasswd, r.method, r.ruri, undefined, (r.flags & FL_HA1) !== 0);
  if (value === null) {
    s.host.complain('uac_req_send: the challenge cannot be answered (no Digest challenge, or an unsupported algorithm or qop)', { code }, 'warn');
    return;
  }
  const auth = `${code === 401 ? 'Authorization' : 'Proxy-Authorization'}: ${value}\r\n`;
  const next = build(s, r, cseq + 1, b.fromTag, b.callId, auth);
  if (typeof next === 'string') return;
  if (!s.host.sip.sendLocal(next.spec, (c2, rep2) => { later(s, () => { onFinal(s, r, next, cseq + 1, c2, rep2, false); }); })) {
    s.host.complain('uac_req_send: the authenticated request was not sent', { ruri: r.ruri }, 'warn');
  }
}

const NO_SOURCE = { proto: 'udp', ip: '', port: 0, localIp: '', localPort: 0 } as const;

/**
 * event_callback("uac:reply") on the reply (none for a timeout: evtype 2), with $uac_req the
 * request's description and evcode / evtype set, as Kamailio copies it back.
 */
function runEvent(s: UacSendState, r: UacReq, code: number, reply: SipMessage | null): void {
  const cb = s.callback;
  if (cb === '' || !s.host.script.has(cb)) return;
  s.req = { ...r, evcode: code, evtype: reply === null ? 2 : 1 };
  s.host.script.run(cb, new Context('event', reply, NO_SOURCE), 'uac:reply');
}
