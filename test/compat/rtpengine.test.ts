/**
 * KSR.rtpengine against Kamailio's rtpengine module, both talking to the same real rtpengine:
 * a call through rtpengine_manage in the request and reply routes (the INVITE's offer, the
 * 200's answer, the BYE's delete) and a late offer (SDP in the 200 and the ACK), compared as
 * harness/media-relay-suite.ts describes.
 */
import { mediaRelaySuite } from './harness/media-relay-suite.js';

await mediaRelaySuite({
  title: 'rtpengine: rtpengine_manage against a real rtpengine',
  skipTitle: 'compat: rtpengine',
  legacy: false,
  header: 'X-Rtpe',
  call: 'KSR.rtpengine.rtpengine_manage("replace-origin replace-session-connection")',
  modules: (rtpe) => ({ tm: {}, sl: {}, rtpengine: { rtpengine_sock: `udp:127.0.0.1:${String(rtpe.ngPort)}`, rtpengine_tout_ms: 500, rtpengine_retr: 2 } }),
  names: ['an offer in the INVITE, the answer in the 200, a delete for the BYE', 'a late offer: the 200 carries the offer, the ACK the answer'],
});
