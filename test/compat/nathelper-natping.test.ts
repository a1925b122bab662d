/**
 * nathelper's keepalive against Kamailio 5.6: a NATed UA registers (nat_uac_test +
 * fix_nated_register, saved with the NAT and SIP-ping branch flags), then the OPTIONS each server
 * sends it on its own (natping_interval 1) is compared: the R-URI, Via, From, To, CSeq and what
 * it leaves out (Max-Forwards), sent to the UA's real address. Tags, branches and the Call-ID
 * are the server's own and masked.
 */
import { isReply, isRequest } from './harness/peer.js';
import { compatSuite } from './harness/suite.js';
import { mask, STANDARD_MASKS, type View } from './harness/view.js';

const lua = `
function ksr_request_route()
  if KSR.is_REGISTER() then
    if KSR.nathelper.nat_uac_test(19) > 0 then
      KSR.nathelper.fix_nated_register()
      KSR.setbflag(6)
      KSR.setbflag(7)
    end
    KSR.registrar.save("location", 0)
    return
  end
  KSR.sl.send_reply(404, "Not Found")
end
`;

const js = `
function ksr_request_route() {
  if (KSR.is_REGISTER()) {
    if (KSR.nathelper.nat_uac_test(19) > 0) {
      KSR.nathelper.fix_nated_register();
      KSR.setbflag(6);
      KSR.setbflag(7);
    }
    KSR.registrar.save("location", 0);
    return;
  }
  KSR.sl.send_reply(404, "Not Found");
}
`;

const natedVia = (t: string): string => t.replace(/^Via: SIP\/2\.0\/UDP [^;]+/m, 'Via: SIP/2.0/UDP 10.0.0.5:5070');

/** The keepalive: every header it has, the Call-ID masked (each server makes its own). */
const PING: View = {
  headers: ['via', 'route', 'max-forwards', 'from', 'to', 'call-id', 'cseq', 'content-length'],
  masks: [...STANDARD_MASKS, mask(/^call-id: .*$/, 'call-id: <call-id>')],
  only: (m) => m.isRequest,
};

compatSuite({
  title: 'nathelper keepalives: the OPTIONS a registered NATed UA receives',
  peers: ['uac'],
  modules: {
    tm: {}, sl: {},
    usrloc: { preload: 'location', nat_bflag: 6 },
    registrar: { received_avp: '$avp(RECEIVED)' },
    nathelper: { received_avp: '$avp(RECEIVED)', natping_interval: 1, ping_nated_only: 1, sipping_bflag: 7, sipping_from: 'sip:pinger@kemihost.test' },
  },
  script: () => ({ lua, js }),
  cases: [
    {
      name: 'a NATed REGISTER, then the keepalive OPTIONS at the UA\'s real address',
      async flow({ peers: { uac } }) {
        uac.request({ method: 'REGISTER', ruri: 'sip:example.com', to: '<sip:pinged@example.com>', headers: ['Contact: <sip:pinged@10.0.0.5:5070>', 'Expires: 300'] }, natedVia);
        await uac.waitFor(isReply(200, 'REGISTER'), '200 to the REGISTER');
        const ping = await uac.waitFor(isRequest('OPTIONS'), 'the keepalive OPTIONS');
        uac.reply(ping, 200, 'OK');
      },
      compare: { uac: PING },
    },
  ],
});
