/**
 * KSR.rtpengine: media relaying through Sipwise rtpengine over the NG protocol (Kamailio's
 * rtpengine module). The calls wait in place for rtpengine's answer, so rtpengine_offer returns
 * 1 with the rewritten SDP already set as the body to relay, or -1 (docs/rtpengine.md).
 */
import { z } from 'zod';
import type { Context } from '../host/kemi/context.js';
import { defineModule, fn, type ModuleHost } from '../host/kemi/types.js';
import { RpcError, INVALID_PARAMS } from '../host/rpc/jsonrpc.js';
import { parseRelaySocks } from '../host/media-relay/relay-url.js';
import { bdict, bint, type BDict, type BValue } from '../host/rtpengine/bdecode.js';
import { RtpengineClient } from '../host/rtpengine/rtpengine-client.js';
import type { NgOp } from '../host/rtpengine/ng-ops.js';
import { fail, manage, offerAnswer, query, simple, pvOf, type RtpengineState } from './rtpengine-call.js';

const sock = z.union([z.string(), z.array(z.string())]);

const params = z
  .object({
    rtpengine_sock: sock.default('').superRefine((v, c) => {
      try {
        parseRelaySocks(typeof v === 'string' ? [v] : v);
      } catch (e) {
        c.addIssue({ code: 'custom', message: (e as Error).message });
      }
    }).describe('The rtpengine instances: "udp:host:port[=weight] …" for the default set, "<id> == udp:… udp6:[addr]:port=2" for a numbered set; a list of such strings for several sets (one per Kamailio modparam line). Empty (the default): the module is idle and its functions return -1.'),
    rtpengine_disable_tout: z.number().int().min(0).max(86_400).default(60)
      .describe('Seconds an instance that did not answer is skipped; it is pinged when they are over and used again once it answers.'),
    rtpengine_tout_ms: z.number().int().min(1).max(60_000).default(1000)
      .describe('Milliseconds to wait for an answer before sending the request again. The script, and the whole server, wait meanwhile: keep rtpengine_tout_ms x rtpengine_retr small.'),
    rtpengine_retr: z.number().int().min(1).max(20).default(5)
      .describe('How many times a request is sent before the instance counts as not answering (Kamailio: the same). Waiting for a dead instance costs rtpengine_tout_ms x rtpengine_retr once, then it is disabled.'),
    queried_nodes_limit: z.number().int().min(1).max(30).default(30)
      .describe('Instances tried for one request before giving up.'),
    aggressive_redetection: z.number().int().min(0).max(1).default(1)
      .describe('1: when no instance of a set is usable, every disabled one is pinged at once (off the message path: the request that found none still fails).'),
    extra_id_pv: z.string().default('').describe('Pseudo-variable whose value via-branch=extra sends (e.g. "$avp(extra_id)").'),
    setid_avp: z.string().default('').describe('AVP that, when it holds an integer, names the set to use (e.g. "$avp(setid)"); it wins over set_rtpengine_set.'),
    setid_default: z.number().int().min(0).default(0).describe('The set used when none was chosen.'),
    read_sdp_pv: z.string().default('').describe('Take the SDP to send from this pseudo-variable instead of the message body; the answer then replaces the whole body.'),
    write_sdp_pv: z.string().default('').describe('Put the SDP rtpengine returns into this pseudo-variable instead of the message body.'),
    rtp_inst_pvar: z.string().default('').describe('Pseudo-variable set to the url of the instance that answered.'),
    hash_table_size: z.number().int().default(256).describe('Accepted for compatibility; the table of calls grows as needed (bounded by max_calls).'),
    hash_table_tout: z.number().int().min(1).default(3600).describe('Seconds a call stays bound to the instance that has it.'),
    max_calls: z.number().int().min(100).max(10_000_000).default(500_000).describe('Calls remembered with their instance; past it the oldest is forgotten (its next command is routed by the Call-ID hash again).'),
    max_in_flight: z.number().int().min(1).max(100_000).default(64).describe('Requests waiting for an answer at once (script calls wait one at a time; pings and RPC add to them).'),
  })
  .strict();

type Stat = 'requests' | 'answers' | 'error_answers' | 'bad_answers' | 'timeouts' | 'refused' | 'retransmissions' | 'unsent' | 'no_instance' | 'disabled' | 'failures';
const STATS: readonly Stat[] = ['requests', 'answers', 'error_answers', 'bad_answers', 'timeouts', 'refused', 'retransmissions', 'unsent', 'no_instance', 'disabled', 'failures'];

interface State extends RtpengineState {
  readonly p: z.output<typeof params>;
}

function rtpstat(s: State, ctx: Context): string | null {
  const q = query(s, ctx);
  if (typeof q === 'string') {
    fail(s, '$rtpstat', q);
    return null;
  }
  const totals = bdict(q, 'totals');
  const rtp = bdict(totals, 'RTP');
  const rtcp = bdict(totals, 'RTCP');
  if (rtp === undefined || rtcp === undefined) return null;
  const n = (d: BDict, k: string): string => String(bint(d, k, -1));
  return `RTP: ${n(rtp, 'bytes')} bytes, ${n(rtp, 'packets')} packets, ${n(rtp, 'errors')} errors; RTCP: ${n(rtcp, 'bytes')} bytes, ${n(rtcp, 'packets')} packets, ${n(rtcp, 'errors')} errors`;
}

/** a bencoded value as JSON-ready data: strings as text */
function jsonOf(v: BValue): unknown {
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'number') return v;
  if (Array.isArray(v)) return v.map(jsonOf);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x === undefined ? null : jsonOf(x)]));
}

function queryV(s: State, ctx: Context, fmt: string, dst: string): number {
  const f = 'rtpengine_query_v';
  if (!/^[jJ]/.test(fmt)) return fail(s, f, `invalid format parameter value: ${fmt}`);
  const pv = pvOf(s, dst);
  if (pv?.set === undefined) return fail(s, f, `target pv is not writable: ${dst}`);
  const q = query(s, ctx);
  if (typeof q === 'string') return fail(s, f, q);
  pv.set(ctx, /^.[pP]/.test(fmt) ? JSON.stringify(jsonOf(q), null, '\t') : JSON.stringify(jsonOf(q)));
  return 1;
}

function setSet(s: State, ctx: Context, fnName: string, set1: number, set2: number | null): number {
  const msg = ctx.msg;
  const sets = s.client?.pool.sets;
  if (msg === null) return fail(s, fnName, 'no SIP message');
  for (const id of set2 === null ? [set1] : [set1, set2]) {
    if (sets?.has(id) !== true) return fail(s, fnName, `rtpp_proxy set ${String(id)} not configured`);
  }
  s.selection.set(msg, { set1, set2 });
  for (const id of set2 === null ? [set1] : [set1, set2]) {
    if (sets?.usableCount(id) === 0) {
      s.host.complain(`KSR.rtpengine.${fnName}: selected proxy set ${String(id)} but it has no active node`, {}, 'warn');
      return -2;
    }
  }
  return 1;
}

const withFlags = (op: NgOp, name: string) => fn(['str'], 'int', (s: State, ctx, flags) => simple(s, ctx, name, op, flags),
  `Send "${op.replaceAll('_', ' ')}" for this call with these flags: 1 when rtpengine answered "ok", else -1.`);
const noFlags = (op: NgOp, name: string) => fn([], 'int', (s: State, ctx) => simple(s, ctx, name, op, ''),
  `${name} without flags.`);

function nodeInfo(s: State, url: string): unknown[] {
  const nodes = s.client?.pool.sets.find(url) ?? [];
  if (nodes.length === 0) throw new RpcError(INVALID_PARAMS, `instance not found: ${url}`);
  const now = Date.now();
  return nodes.map((n) => ({
    url: n.name, set: n.setId, index: n.index, weight: n.weight,
    disabled: n.usable() ? 0 : 1, permanent: n.disabledUntil === Infinity ? 1 : 0,
    recheck_in_s: n.usable() || n.disabledUntil === Infinity ? 0 : Math.max(0, Math.ceil((n.disabledUntil - now) / 1000)),
  }));
}

export default defineModule({
  name: 'rtpengine',
  doc: 'Media relaying through rtpengine (NG protocol): offer/answer rewrite the SDP to relay, delete/query/recording/media control, instance sets with weights and failover.',
  params,
  stats: [...STATS, 'instance_*'],
  init: (host: ModuleHost, p): State => ({
    client: null, host, p, setidDefault: p.setid_default,
    pvNames: { extraId: p.extra_id_pv, setidAvp: p.setid_avp, readSdp: p.read_sdp_pv, writeSdp: p.write_sdp_pv, rtpInst: p.rtp_inst_pvar },
    pvCache: new Map(), selection: new WeakMap(), sdpOffered: new WeakSet(), failures: host.stat('failures'),
  }),
  start: async (s: State) => {
    const socks = typeof s.p.rtpengine_sock === 'string' ? [s.p.rtpengine_sock] : s.p.rtpengine_sock;
    const specs = parseRelaySocks(socks, s.p.setid_default);
    if (specs.length === 0) return;
    const h = s.host;
    const stat = (n: Stat): ReturnType<ModuleHost['stat']> => h.stat(n);
    s.client = await RtpengineClient.start(specs, {
      disableToutSec: s.p.rtpengine_disable_tout, toutMs: s.p.rtpengine_tout_ms, tries: s.p.rtpengine_retr, maxInFlight: s.p.max_in_flight,
      callTtlSec: s.p.hash_table_tout, maxCalls: s.p.max_calls, queriedNodesLimit: s.p.queried_nodes_limit, aggressiveRedetection: s.p.aggressive_redetection === 1,
    }, { boundary: h.boundary, log: h.log, stat: (n) => h.stat(n), gauge: (n) => h.gauge(n) }, {
      requests: stat('requests'), answers: stat('answers'), errorAnswers: stat('error_answers'), badAnswers: stat('bad_answers'),
      timeouts: stat('timeouts'), refused: stat('refused'), retransmissions: stat('retransmissions'), unsent: stat('unsent'),
      noInstance: stat('no_instance'), disabled: stat('disabled'),
    });
  },
  close: async (s: State) => {
    const c = s.client;
    s.client = null;
    await c?.close();
  },
  functions: {
    rtpengine_manage: fn(['str'], 'int', (s: State, ctx, flags) => manage(s, ctx, flags),
      'Offer, answer or delete as the message calls for: INVITE/UPDATE with SDP offer (INVITE in a failure route: delete), ACK/PRACK with SDP answer, BYE/CANCEL and replies >= 300 delete, 1xx/2xx with SDP answer (offer when the INVITE had none). 1 or -1.'),
    rtpengine_manage0: fn([], 'int', (s: State, ctx) => manage(s, ctx, ''), 'rtpengine_manage without flags.'),
    rtpengine_offer: fn(['str'], 'int', (s: State, ctx, flags) => offerAnswer(s, ctx, 'rtpengine_offer', 'offer', flags),
      'Send the message\'s SDP as an offer; rtpengine\'s SDP becomes the body relayed (or write_sdp_pv). 1 or -1.'),
    rtpengine_offer0: fn([], 'int', (s: State, ctx) => offerAnswer(s, ctx, 'rtpengine_offer', 'offer', ''), 'rtpengine_offer without flags.'),
    rtpengine_answer: fn(['str'], 'int', (s: State, ctx, flags) => (ctx.msg?.isRequest === true && ctx.msg.method !== 'ACK' && ctx.msg.method !== 'PRACK' ? -1 : offerAnswer(s, ctx, 'rtpengine_answer', 'answer', flags)),
      'Send the message\'s SDP as the answer (a reply, an ACK or a PRACK; other requests: -1); rtpengine\'s SDP becomes the body relayed.'),
    rtpengine_answer0: fn([], 'int', (s: State, ctx) => (ctx.msg?.isRequest === true && ctx.msg.method !== 'ACK' && ctx.msg.method !== 'PRACK' ? -1 : offerAnswer(s, ctx, 'rtpengine_answer', 'answer', '')), 'rtpengine_answer without flags.'),
    rtpengine_delete: withFlags('delete', 'rtpengine_delete'),
    rtpengine_delete0: noFlags('delete', 'rtpengine_delete'),
    rtpengine_query: withFlags('query', 'rtpengine_query'),
    rtpengine_query0: noFlags('query', 'rtpengine_query'),
    rtpengine_query_v: fn(['str', 'str'], 'int', (s: State, ctx, fmt, dst) => queryV(s, ctx, fmt, dst),
      'Query the call and set the variable dst (e.g. "$var(q)") to the answer as JSON: fmt "j" compact, "jp" pretty.'),
    start_recording: fn([], 'int', (s: State, ctx) => simple(s, ctx, 'start_recording', 'start_recording', ''), 'Ask rtpengine to record the call.'),
    stop_recording: fn([], 'int', (s: State, ctx) => simple(s, ctx, 'stop_recording', 'stop_recording', ''), 'Ask rtpengine to stop recording the call.'),
    block_dtmf: withFlags('block_dtmf', 'block_dtmf'),
    block_dtmf0: noFlags('block_dtmf', 'block_dtmf'),
    unblock_dtmf: withFlags('unblock_dtmf', 'unblock_dtmf'),
    unblock_dtmf0: noFlags('unblock_dtmf', 'unblock_dtmf'),
    block_media: withFlags('block_media', 'block_media'),
    block_media0: noFlags('block_media', 'block_media'),
    unblock_media: withFlags('unblock_media', 'unblock_media'),
    unblock_media0: noFlags('unblock_media', 'unblock_media'),
    silence_media: withFlags('silence_media', 'silence_media'),
    silence_media0: noFlags('silence_media', 'silence_media'),
    unsilence_media: withFlags('unsilence_media', 'unsilence_media'),
    unsilence_media0: noFlags('unsilence_media', 'unsilence_media'),
    play_media: withFlags('play_media', 'play_media'),
    stop_media: withFlags('stop_media', 'stop_media'),
    stop_media0: noFlags('stop_media', 'stop_media'),
    set_rtpengine_set: fn(['int'], 'int', (s: State, ctx, id) => setSet(s, ctx, 'set_rtpengine_set', id, null),
      'Use this set for the next commands on this message: 1, -1 when not configured, -2 when none of its instances is usable.'),
    set_rtpengine_set2: fn(['int', 'int'], 'int', (s: State, ctx, a, b) => setSet(s, ctx, 'set_rtpengine_set2', a, b),
      'Chain two sets: offer and answer go through both, the first set\'s SDP going to the second (the answer in the other order).'),
  },
  pvs: {
    rtpstat: { get: (s: State, ctx) => rtpstat(s, ctx), volatile: true, doc: 'The call\'s packet counters from rtpengine (a query): "RTP: <b> bytes, <p> packets, <e> errors; RTCP: …"; $null when the query fails.' },
    rtpestat: { get: (s: State, ctx) => rtpstat(s, ctx), volatile: true, doc: 'Same as $rtpstat.' },
  },
  rpc: {
    'rtpengine.show': { doc: 'The instances (url or "all"): set, weight, disabled, seconds to the next ping', run: (s: State, p) => nodeInfo(s, typeof p[0] === 'string' ? p[0] : 'all') },
    'rtpengine.ping': {
      doc: 'Ping the instances (url or "all"): one that does not answer is disabled',
      run: async (s: State, p) => {
        const nodes = s.client?.pool.sets.find(typeof p[0] === 'string' ? p[0] : 'all') ?? [];
        if (nodes.length === 0) throw new RpcError(INVALID_PARAMS, 'instance not found');
        const client = s.client;
        return Promise.all(nodes.map(async (n) => ({ url: n.name, set: n.setId, answered: client === null ? 0 : (await client.pool.recheck(n)) ? 1 : 0 })));
      },
    },
    'rtpengine.enable': {
      doc: 'Enable (1: after a ping it answers) or disable (0: until enabled again) the instances (url or "all")',
      run: async (s: State, p) => {
        const on = Number(p[1]);
        const nodes = s.client?.pool.sets.find(typeof p[0] === 'string' ? p[0] : '') ?? [];
        if (nodes.length === 0 || (on !== 0 && on !== 1)) throw new RpcError(INVALID_PARAMS, 'expected: url|all, 0|1');
        // enabling a disabled instance first makes it a temporarily disabled one, pinged now
        for (const n of nodes) {
          if (on === 0) n.disable(Infinity);
          else if (!n.usable()) n.disable(Date.now());
        }
        const client = s.client;
        if (on === 1 && client !== null) await Promise.all(nodes.map((n) => client.pool.recheck(n)));
        return nodeInfo(s, typeof p[0] === 'string' ? p[0] : 'all');
      },
    },
    'rtpengine.get_hash_total': { doc: 'How many calls are bound to an instance now', run: (s: State) => s.client?.calls.size ?? 0 },
  },
});
