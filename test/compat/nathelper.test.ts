/**
 * nathelper against Kamailio 5.6, with the example scripts' NAT handling: a NATed UA (its Via
 * and Contact name 10.0.0.5:5070, it sends from 127.0.0.1 and another port) registers through
 * nat_uac_test + fix_nated_register + save (the 200's received parameter, then lookup's $du:
 * the received address stored); nat_uac_test's answer for every flag bit on a NATed and a
 * clean request; an INVITE aliased on its way out and its 200 in the tm reply route; a BYE to
 * the aliased Contact routed by handle_ruri_alias; fix_nated_contact, add_contact_alias and
 * fix_nated_sdp as the next hop receives them.
 */
import { isReply, isRequest } from './harness/peer.js';
import { compatSuite } from './harness/suite.js';
import { mask, STANDARD_MASKS, VIA_PARAM_ORDER, type View } from './harness/view.js';

const BITS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

const lua = (p: Readonly<Record<string, number>>): string => `
function bits()
  local out = ""
  for _, b in ipairs({${BITS.join(', ')}}) do out = out .. tostring(KSR.nathelper.nat_uac_test(b)) .. " " end
  return out
end
function ksr_request_route()
  local user = KSR.pv.get("$rU")
  if KSR.is_REGISTER() then
    if KSR.nathelper.nat_uac_test(19) > 0 then
      KSR.nathelper.fix_nated_register()
      KSR.setbflag(6)
    end
    if KSR.pv.get("$tU") == "fixreg" then KSR.nathelper.fix_nated_contact() end
    KSR.registrar.save("location", 0)
    return
  end
  if user == "natbits" then
    KSR.hdr.append_to_reply("X-Nat: " .. bits() .. "\\r\\n")
    KSR.sl.send_reply(200, "OK")
    return
  end
  if user == "probe" then
    local out = ""
    for _, a in ipairs({"10.1.2.3", "172.31.0.1", "172.32.0.1", "192.168.0.1", "100.64.0.1", "100.128.0.1", "192.0.0.5", "192.0.0.200", "8.8.8.8", "::1", "host"}) do out = out .. tostring(KSR.nathelper.is_rfc1918(a)) .. " " end
    KSR.hdr.append_to_reply("X-Rfc: " .. out .. "\\r\\n")
    KSR.hdr.append_to_reply("X-Alias: " .. tostring(KSR.nathelper.set_alias_to_pv("$avp(alias)")) .. " " .. tostring(KSR.pv.get("$avp(alias)")) .. "\\r\\n")
    KSR.hdr.append_to_reply("X-Rr: " .. tostring(KSR.pv.get("$rr_count")) .. " " .. tostring(KSR.pv.get("$rr_top_count")) .. "\\r\\n")
    KSR.sl.send_reply(200, "OK")
    return
  end
  if user == "nated" then
    local rc = KSR.registrar.lookup("location")
    KSR.hdr.append_to_reply("X-Rc: " .. tostring(rc) .. "\\r\\n")
    KSR.hdr.append_to_reply("X-Du: " .. tostring(KSR.pv.get("$du")) .. "\\r\\n")
    KSR.hdr.append_to_reply("X-Ru: " .. tostring(KSR.pv.get("$ru")) .. "\\r\\n")
    KSR.sl.send_reply(200, "Found")
    return
  end
  if KSR.is_ACK() then return end
  if KSR.siputils.has_totag() > 0 then
    if not KSR.isdsturiset() then KSR.hdr.append("X-Rc: " .. tostring(KSR.nathelper.handle_ruri_alias()) .. "\\r\\n") end
    KSR.tm.t_relay()
    return
  end
  if user == "fix" then
    KSR.hdr.append("X-Rc: " .. tostring(KSR.nathelper.fix_nated_contact()) .. " " .. tostring(KSR.nathelper.set_contact_alias()) .. "\\r\\n")
  elseif user == "add" then
    KSR.hdr.append("X-Rc: " .. tostring(KSR.nathelper.add_contact_alias()) .. "\\r\\n")
  elseif user == "rcv" then
    KSR.hdr.append("X-Rc: " .. tostring(KSR.nathelper.add_rcv_param(0)) .. "\\r\\n")
  elseif user == "rcvuri" then
    KSR.hdr.append("X-Rc: " .. tostring(KSR.nathelper.add_rcv_param(1)) .. "\\r\\n")
  elseif user == "addr" then
    KSR.hdr.append("X-Rc: " .. tostring(KSR.nathelper.add_contact_alias_addr("192.0.2.7", "5080", "tcp")) .. "\\r\\n")
  elseif user == "sdp15" then
    KSR.hdr.append("X-Rc: " .. tostring(KSR.nathelper.fix_nated_sdp(15)) .. "\\r\\n")
  elseif user == "sdp" then
    KSR.hdr.append("X-Rc: " .. tostring(KSR.nathelper.fix_nated_sdp(3)) .. "\\r\\n")
  elseif KSR.nathelper.nat_uac_test(19) > 0 then
    KSR.hdr.append("X-Rc: " .. tostring(KSR.nathelper.set_contact_alias()) .. "\\r\\n")
  end
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(p.uas)}")
  KSR.tm.t_on_reply("ksr_onreply_nat")
  KSR.tm.t_relay()
end
function ksr_onreply_nat()
  if KSR.pv.get("$rs") == 200 then KSR.nathelper.set_contact_alias() end
end
`;

const js = (p: Readonly<Record<string, number>>): string => `
function bits() {
  var out = "";
  var all = [${BITS.join(', ')}];
  for (var i = 0; i < all.length; i++) out = out + KSR.nathelper.nat_uac_test(all[i]) + " ";
  return out;
}
function ksr_request_route() {
  var user = KSR.pv.get("$rU");
  if (KSR.is_REGISTER()) {
    if (KSR.nathelper.nat_uac_test(19) > 0) {
      KSR.nathelper.fix_nated_register();
      KSR.setbflag(6);
    }
    if (KSR.pv.get("$tU") == "fixreg") KSR.nathelper.fix_nated_contact();
    KSR.registrar.save("location", 0);
    return;
  }
  if (user == "natbits") {
    KSR.hdr.append_to_reply("X-Nat: " + bits() + "\\r\\n");
    KSR.sl.send_reply(200, "OK");
    return;
  }
  if (user == "probe") {
    var out = "";
    var addrs = ["10.1.2.3", "172.31.0.1", "172.32.0.1", "192.168.0.1", "100.64.0.1", "100.128.0.1", "192.0.0.5", "192.0.0.200", "8.8.8.8", "::1", "host"];
    for (var i = 0; i < addrs.length; i++) out = out + KSR.nathelper.is_rfc1918(addrs[i]) + " ";
    KSR.hdr.append_to_reply("X-Rfc: " + out + "\\r\\n");
    KSR.hdr.append_to_reply("X-Alias: " + KSR.nathelper.set_alias_to_pv("$avp(alias)") + " " + KSR.pv.get("$avp(alias)") + "\\r\\n");
    KSR.hdr.append_to_reply("X-Rr: " + KSR.pv.get("$rr_count") + " " + KSR.pv.get("$rr_top_count") + "\\r\\n");
    KSR.sl.send_reply(200, "OK");
    return;
  }
  if (user == "nated") {
    var rc = KSR.registrar.lookup("location");
    KSR.hdr.append_to_reply("X-Rc: " + rc + "\\r\\n");
    KSR.hdr.append_to_reply("X-Du: " + KSR.pv.get("$du") + "\\r\\n");
    KSR.hdr.append_to_reply("X-Ru: " + KSR.pv.get("$ru") + "\\r\\n");
    KSR.sl.send_reply(200, "Found");
    return;
  }
  if (KSR.is_ACK()) return;
  if (KSR.siputils.has_totag() > 0) {
    if (!KSR.isdsturiset()) KSR.hdr.append("X-Rc: " + KSR.nathelper.handle_ruri_alias() + "\\r\\n");
    KSR.tm.t_relay();
    return;
  }
  if (user == "fix") {
    KSR.hdr.append("X-Rc: " + KSR.nathelper.fix_nated_contact() + " " + KSR.nathelper.set_contact_alias() + "\\r\\n");
  } else if (user == "add") {
    KSR.hdr.append("X-Rc: " + KSR.nathelper.add_contact_alias() + "\\r\\n");
  } else if (user == "rcv") {
    KSR.hdr.append("X-Rc: " + KSR.nathelper.add_rcv_param(0) + "\\r\\n");
  } else if (user == "rcvuri") {
    KSR.hdr.append("X-Rc: " + KSR.nathelper.add_rcv_param(1) + "\\r\\n");
  } else if (user == "addr") {
    KSR.hdr.append("X-Rc: " + KSR.nathelper.add_contact_alias_addr("192.0.2.7", "5080", "tcp") + "\\r\\n");
  } else if (user == "sdp15") {
    KSR.hdr.append("X-Rc: " + KSR.nathelper.fix_nated_sdp(15) + "\\r\\n");
  } else if (user == "sdp") {
    KSR.hdr.append("X-Rc: " + KSR.nathelper.fix_nated_sdp(3) + "\\r\\n");
  } else if (KSR.nathelper.nat_uac_test(19) > 0) {
    KSR.hdr.append("X-Rc: " + KSR.nathelper.set_contact_alias() + "\\r\\n");
  }
  KSR.pv.sets("$du", "sip:127.0.0.1:${String(p.uas)}");
  KSR.tm.t_on_reply("ksr_onreply_nat");
  KSR.tm.t_relay();
}
function ksr_onreply_nat() {
  if (KSR.pv.get("$rs") == 200) KSR.nathelper.set_contact_alias();
}
`;

/** A NATed UA's request: its Via names the private address it believes it has. */
const natedVia = (t: string): string => t.replace(/^Via: SIP\/2\.0\/UDP [^;]+/m, 'Via: SIP/2.0/UDP 10.0.0.5:5070');
const PRIVATE_SDP = 'v=0\r\no=- 1 1 IN IP4 192.168.1.20\r\ns=-\r\nc=IN IP4 192.168.1.20\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:4001 IN IP4 192.168.1.20\r\n';

/** The registrar's 200 (the received parameter) and lookup's answer, expires not compared (each server's second ticks apart). */
const REG: View = { headers: ['contact', 'x-rc', 'x-du', 'x-ru', 'x-nat', 'x-rfc', 'x-alias', 'x-rr'], masks: [...STANDARD_MASKS, mask(/expires=\d+/g, 'expires=<n>')] };
const AT_UAS: View = { headers: ['contact', 'x-rc'], masks: [...STANDARD_MASKS, VIA_PARAM_ORDER] };
const AT_UAS_BODY: View = { ...AT_UAS, body: true };
const AT_UAC: View = { headers: ['contact'], masks: STANDARD_MASKS, only: (m) => !m.isRequest && m.status >= 200 };

compatSuite({
  title: 'nathelper: NAT detection, received at REGISTER, Contact aliases, handle_ruri_alias, SDP',
  peers: ['uac', 'uas'],
  modules: {
    tm: {}, sl: {}, siputils: {},
    usrloc: { preload: 'location', nat_bflag: 6 },
    registrar: { received_avp: '$avp(RECEIVED)' },
    nathelper: { received_avp: '$avp(RECEIVED)' },
  },
  script: (p) => ({ lua: lua(p), js: js(p) }),
  cases: [
    {
      name: 'a NATed REGISTER: the 200 shows the received address, lookup routes to it ($du)',
      async flow({ peers: { uac } }) {
        uac.request({ method: 'REGISTER', ruri: 'sip:example.com', to: '<sip:nated@example.com>', headers: ['Contact: <sip:nated@10.0.0.5:5070>', 'Expires: 300'] }, natedVia);
        await uac.waitFor(isReply(200, 'REGISTER'), '200 to the REGISTER');
        uac.request({ method: 'OPTIONS', ruri: 'sip:nated@example.com' });
        await uac.waitFor(isReply(200, 'OPTIONS'), 'lookup\'s answer');
      },
      compare: { uac: REG },
    },
    {
      name: 'fix_nated_contact before save(): the rewritten Contact is what is stored (the 200 lists it)',
      async flow({ peers: { uac } }) {
        uac.request({ method: 'REGISTER', ruri: 'sip:example.com', to: '<sip:fixreg@example.com>', headers: ['Contact: <sip:fixreg@10.0.0.5:5070>;q=0.5, <sip:other@10.0.0.5:5071>', 'Expires: 300'] }, natedVia);
        await uac.waitFor(isReply(200, 'REGISTER'), '200 to the REGISTER');
      },
      compare: { uac: REG },
    },
    {
      name: 'nat_uac_test, every bit, on a NATed request and on a clean one',
      async flow({ peers: { uac } }) {
        uac.request({ method: 'OPTIONS', ruri: 'sip:natbits@127.0.0.1', headers: ['Contact: <sip:a@10.0.0.5:5070>', 'Content-Type: application/sdp'], body: PRIVATE_SDP }, natedVia);
        await uac.waitFor(isReply(200, 'OPTIONS'), 'the NATed request\'s answer');
        uac.request({ method: 'OPTIONS', ruri: 'sip:natbits@127.0.0.1', cseq: 2, headers: [`Contact: <sip:a@127.0.0.1:${String(uac.port)}>`, 'Content-Type: application/sdp'], body: PRIVATE_SDP.replaceAll('192.168.1.20', '127.0.0.1') });
        await uac.waitFor(isReply(200, 'OPTIONS'), 'the clean request\'s answer');
      },
      compare: { uac: REG },
    },
    {
      name: 'an INVITE from a NATed UA: Contact aliased at the callee, the callee\'s 200 aliased in the reply route, the BYE routed by the alias',
      async flow({ peers: { uac, uas } }) {
        const invite = uac.request({ method: 'INVITE', ruri: 'sip:callee@127.0.0.1', fromTag: 'peer-from', headers: ['Contact: <sip:caller@10.0.0.5:5070>'] }, natedVia);
        const inv = await uas.waitFor(isRequest('INVITE'), 'INVITE');
        uas.reply(inv, 200, 'OK');
        const ok = await uac.waitFor(isReply(200, 'INVITE'), '200');
        uac.request({ ...invite, method: 'BYE', ruri: ok.getHeader('contact')?.replace(/^<|>$/g, '') ?? '', toTag: ok.to.tag, cseq: 2, headers: [] }, natedVia);
        uas.reply(await uas.waitFor(isRequest('BYE'), 'BYE'), 200, 'OK');
        await uac.waitFor(isReply(200, 'BYE'), '200 to the BYE');
      },
      compare: { uas: { ...AT_UAS, only: (m) => m.isRequest && m.method !== 'ACK' }, uac: AT_UAC },
    },
    {
      name: 'handle_ruri_alias: an in-dialog request to a private R-URI reaches the alias address, the alias gone from the R-URI',
      async flow({ peers: { uac, uas } }) {
        uac.request({ method: 'MESSAGE', ruri: `sip:x@10.0.0.9:5090;alias=127.0.0.1~${String(uas.port)}~1;ob`, toTag: 'peer-to' });
        uas.reply(await uas.waitFor(isRequest('MESSAGE'), 'MESSAGE'), 200, 'OK');
        await uac.waitFor(isReply(200, 'MESSAGE'), '200');
      },
      compare: { uas: AT_UAS },
    },
    {
      name: 'set_contact_alias with two contacts in the header: the last one gets the alias (Kamailio\'s parser lists it first)',
      async flow({ peers: { uac, uas } }) {
        uac.request({ method: 'MESSAGE', ruri: 'sip:two@127.0.0.1', headers: ['Contact: <sip:a@10.0.0.5:5070>;expires=60, sip:b@10.0.0.5:5071;expires=30'] }, natedVia);
        uas.reply(await uas.waitFor(isRequest('MESSAGE'), 'MESSAGE'), 200, 'OK');
        await uac.waitFor(isReply(200, 'MESSAGE'), '200');
      },
      compare: { uas: AT_UAS },
    },
    {
      name: 'is_rfc1918 on private, shared, reserved and public addresses; set_alias_to_pv with and without an alias; $rr_count, $rr_top_count',
      async flow({ peers: { uac } }) {
        uac.request({ method: 'OPTIONS', ruri: 'sip:probe@127.0.0.1', headers: ['Contact: <sip:p@10.0.0.5:5070;alias=192.0.2.8~5099~2>', 'Record-Route: <sip:p1.example.com;lr;r2=on>, <sip:p2.example.com;lr;r2=on>', 'Record-Route: <sip:p3.example.com;lr>'] });
        await uac.waitFor(isReply(200, 'OPTIONS'), 'the answer with an alias');
        uac.request({ method: 'OPTIONS', ruri: 'sip:probe@127.0.0.1', cseq: 2, headers: ['Contact: <sip:p@10.0.0.5:5070>'] });
        await uac.waitFor(isReply(200, 'OPTIONS'), 'the answer without');
      },
      compare: { uac: REG },
    },
    {
      name: 'add_rcv_param(0), add_rcv_param(1) and add_contact_alias_addr as the next hop receives them',
      async flow({ peers: { uac, uas } }) {
        for (const [user, n] of [['rcv', 1], ['rcvuri', 2], ['addr', 3]] as const) {
          uac.request({ method: 'MESSAGE', ruri: `sip:${user}@127.0.0.1`, cseq: n, headers: ['Contact: <sip:r@10.0.0.5:5070>;expires=60, <sip:r2@10.0.0.6>'] }, natedVia);
          uas.reply(await uas.waitFor(isRequest('MESSAGE'), `MESSAGE ${user}`), 200, 'OK');
          await uac.waitFor(isReply(200, 'MESSAGE'), `200 ${user}`);
        }
      },
      compare: { uas: AT_UAS },
    },
    {
      name: 'fix_nated_contact: the source address in the Contact (maddr dropped); set_contact_alias after it is -1',
      async flow({ peers: { uac, uas } }) {
        uac.request({ method: 'MESSAGE', ruri: 'sip:fix@127.0.0.1', headers: ['Contact: "A" <sip:fix@10.0.0.5:5070;transport=udp;maddr=10.0.0.1;lr>;expires=60'] }, natedVia);
        uas.reply(await uas.waitFor(isRequest('MESSAGE'), 'MESSAGE'), 200, 'OK');
        await uac.waitFor(isReply(200, 'MESSAGE'), '200');
      },
      compare: { uas: AT_UAS },
    },
    {
      name: 'add_contact_alias on a bare Contact: <> added, the alias after host:port',
      async flow({ peers: { uac, uas } }) {
        uac.request({ method: 'MESSAGE', ruri: 'sip:add@127.0.0.1', headers: ['Contact: sip:add@10.0.0.5:5070;transport=udp;expires=60'] }, natedVia);
        uas.reply(await uas.waitFor(isRequest('MESSAGE'), 'MESSAGE'), 200, 'OK');
        await uac.waitFor(isReply(200, 'MESSAGE'), '200');
      },
      compare: { uas: AT_UAS },
    },
    {
      name: 'fix_nated_sdp(3): media address and a=rtcp, a=direction:active, a=oldmediaip',
      async flow({ peers: { uac, uas } }) {
        uac.request({ method: 'MESSAGE', ruri: 'sip:sdp@127.0.0.1', headers: ['Content-Type: application/sdp'], body: PRIVATE_SDP }, natedVia);
        uas.reply(await uas.waitFor(isRequest('MESSAGE'), 'MESSAGE'), 200, 'OK');
        await uac.waitFor(isReply(200, 'MESSAGE'), '200');
      },
      compare: { uas: AT_UAS_BODY },
    },
    {
      name: 'fix_nated_sdp(15) on two media descriptions: direction per media, nortpproxy, origin and media addresses',
      async flow({ peers: { uac, uas } }) {
        const two = `${PRIVATE_SDP}m=video 4002 RTP/AVP 31\r\nc=IN IP4 192.168.1.21\r\na=sendrecv\r\n`;
        uac.request({ method: 'MESSAGE', ruri: 'sip:sdp15@127.0.0.1', headers: ['Content-Type: application/sdp'], body: two }, natedVia);
        uas.reply(await uas.waitFor(isRequest('MESSAGE'), 'MESSAGE'), 200, 'OK');
        await uac.waitFor(isReply(200, 'MESSAGE'), '200');
      },
      compare: { uas: AT_UAS_BODY },
    },
  ],
});
