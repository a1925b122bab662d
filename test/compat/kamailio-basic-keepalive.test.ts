/**
 * Kamailio's kamailio-basic example, the shipped script, with the cfg's nathelper keepalives
 * (sipping_bflag FLB_NATSIPPING, sipping_from sip:pinger@kamailio.org, ping_nated_only) but
 * natping_interval 1 s instead of 30: a UA REGISTERs from behind a simulated NAT, then its
 * NAT's port gets the server's keepalive OPTIONS. Compared: the first OPTIONS each server sends
 * there (the Call-ID, tags and branches it makes up masked).
 *
 * Both servers run at once, and each keeps pinging the contact it holds: a run takes only
 * the pings that name its own server in the Via (sipp drops the others as unknown calls).
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { after } from 'node:test';
import { parseSipMessage, type SipMessage } from '../../host/sip/message.js';
import { EXAMPLE_SCRIPT, exampleStore, register } from '../helpers/basic-example.js';
import { startRtpengine } from '../helpers/rtpengine.js';
import { until } from '../helpers/until.js';
import { exampleModules } from './harness/basic-example-spec.js';
import { compatSuite } from './harness/suite.js';
import { mask, STANDARD_MASKS, type View } from './harness/view.js';

const rtpe = await startRtpengine(null, { legacy: true });
after(() => rtpe?.stop());

const dbUrl = (await exampleStore(['ivan'])).replace('sqlite://', 'sqlite:///');

const CALL_ID = mask(/^call-id: .*/, 'call-id: <generated>');
const AT_NAT: View = { headers: ['via', 'from', 'to', 'call-id', 'cseq', 'max-forwards', 'content-length'], masks: [...STANDARD_MASKS, CALL_ID] };

/** The first keepalive that `serverPort` sends to `port`. */
async function firstPing(port: number, serverPort: number): Promise<SipMessage> {
  const sock = dgram.createSocket('udp4');
  let ping: SipMessage | null = null;
  sock.on('message', (b) => {
    try {
      const m = parseSipMessage(b);
      if (ping === null && m.isRequest && m.topVia.port === serverPort) ping = m;
    } catch {
      // a 4-byte keepalive or garbage: not ours to compare
    }
  });
  try {
    sock.bind(port, '127.0.0.1');
    await once(sock, 'listening');
    await until(() => ping !== null, 5000, `a keepalive from port ${String(serverPort)}`);
    return ping as unknown as SipMessage;
  } finally {
    sock.close();
  }
}

compatSuite<never>({
  title: 'Kamailio\'s kamailio-basic example: keepalives to a NATed contact',
  peers: [],
  ports: ['ivan'],
  modules: exampleModules(dbUrl, rtpe?.udpPort ?? 7722, { natping_interval: 1 }),
  script: () => ({ lua: readFileSync(EXAMPLE_SCRIPT.lua, 'utf8'), js: readFileSync(EXAMPLE_SCRIPT.js, 'utf8') }),
  cases: rtpe === null ? [] : [
    {
      name: 'REGISTER from behind a NAT, then OPTIONS from sip:pinger@kamailio.org at its received address',
      async flow({ server, ports, keep }) {
        const port = ports.ivan ?? 0;
        keep('ivan', (await register(server.port, { user: 'ivan', port, nat: true })).received);
        keep('nat', [await firstPing(port, server.port)]);
      },
      compare: { ivan: { headers: ['contact'], masks: STANDARD_MASKS, only: (m) => m.status >= 200 }, nat: AT_NAT },
    },
  ],
});
