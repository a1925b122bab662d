/**
 * What rtpengine and rtpproxy read from a message to build a relay command (call-id, tags, the
 * source, a Via branch, extra_id_pv), and the cache of the pseudo-variables their parameters
 * name. One place for both relay bindings.
 */
import type { Context } from '../host/kemi/context.js';
import type { ModuleHost } from '../host/kemi/types.js';
import type { ResolvedPv } from '../host/kemi/pv.js';
import type { MessageFacts } from '../host/media-relay/message-facts.js';
import type { SipMessage } from '../host/sip/message.js';

/** The pseudo-variable a module parameter names, resolved once ('' = the parameter is not set). */
export function cachedPv(host: ModuleHost, cache: Map<string, ResolvedPv | null>, name: string): ResolvedPv | null {
  if (name === '') return null;
  let pv = cache.get(name);
  if (pv === undefined) {
    pv = host.pvs.resolve(name);
    cache.set(name, pv);
  }
  return pv;
}

/** The facts of `msg` (the request, or the reply in a reply route); `extraIdPv` is extra_id_pv's. */
export function messageFacts(ctx: Context, msg: SipMessage, extraIdPv: ResolvedPv | null): MessageFacts {
  return {
    isRequest: msg.isRequest,
    callId: msg.callId,
    fromTag: msg.from.tag,
    toTag: msg.to.tag,
    srcIp: ctx.src.ip,
    viaBranch: (n) => {
      try {
        return msg.vias[n - 1]?.branch ?? '';
      } catch {
        return ''; // a malformed lower Via: no branch to key on
      }
    },
    extraId: () => {
      if (extraIdPv === null) return null;
      const v = extraIdPv.get(ctx);
      return v === null ? '' : String(v);
    },
  };
}
