/**
 * Stateless answers (sl, hdr, maxfwd, sanity): OPTIONS answered with headers from
 * append_to_reply, 483 for an exhausted Max-Forwards, and the replies sanity_check sends for
 * broken requests. One UAC; what it receives is compared.
 */
import assert from 'node:assert/strict';
import { compatSuite } from './harness/suite.js';
import { isReply } from './harness/peer.js';
import { STANDARD_MASKS, type View } from './harness/view.js';

const LUA = `
function ksr_request_route()
  local user = KSR.pv.get("$rU")
  if user == "drop" then
    KSR.x.drop()
  end
  if user == "error" then
    error("a script error")
  end
  if KSR.maxfwd.process_maxfwd(10) < 0 then
    KSR.sl.sl_send_reply(483, "Too Many Hops")
    KSR.x.exit()
  end
  if KSR.sanity.sanity_check(6119, 7) < 0 then
    KSR.x.exit()
  end
  if KSR.is_OPTIONS() then
    KSR.hdr.append_to_reply("X-Served-By: compat\\r\\n")
    KSR.hdr.append_to_reply("Allow: INVITE, ACK, BYE, CANCEL, OPTIONS\\r\\n")
    KSR.sl.sl_send_reply(200, "Alive")
    KSR.x.exit()
  end
  KSR.sl.sl_send_reply(404, "Not Here")
end
`;

const JS = `
function ksr_request_route() {
  var user = KSR.pv.get("$rU");
  if (user == "drop") {
    KSR.x.drop();
  }
  if (user == "error") {
    throw new Error("a script error");
  }
  if (KSR.maxfwd.process_maxfwd(10) < 0) {
    KSR.sl.sl_send_reply(483, "Too Many Hops");
    KSR.x.exit();
  }
  if (KSR.sanity.sanity_check(6119, 7) < 0) {
    KSR.x.exit();
  }
  if (KSR.is_OPTIONS()) {
    KSR.hdr.append_to_reply("X-Served-By: compat\\r\\n");
    KSR.hdr.append_to_reply("Allow: INVITE, ACK, BYE, CANCEL, OPTIONS\\r\\n");
    KSR.sl.sl_send_reply(200, "Alive");
    KSR.x.exit();
  }
  KSR.sl.sl_send_reply(404, "Not Here");
}
`;

/**
 * A stateless reply: the start line, the headers copied from the request, the To tag (masked:
 * each server makes its own), what the script added. Not compared: Server (each names itself,
 * see docs/compatibility.md).
 */
const REPLY: View = {
  headers: ['via', 'from', 'to', 'call-id', 'cseq', 'x-served-by', 'allow', 'unsupported', 'content-length'],
  masks: STANDARD_MASKS,
};

compatSuite({
  title: 'stateless replies (sl, hdr, maxfwd, sanity)',
  peers: ['uac'],
  modules: { sl: {}, maxfwd: {}, sanity: {} },
  script: () => ({ lua: LUA, js: JS }),
  cases: [
    {
      name: 'OPTIONS: 200 with the headers append_to_reply added',
      async flow({ peers: { uac } }) {
        uac.request({ method: 'OPTIONS' });
        await uac.waitFor(isReply(200), '200');
      },
      compare: { uac: REPLY },
    },
    {
      name: 'another method: the script\'s 404',
      async flow({ peers: { uac } }) {
        uac.request({ method: 'MESSAGE', body: 'hi', headers: ['Content-Type: text/plain'] });
        await uac.waitFor(isReply(404), '404');
      },
      compare: { uac: REPLY },
    },
    {
      name: 'Max-Forwards: 0 → 483 from process_maxfwd',
      async flow({ peers: { uac } }) {
        uac.request({ method: 'OPTIONS', maxForwards: 0 });
        await uac.waitFor(isReply(483), '483');
      },
      compare: { uac: REPLY },
    },
    {
      name: 'sanity: unsupported R-URI scheme',
      async flow({ peers: { uac } }) {
        uac.request({ method: 'OPTIONS', ruri: 'xmpp:alice@example.com' });
        await uac.waitFor((m) => !m.isRequest, 'a reply');
      },
      compare: { uac: REPLY },
      differs: { doc: 'sanity: sanity_check: R-URI of an unknown scheme', replace: [['400 Bad Request URI', '416 Unsupported URI Scheme in Request URI']] },
    },
    {
      name: 'sanity: a tel: R-URI passes',
      async flow({ peers: { uac } }) {
        uac.request({ method: 'OPTIONS', ruri: 'tel:+15551234567' });
        await uac.waitFor((m) => !m.isRequest, 'a reply');
      },
      compare: { uac: REPLY },
    },
    {
      name: 'sanity: a urn: R-URI',
      async flow({ peers: { uac } }) {
        uac.request({ method: 'OPTIONS', ruri: 'urn:service:sos' });
        await uac.waitFor((m) => !m.isRequest, 'a reply');
      },
      compare: { uac: REPLY },
    },
    {
      name: 'sanity: CSeq method differs from the request method',
      async flow({ peers: { uac } }) {
        uac.request({ method: 'OPTIONS', cseqMethod: 'INFO' });
        await uac.waitFor((m) => !m.isRequest, 'a reply');
      },
      compare: { uac: REPLY },
    },
    {
      name: 'sanity: Proxy-Require with an unsupported option tag',
      async flow({ peers: { uac } }) {
        uac.request({ method: 'OPTIONS', headers: ['Proxy-Require: foo'] });
        await uac.waitFor((m) => !m.isRequest, 'a reply');
      },
      compare: { uac: REPLY },
    },
    {
      name: 'sanity: Expires is not a number',
      async flow({ peers: { uac } }) {
        uac.request({ method: 'OPTIONS', headers: ['Expires: soon'] });
        await uac.waitFor((m) => !m.isRequest, 'a reply');
      },
      compare: { uac: REPLY },
    },
    {
      name: 'sanity: a From with two tags',
      async flow({ peers: { uac } }) {
        uac.request({ method: 'OPTIONS' }, (t) => t.replace(';tag=peer-from', ';tag=peer-from;tag=peer-again'));
        await uac.waitFor((m) => !m.isRequest, 'a reply');
      },
      compare: { uac: REPLY },
    },
    {
      name: 'sanity: CSeq number is not a number',
      flow({ peers: { uac } }) {
        uac.request({ method: 'OPTIONS' }, (t) => t.replace('CSeq: 1 OPTIONS', 'CSeq: one OPTIONS'));
      },
      compare: { uac: REPLY },
    },
    {
      name: 'KSR.x.drop(): nothing is sent',
      flow({ peers: { uac } }) {
        uac.request({ method: 'OPTIONS', ruri: 'sip:drop@127.0.0.1' });
      },
      compare: { uac: REPLY },
    },
    {
      name: 'a script error before any reply',
      flow({ peers: { uac } }) {
        uac.request({ method: 'OPTIONS', ruri: 'sip:error@127.0.0.1' });
      },
      compare: { uac: { headers: [], masks: STANDARD_MASKS } },
      differs: {
        doc: 'core: script error before a reply',
        expect: (kamailio) => {
          assert.deepEqual(kamailio, { uac: [] }, 'Kamailio answers nothing');
          return { uac: [['500 Server Internal Error']] };
        },
      },
    },
  ],
});
