/**
 * KSR.siptrace: mirror the message being routed to a capture server (Kamailio's siptrace
 * module), as a HEPv3 packet (hep_mode_on=1) or as the plain SIP datagram (hep_mode_on=0), and
 * hlog's HEP log records. Sent over UDP from one of our SIP sockets, as Kamailio sends from a
 * listening socket; a send never blocks the script and never fails the call (Kamailio ignores
 * the send's result too): failures are counted and complained about, rate-limited. Type "t"
 * follows the transaction through tm's wire observers. Not here: tracing to a database, a whole
 * dialog, the core-callback trace_mode and the X-Siptrace headers; see docs/siptrace.md.
 */
import { z } from 'zod';
import type { Context } from '../host/kemi/context.js';
import type { Counter } from '../host/kemi/stats.js';
import { defineModule, fn, type ModuleHost } from '../host/kemi/types.js';
import { INVALID_PARAMS, RpcError } from '../host/rpc/jsonrpc.js';
import { encodeHep3, ipProtoOf, HEP_PROTO_LOG, HEP_PROTO_SIP, IPPROTO_UDP } from '../host/siptrace/hep.js';
import type { SocketAddress } from '../host/sip/types.js';
import { layerOf } from '../host/sip/transaction/transaction-layer.js';
import type { TmSettings, WireEvent } from '../host/sip/transaction/tm-settings.js';
import { parseTraceUri, parseSockAddr, type TraceDest } from '../host/siptrace/dest.js';

const zeroOnly = (doc: string) => z.literal(0).default(0).describe(doc);

const params = z
  .object({
    duplicate_uri: z.string().default('').superRefine((v, c) => {
      if (v !== '' && typeof parseTraceUri(v) === 'string') c.addIssue({ code: 'custom', message: `${parseTraceUri(v) as string}, e.g. "sip:10.0.0.9:9060"` });
    }).describe('Where the traces go: "sip:IP:port" (port 5060 when left out), over UDP. An IP literal: host names are not resolved here.'),
    hep_mode_on: z.number().int().min(0).max(1).default(0).describe('1: send HEP packets; 0: send the traced message itself as a datagram.'),
    hep_version: z.literal(3, { message: 'only HEP version 3 is sent here (Kamailio also writes the older 1 and 2)' }).default(3)
      .describe('HEP version: 3 only (Kamailio also writes 1 and 2; their header-only forms are refused here with a config error). Kamailio\'s default is 1, so a cfg that relied on it sets 3 here.'),
    hep_capture_id: z.number().int().min(0).max(0xffffffff).default(1).describe('The capture agent id written in every HEP packet (chunk 0x000c).'),
    auth_key: z.string().default('').describe('The HEP authentication key (chunk 0x000e); empty: none.'),
    trace_on: z.number().int().min(0).max(1).default(0).describe('0: sip_trace* do nothing and return -1 until the RPC siptrace.status "on"; 1: tracing is on. As Kamailio, off by default.'),
    trace_to_database: zeroOnly('Kamailio\'s default 1 writes every trace to a database table; kemihost has no database tracing, so only 0 is accepted (set it explicitly in a cfg ported from Kamailio).'),
    trace_mode: zeroOnly('Kamailio\'s core-callback mirroring of every message sent and received (1 = HEP); not here: only 0.'),
    xheaders_write: zeroOnly('X-Siptrace-* headers: not written here; only 0.'),
    xheaders_read: zeroOnly('X-Siptrace-* headers: not read here; only 0.'),
    trace_flag: z.number().int().min(-1).max(31).default(-1).describe('Accepted for a ported cfg; Kamailio reads it only in its native sip_trace() without arguments, never from KEMI, so it changes nothing here either.'),
    send_sock_addr: z.string().default('').superRefine((v, c) => {
      if (v !== '' && parseSockAddr(v) === null) c.addIssue({ code: 'custom', message: 'expected "udp:IP:port" (one of our UDP listen addresses)' });
    }).describe('Our UDP socket the traces leave from, "udp:IP:port"; empty: the first of the destination\'s address family.'),
  })
  .strict();

type Params = z.output<typeof params>;

interface SiptraceState {
  readonly host: ModuleHost;
  readonly p: Params;
  readonly dup: TraceDest | null;
  readonly sendSock: SocketAddress | null;
  /** trace_on, switched by the RPC siptrace.status */
  on: boolean;
  /** transactions traced with "t" / "d" already */
  readonly watched: WeakSet<TmSettings>;
  readonly requests: Counter;
  readonly replies: Counter;
  readonly errors: Counter;
}

type Mode = 'm' | 't' | 'd';

/** Kamailio's siptrace_parse_flag: one of m/t/d (any case), blanks allowed; null otherwise. */
function parseMode(s: string): Mode | null {
  let mode: Mode | null = null;
  for (const ch of s.toLowerCase()) {
    if (ch === ' ' || ch === '\t') continue;
    if ((ch !== 'm' && ch !== 't' && ch !== 'd') || mode !== null) return null;
    mode = ch;
  }
  return mode;
}

/** Send a datagram to the trace destination; never throws. */
function send(s: SiptraceState, data: Buffer, dest: TraceDest): boolean {
  let ok = false;
  try {
    ok = s.host.sip.sendUdp(data, dest.ip, dest.port, s.sendSock);
  } catch (e) {
    s.host.complain('siptrace: sending the trace failed', { err: String(e) });
  }
  if (!ok) {
    s.errors.value++;
    s.host.complain('siptrace: could not send to the trace destination (no UDP socket of its address family?)', { dest: `${dest.ip}:${String(dest.port)}` });
  }
  return ok;
}

/**
 * Kamailio's sip_trace on the message being routed: its bytes as received, from the source
 * address to our socket that took it. 1 traced (the send's result does not change it, as in
 * Kamailio), -1 tracing off, no destination or a bad one.
 */
function trace(s: SiptraceState, ctx: Context, duri: string | null, cid: string, mode: Mode): number {
  const msg = ctx.msg;
  if (msg === null) return -1;
  let dest = s.dup;
  if (duri !== null && duri !== '') {
    const d = parseTraceUri(duri);
    if (typeof d === 'string') {
      s.host.complain(`siptrace: bad trace destination: ${d}`, { uri: duri });
      return -1;
    }
    dest = d;
  }
  if (dest === null) {
    s.host.complain('siptrace: no duplicate_uri parameter and no destination given');
    return -1;
  }
  // Kamailio (IPv4 listeners only) refuses sip:[::1] as "bad host name in uri": no socket, no trace
  if (s.host.sip.udpSocketFor(dest.ip, s.sendSock) === null) {
    s.errors.value++;
    s.host.complain('siptrace: no UDP socket of the trace destination\'s address family', { dest: dest.ip });
    return -1;
  }
  // Kamailio: a transaction or dialog is traced from its request
  if (mode !== 'm' && (!msg.isRequest || (mode === 'd' && msg.method !== 'INVITE'))) {
    s.host.complain(`siptrace: tracing a ${mode === 't' ? 'transaction' : 'dialog'} starts on its ${mode === 't' ? 'request' : 'initial INVITE'}`);
    return -1;
  }
  if (mode !== 'm') watchTransaction(s, ctx, dest);
  if (!s.on) return -1;
  const src = ctx.src;
  mirror(s, dest, cid, { data: msg.raw, isRequest: msg.isRequest, proto: src.proto, srcIp: src.ip, srcPort: src.port, dstIp: src.localIp, dstPort: src.localPort });
  return 1;
}

/** Send one traced message: HEPv3 or the message itself. */
function mirror(s: SiptraceState, dest: TraceDest, cid: string, e: WireEvent): void {
  (e.isRequest ? s.requests : s.replies).value++;
  if (s.p.hep_mode_on === 0) {
    send(s, e.data, dest);
    return;
  }
  const packet = encodeHep3({
    ipProto: ipProtoOf(e.proto), srcIp: e.srcIp, srcPort: e.srcPort, dstIp: e.dstIp, dstPort: e.dstPort,
    timeMs: performance.timeOrigin + performance.now(), protoType: HEP_PROTO_SIP, captureId: s.p.hep_capture_id,
    correlationId: cid, authKey: s.p.auth_key, payload: e.data,
  });
  if (packet === null) {
    s.errors.value++;
    s.host.complain('siptrace: cannot encode the HEP packet (mixed address families or over 64 KiB)');
  } else send(s, packet, dest);
}

/**
 * Trace type "t" (and "d", for its INVITE's transaction): the messages the transaction sends and
 * receives from now on — the relayed request and a CANCEL of it, the replies received, the
 * replies sent upstream (relayed or t_reply's) — as Kamailio's TMCB_REQUEST_SENT,
 * TMCB_RESPONSE_IN and TMCB_RESPONSE_SENT callbacks do. Once per transaction, as Kamailio
 * skips a request already traced.
 */
function watchTransaction(s: SiptraceState, ctx: Context, dest: TraceDest): void {
  const settings = layerOf(ctx)?.settingsFor(ctx) ?? null;
  if (settings === null || s.watched.has(settings)) return;
  s.watched.add(settings);
  // Kamailio's tm callbacks send no correlation id: only the message sip_trace was called on has it
  (settings.wire ??= []).push((e) => {
    if (s.on) mirror(s, dest, '', e);
  });
}

/**
 * Kamailio's hlog: a HEP log record (type 100) to duplicate_uri, from our sending socket, with
 * the Call-ID as correlation id unless one is given. Whatever hep_mode_on and trace_on say, as
 * in Kamailio. 1 sent, -1 not.
 */
function hlog(s: SiptraceState, ctx: Context, cid: string | null, message: string): number {
  const dest = s.dup;
  if (dest === null) {
    s.host.complain('siptrace: hlog needs the duplicate_uri parameter');
    return -1;
  }
  const corr = cid ?? ctx.msg?.callId ?? null;
  if (corr === null) return -1;
  const sock = s.host.sip.udpSocketFor(dest.ip, s.sendSock);
  if (sock === null) {
    s.errors.value++;
    s.host.complain('siptrace: hlog: no UDP socket of the destination\'s address family');
    return -1;
  }
  const packet = encodeHep3({
    ipProto: IPPROTO_UDP, srcIp: sock.ip, srcPort: sock.port, dstIp: dest.ip, dstPort: dest.port,
    timeMs: performance.timeOrigin + performance.now(), protoType: HEP_PROTO_LOG, captureId: s.p.hep_capture_id,
    correlationId: corr, authKey: s.p.auth_key, payload: Buffer.from(message), dstPortFirst: true,
  });
  if (packet === null) {
    s.errors.value++;
    return -1;
  }
  return send(s, packet, dest) ? 1 : -1;
}

function status(s: SiptraceState, args: readonly unknown[]): string {
  const a = typeof args[0] === 'string' ? args[0].toLowerCase() : null;
  if (a === null) throw new RpcError(INVALID_PARAMS, 'Not enough parameters (on, off or check)');
  // Kamailio compares prefixes: "onwards" is on
  if (a.startsWith('on')) s.on = true;
  else if (a.startsWith('off')) s.on = false;
  else if (!a.startsWith('check')) throw new RpcError(INVALID_PARAMS, 'Bad parameter (on, off or check)');
  return s.on ? 'Enabled' : 'Disabled';
}

export default defineModule({
  name: 'siptrace',
  doc: 'Mirror the routed message to a capture server as HEPv3 (hep_mode_on=1) or as the SIP datagram itself; hlog sends HEP log records.',
  params,
  stats: ['traced_requests', 'traced_replies', 'send_errors'],
  init: (host, p): SiptraceState => {
    const dup = p.duplicate_uri === '' ? null : parseTraceUri(p.duplicate_uri);
    return {
      host, p, on: p.trace_on === 1, watched: new WeakSet(),
      dup: typeof dup === 'string' ? null : dup,
      sendSock: parseSockAddr(p.send_sock_addr),
      requests: host.stat('traced_requests'), replies: host.stat('traced_replies'), errors: host.stat('send_errors'),
    };
  },
  functions: {
    sip_trace: fn([], 'int', (s: SiptraceState, ctx) => trace(s, ctx, null, '', 'm'),
      'Send the message being routed, as received, to duplicate_uri (HEP with hep_mode_on=1). 1 traced; -1 tracing off (trace_on) or no duplicate_uri.'),
    sip_trace_dst: fn(['str'], 'int', (s: SiptraceState, ctx, duri) => trace(s, ctx, duri, '', 'm'),
      'As sip_trace, to this destination ("sip:IP:port"; "" = duplicate_uri). -1 for a destination that does not parse.'),
    sip_trace_dst_cid: fn(['str', 'str'], 'int', (s: SiptraceState, ctx, duri, cid) => trace(s, ctx, duri, cid, 'm'),
      'As sip_trace_dst, with a HEP correlation id (chunk 0x0011; "" = none).'),
    sip_trace_dst_cid_type: fn(['str', 'str', 'str'], 'int', (s: SiptraceState, ctx, duri, cid, type) => {
      const mode = parseMode(type);
      if (mode === null) s.host.complain('siptrace: invalid trace type (one of m, t, d)', { type });
      return trace(s, ctx, duri, cid, mode ?? 'm');
    }, 'As sip_trace_dst_cid with a trace type: "m" the message; "t" also what its transaction then sends and receives (relayed request, replies in and out); "d" as "t" for an INVITE (not the dialog\'s later requests). "t" on a reply and "d" on other than an INVITE: -1.'),
    sip_trace_mode: fn(['str'], 'int', (s: SiptraceState, ctx, smode) => {
      const c = smode.charAt(0).toLowerCase();
      return trace(s, ctx, null, '', c === 't' || c === 'd' ? c : 'm');
    }, 'sip_trace with a mode by first letter: "m" message, "t" transaction, "d" dialog (anything else: message); as sip_trace_dst_cid_type for t and d.'),
    hlog: fn(['str'], 'int', (s: SiptraceState, ctx, message) => hlog(s, ctx, null, message),
      'Send a HEP log record (proto type 100) with this text to duplicate_uri, correlated by the Call-ID. 1 sent, -1 not (no duplicate_uri).'),
    hlog_cid: fn(['str', 'str'], 'int', (s: SiptraceState, ctx, cid, message) => hlog(s, ctx, cid, message),
      'As hlog with this correlation id.'),
  },
  rpc: {
    'siptrace.status': { doc: 'Switch tracing on or off, or ask: "on", "off" or "check"; answers "Enabled" or "Disabled".', run: status },
  },
});
