/**
 * KSR.rtpproxy: media relaying through an rtpproxy-protocol relay (Kamailio's rtpproxy module):
 * the calls wait in place for the relay's answer and rewrite the SDP themselves from the port
 * and address it gives (docs/rtpproxy.md). rtpengine's --listen-udp speaks this protocol.
 */
import { z } from 'zod';
import { defineModule, fn, type ModuleHost } from '../host/kemi/types.js';
import { INVALID_PARAMS, RpcError } from '../host/rpc/jsonrpc.js';
import { parseRelaySocks } from '../host/media-relay/relay-url.js';
import { RtpproxyClient } from '../host/rtpproxy/rtpproxy-client.js';
import { destroy, force, manage, rtppstat, startRecording, fail, type RtpproxyState } from './rtpproxy-call.js';

const params = z
  .object({
    rtpproxy_sock: z.union([z.string(), z.array(z.string())]).default('').superRefine((v, c) => {
      try {
        parseRelaySocks(typeof v === 'string' ? [v] : v);
      } catch (e) {
        c.addIssue({ code: 'custom', message: (e as Error).message });
      }
    }).describe('The rtpproxy instances: "udp:host:port[=weight] …" for set 0, "<id> == udp:…" for a numbered set; a list of such strings for several sets (one per Kamailio modparam line). Empty (the default): the module is idle and its functions return -1.'),
    rtpproxy_disable_tout: z.number().int().min(0).max(86_400).default(60)
      .describe('Seconds an instance that did not answer is skipped; it is checked again (V, VF) when they are over.'),
    rtpproxy_tout: z.number().min(0.001).max(60).default(1)
      .describe('Seconds to wait for an answer before sending the command again (Kamailio: whole seconds; here fractions too, e.g. 0.2). The script, and the whole server, wait meanwhile.'),
    rtpproxy_retr: z.number().int().min(1).max(20).default(5)
      .describe('How many times a command is sent before the instance counts as not answering.'),
    nortpproxy_str: z.string().default('a=nortpproxy:yes')
      .describe('The SDP line added to a rewritten SDP, and looked for to leave an SDP already rewritten alone (-2, unless flag f); trailing CR/LF are ignored; "" for none.'),
    extra_id_pv: z.string().default('').describe('Pseudo-variable whose value flag b appends to the Call-ID (e.g. "$avp(extra_id)").'),
    rtp_inst_pvar: z.string().default('').describe('Pseudo-variable set to the url of the instance used.'),
    max_in_flight: z.number().int().min(1).max(100_000).default(64).describe('Commands waiting for an answer at once (script calls wait one at a time; checks and RPC add to them).'),
  })
  .strict();

type Stat = 'requests' | 'timeouts' | 'refused' | 'retransmissions' | 'unsent' | 'disabled' | 'failures';

interface State extends RtpproxyState {
  readonly p: z.output<typeof params>;
}

const variants = (name: string, offer: boolean | null) => ({
  [name]: fn(['str'], 'int', (s: State, ctx, flags) => call(s, ctx, name, offer, flags, null), doc(name)),
  [`${name}0`]: fn([], 'int', (s: State, ctx) => call(s, ctx, name, offer, '', null), `${name} without flags.`),
  [`${name}_ip`]: fn(['str', 'str'], 'int', (s: State, ctx, flags, ip) => call(s, ctx, name, offer, flags, ip), `${name} writing this address into the SDP instead of the relay's.`),
});

function doc(name: string): string {
  if (name === 'rtpproxy_manage') return 'Offer, answer or destroy as the message calls for (INVITE/UPDATE/PRACK with SDP offer, ACK and 1xx/2xx with SDP answer — offer when the INVITE had none —, BYE/CANCEL, replies >= 300 and an INVITE in a failure route destroy). 1, -1, -2 (already proxied), -3 (no relay).';
  if (name === 'rtpproxy_offer') return 'Send U for each media stream and rewrite the SDP (ports, c=, o=, a=rtcp) with the relay\'s answers; the body relayed. 1, -1, -2 (already proxied: nortpproxy_str found, flag f ignores it), -3 (no relay).';
  return 'Send L for each media stream (a reply, or an ACK: other requests -1) and rewrite the SDP with the relay\'s answers.';
}

function call(s: State, ctx: Parameters<typeof force>[1], name: string, offer: boolean | null, flags: string, ip: string | null): number {
  if (offer === null) return manage(s, ctx, flags, ip);
  if (!offer && ctx.msg?.isRequest === true && ctx.msg.method !== 'ACK') return -1;
  return force(s, ctx, name, flags, offer, ip);
}

export default defineModule({
  name: 'rtpproxy',
  doc: 'Media relaying through an rtpproxy-protocol relay (rtpproxy, or rtpengine\'s --listen-udp): offer/answer rewrite the SDP to relay, destroy ends the session; sets with weights and failover.',
  params,
  stats: ['requests', 'timeouts', 'refused', 'retransmissions', 'unsent', 'disabled', 'failures', 'instance_*'],
  init: (host: ModuleHost, p): State => ({
    client: null, host, p, mark: p.nortpproxy_str.replace(/[\r\n]+$/, ''),
    pvNames: { extraId: p.extra_id_pv, rtpInst: p.rtp_inst_pvar },
    pvCache: new Map(), selection: new WeakMap(), sdpOffered: new WeakSet(), failures: host.stat('failures'),
  }),
  start: async (s: State) => {
    const specs = parseRelaySocks(typeof s.p.rtpproxy_sock === 'string' ? [s.p.rtpproxy_sock] : s.p.rtpproxy_sock);
    if (specs.length === 0) return;
    const h = s.host;
    const stat = (n: Stat): ReturnType<ModuleHost['stat']> => h.stat(n);
    s.client = await RtpproxyClient.start(specs, {
      disableToutSec: s.p.rtpproxy_disable_tout, toutMs: Math.max(1, Math.round(s.p.rtpproxy_tout * 1000)), tries: s.p.rtpproxy_retr, maxInFlight: s.p.max_in_flight,
    }, { boundary: h.boundary, log: h.log, stat: (n) => h.stat(n), gauge: (n) => h.gauge(n) }, {
      requests: stat('requests'), timeouts: stat('timeouts'), refused: stat('refused'), retransmissions: stat('retransmissions'), unsent: stat('unsent'), disabled: stat('disabled'),
    });
  },
  close: async (s: State) => {
    const c = s.client;
    s.client = null;
    await c?.close();
  },
  functions: {
    ...variants('rtpproxy_manage', null),
    ...variants('rtpproxy_offer', true),
    ...variants('rtpproxy_answer', false),
    rtpproxy_destroy: fn(['str'], 'int', (s: State, ctx, flags) => destroy(s, ctx, 'rtpproxy_destroy', flags),
      'Send D for the call (flags 1/2/3 via-branch, b extra id, t without the To tag): 1 once sent, -1 when no relay is usable.'),
    rtpproxy_destroy0: fn([], 'int', (s: State, ctx) => destroy(s, ctx, 'rtpproxy_destroy', ''), 'rtpproxy_destroy without flags.'),
    set_rtpproxy_set: fn(['int'], 'int', (s: State, ctx, id) => {
      if (ctx.msg === null) return fail(s, 'set_rtpproxy_set', 'no SIP message');
      if (s.client?.pool.sets.has(id) !== true) return fail(s, 'set_rtpproxy_set', `could not locate rtpproxy set ${String(id)}`);
      s.selection.set(ctx.msg, id);
      return 1;
    }, 'Use this set for the next commands on this message: 1, or -1 when it is not configured.'),
    start_recording: fn([], 'int', (s: State, ctx) => startRecording(s, ctx), 'Send R (record) for the call: 1 once sent (the answer is not checked), -1 when no relay is usable.'),
  },
  pvs: {
    rtppstat: { get: (s: State, ctx) => rtppstat(s, ctx), volatile: true, doc: 'The relay\'s answer to Q for the call, as it came; $null when there is none. ($rtpstat is rtpengine\'s here.)' },
  },
  rpc: {
    'rtpproxy.list': {
      doc: 'The instances: set, url, weight, disabled, seconds to the next check',
      run: (s: State) => (s.client?.pool.sets.nodes ?? []).map((n) => ({
        setid: n.setId, url: n.name, index: n.index, weight: n.weight, disabled: n.usable() ? 0 : 1,
        recheck_in_s: n.usable() || n.disabledUntil === Infinity ? 0 : Math.max(0, Math.ceil((n.disabledUntil - Date.now()) / 1000)),
      })),
    },
    'rtpproxy.enable': {
      doc: 'Enable (1: once it answers V and VF) or disable (0: until enabled again) an instance by url',
      run: async (s: State, p) => {
        const on = Number(p[1]);
        const nodes = s.client?.pool.sets.find(typeof p[0] === 'string' ? p[0] : '') ?? [];
        if (nodes.length === 0 || (on !== 0 && on !== 1)) throw new RpcError(INVALID_PARAMS, 'expected: url, 0|1');
        const client = s.client;
        for (const n of nodes) {
          if (on === 0) n.disable(Infinity);
          else if (!n.usable()) n.disable(Date.now());
        }
        if (on === 1 && client !== null) await Promise.all(nodes.map((n) => client.pool.recheck(n)));
        return nodes.map((n) => ({ url: n.name, disabled: n.usable() ? 0 : 1 }));
      },
    },
  },
});
