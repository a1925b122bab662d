/**
 * KSR.rtpproxy against Kamailio's rtpproxy module, both talking to the same real relay —
 * rtpengine's rtpproxy-compatible listener (--listen-udp): a call through rtpproxy_manage("co")
 * in the request and reply routes, as Kamailio's example script calls it (U for the INVITE, L
 * for the 200, D for the BYE), and a late offer, compared as harness/media-relay-suite.ts
 * describes.
 */
import { mediaRelaySuite } from './harness/media-relay-suite.js';

await mediaRelaySuite({
  title: 'rtpproxy: rtpproxy_manage against rtpengine\'s rtpproxy listener',
  skipTitle: 'compat: rtpproxy',
  legacy: true,
  header: 'X-Rtpp',
  call: 'KSR.rtpproxy.rtpproxy_manage("co")',
  modules: (rtpe) => ({ tm: {}, sl: {}, rtpproxy: { rtpproxy_sock: `udp:127.0.0.1:${String(rtpe.udpPort)}`, rtpproxy_retr: 2 } }),
  names: ['U for the INVITE\'s offer, L for the 200\'s answer, D for the BYE', 'a late offer: U for the 200, L for the ACK'],
});
