/**
 * nathelper through tm, as Kamailio's example scripts use it (both engines): a NATed caller's
 * INVITE gets its Contact aliased in the request route and relayed statefully; the callee's 200
 * gets the callee's alias in the tm reply route — its own source, not the caller's; the caller's
 * BYE to that aliased Contact is routed by handle_ruri_alias to the callee's real address with
 * the alias gone from the R-URI. The callee is a UDP socket that answers with a private Contact.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { parseSipMessage, type SipMessage } from '../../host/sip/message.js';
import { answerTo } from '../helpers/next-hop.js';
import { ENGINES, startServer, type EngineName } from '../helpers/runtime.js';
import { buildRequest, UdpPeer } from '../helpers/sip-client.js';
import { until } from '../helpers/until.js';

const SCRIPT: Record<EngineName, string> = {
  lua: `function ksr_request_route()
  if KSR.nathelper.nat_uac_test(19) > 0 and KSR.siputils.is_first_hop() > 0 then
    KSR.hdr.append("X-Alias-Rc: " .. KSR.nathelper.set_contact_alias() .. "\\r\\n")
  end
  if KSR.siputils.has_totag() > 0 then
    if not KSR.isdsturiset() then KSR.hdr.append("X-Ruri-Rc: " .. KSR.nathelper.handle_ruri_alias() .. "\\r\\n") end
    KSR.tm.t_relay()
    return
  end
  KSR.tm.t_on_reply("ksr_onreply_manage")
  KSR.tm.t_relay()
end
function ksr_onreply_manage()
  if KSR.siputils.is_reply() > 0 and KSR.pv.get("$rs") == 200 then KSR.nathelper.set_contact_alias() end
end
`,
  js: `function ksr_request_route() {
  if (KSR.nathelper.nat_uac_test(19) > 0 && KSR.siputils.is_first_hop() > 0) {
    KSR.hdr.append("X-Alias-Rc: " + KSR.nathelper.set_contact_alias() + "\\r\\n");
  }
  if (KSR.siputils.has_totag() > 0) {
    if (!KSR.isdsturiset()) KSR.hdr.append("X-Ruri-Rc: " + KSR.nathelper.handle_ruri_alias() + "\\r\\n");
    KSR.tm.t_relay();
    return;
  }
  KSR.tm.t_on_reply("ksr_onreply_manage");
  KSR.tm.t_relay();
}
function ksr_onreply_manage() {
  if (KSR.siputils.is_reply() > 0 && KSR.pv.get("$rs") === 200) KSR.nathelper.set_contact_alias();
}
`,
};

/** A callee on a UDP socket: answers each request 200 with a private Contact; keeps what it got. */
async function callee(): Promise<{ port: number; got: SipMessage[]; close: () => void }> {
  const sock = dgram.createSocket('udp4');
  const got: SipMessage[] = [];
  sock.on('message', (d, ri) => {
    const m = parseSipMessage(d);
    got.push(m);
    if (m.isRequest && m.method !== 'ACK') {
      const reply = answerTo(m, 200).replace('Content-Length: 0', 'Contact: <sip:bob@10.0.0.9:5090>\r\nContent-Length: 0');
      sock.send(reply, ri.port, ri.address);
    }
  });
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  return { port: sock.address().port, got, close: () => { sock.close(); } };
}

async function finalReply(peer: UdpPeer): Promise<SipMessage | null> {
  for (;;) {
    const m = await peer.next(3000);
    if (m === null || m.status >= 200) return m;
  }
}

for (const engine of ENGINES) {
  describe(`nathelper through tm [${engine}]`, () => {
    test('INVITE aliased on the way out, the 200 aliased with the callee\'s source, the BYE routed by handle_ruri_alias', async () => {
      const server = await startServer(engine, SCRIPT[engine]);
      const uas = await callee();
      const uac = await UdpPeer.open();
      try {
        const invite = buildRequest({
          method: 'INVITE', ruri: `sip:bob@127.0.0.1:${String(uas.port)}`, fromTag: 'caller', callId: 'nat-call@test', rport: true,
          headers: ['Contact: <sip:alice@10.0.0.5:5070>'],
        }, 'UDP', '10.0.0.5', 5070);
        uac.send(invite, server.udpPort);
        const ok = await finalReply(uac);
        assert.equal(ok?.status, 200);
        assert.equal(ok.getHeader('contact'), `<sip:bob@10.0.0.9:5090;alias=127.0.0.1~${String(uas.port)}~1>`, 'aliased with the callee\'s own source');
        const inv = uas.got.find((m) => m.method === 'INVITE');
        assert.equal(inv?.getHeader('contact'), `<sip:alice@10.0.0.5:5070;alias=127.0.0.1~${String(uac.port)}~1>`);
        assert.equal(inv.getHeader('x-alias-rc'), '1');

        const bye = buildRequest({
          method: 'BYE', ruri: `sip:bob@10.0.0.9:5090;alias=127.0.0.1~${String(uas.port)}~1`, fromTag: 'caller', toTag: 'nexthop', callId: 'nat-call@test', cseq: 2, rport: true,
        }, 'UDP', '10.0.0.5', 5070);
        uac.send(bye, server.udpPort);
        assert.equal((await finalReply(uac))?.status, 200);
        await until(() => uas.got.some((m) => m.method === 'BYE'), 3000, 'the BYE at the callee');
        const b = uas.got.find((m) => m.method === 'BYE');
        assert.equal(b?.ruri, 'sip:bob@10.0.0.9:5090', 'the alias is gone from the R-URI');
        assert.equal(b.getHeader('x-ruri-rc'), '1');
      } finally {
        uac.close();
        uas.close();
        await server.close();
      }
    });
  });
}
