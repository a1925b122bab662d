/**
 * KSR.corex's send socket, extended flags and is_faked_msg on both engines: return codes sent
 * back in X-Rc, and the Via a real next hop receives.
 */
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';

const cases: BindingCase[] = [
  {
    name: 'extended flags 0..63: set, test, reset; out of range → -1',
    lua: `local r = {KSR.corex.setxflag(40), KSR.corex.isxflagset(40), KSR.corex.isxflagset(3), KSR.corex.resetxflag(40), KSR.corex.isxflagset(40), KSR.corex.setxflag(0), KSR.corex.isxflagset(0), KSR.corex.setxflag(64), KSR.corex.isxflagset(-1), KSR.isflagset(0) and 1 or -1}
      KSR.hdr.append_to_reply("X-Rc: " .. table.concat(r, ",") .. "\\r\\n")
      KSR.sl.sl_send_reply(200, "OK")`,
    js: `const r = [KSR.corex.setxflag(40), KSR.corex.isxflagset(40), KSR.corex.isxflagset(3), KSR.corex.resetxflag(40), KSR.corex.isxflagset(40), KSR.corex.setxflag(0), KSR.corex.isxflagset(0), KSR.corex.setxflag(64), KSR.corex.isxflagset(-1), KSR.isflagset(0) ? 1 : -1];
      KSR.hdr.append_to_reply("X-Rc: " + r.join(",") + "\\r\\n");
      KSR.sl.sl_send_reply(200, "OK");`,
    expect: { status: 200, headers: { 'X-Rc': '1,1,-1,1,-1,1,1,-1,-1,-1' } },
  },
  {
    name: 'set_send_socket takes only a socket of ours; the request then leaves from it; is_faked_msg is -1 in the request route',
    lua: `local a = KSR.corex.set_send_socket("bogus")
      local b = KSR.corex.set_send_socket("udp:10.9.9.9:5060")
      local c = KSR.corex.set_send_socket("udp:127.0.0.1:" .. KSR.pv.get("$Rp"))
      KSR.hdr.append("X-Rc: " .. a .. "," .. b .. "," .. c .. "," .. KSR.corex.is_faked_msg() .. "\\r\\n")
      KSR.tm.t_relay()`,
    js: `const a = KSR.corex.set_send_socket("bogus");
      const b = KSR.corex.set_send_socket("udp:10.9.9.9:5060");
      const c = KSR.corex.set_send_socket("udp:127.0.0.1:" + KSR.pv.get("$Rp"));
      KSR.hdr.append("X-Rc: " + a + "," + b + "," + c + "," + KSR.corex.is_faked_msg() + "\\r\\n");
      KSR.tm.t_relay();`,
    request: { method: 'OPTIONS', ruri: 'sip:bob@127.0.0.1:{next}' },
    next: { answer: 200 },
    expect: {
      status: 200,
      forwarded: { headers: { 'X-Rc': '-1,-1,1,-1' }, check: (req) => {
        if (!req.topVia.raw.includes('127.0.0.1:')) throw new Error(req.topVia.raw);
      } },
    },
  },
];

runBindingCases('KSR.corex', cases);
