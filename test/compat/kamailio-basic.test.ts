/**
 * Kamailio's kamailio-basic example, the shipped script file itself (scripts/examples/
 * kamailio-basic/, byte-identical to Debian's), under Kamailio 5.6 with the module loads and
 * parameters of kamailio-basic-kemi.cfg (as kemihost.yaml has them: auth_db and permissions on
 * a SQLite file, nathelper, rtpproxy at a real rtpengine's rtpproxy-compatible listener, pike,
 * htable's ipban) and under kemihost, with the same sipp flows: a keepalive OPTIONS, REGISTER
 * with digest auth, a call between two registered users (407, then INVITE/180/200/ACK/BYE), and
 * — from behind a simulated NAT — REGISTER and a call with the SDP rewritten to the relay.
 * Compared: status codes, the challenges (nonce masked), Contact (alias, received), Record-Route
 * and the SDP the peers received (relay ports masked).
 * The modules: harness/basic-example-spec.ts. Keepalives: kamailio-basic-keepalive.test.ts.
 */
import { after } from 'node:test';
import { readFileSync } from 'node:fs';
import { call, EXAMPLE_SCRIPT, exampleStore, options, register, type Ua } from '../helpers/basic-example.js';
import { startRtpengine } from '../helpers/rtpengine.js';
import { exampleModules } from './harness/basic-example-spec.js';
import { compatSuite, type CompatCase } from './harness/suite.js';
import { mask, STANDARD_MASKS, VIA_PARAM_ORDER, type View } from './harness/view.js';

const rtpe = await startRtpengine(null, { legacy: true });
after(() => rtpe?.stop());

const dbUrl = (await exampleStore(['alice', 'bob', 'carol', 'dave'])).replace('sqlite://', 'sqlite:///');
const MODULE_SPEC = exampleModules(dbUrl, rtpe?.udpPort ?? 7722);

const NONCE = mask(/nonce="[^"]*"/g, 'nonce="<nonce>"');
/** the relay's ports differ per run */
const MEDIA_PORTS = [mask(/m=audio \d+ /g, 'm=audio <port> '), mask(/a=rtcp:\d+/g, 'a=rtcp:<port>')];
/** Kamailio's 100 says "trying -- your call is important to us" (docs/compatibility.md, tm): provisional replies are left out */
const FINAL_OR_REQUEST = (m: { isRequest: boolean; status: number }): boolean => m.isRequest || m.status > 100;

const AT_REGISTRAR_UA: View = { headers: ['www-authenticate', 'contact'], masks: [...STANDARD_MASKS, NONCE], only: FINAL_OR_REQUEST };
const AT_CALLER: View = { headers: ['proxy-authenticate', 'record-route', 'contact', 'content-type'], body: true, masks: [...STANDARD_MASKS, NONCE, ...MEDIA_PORTS], only: FINAL_OR_REQUEST };
const AT_CALLEE: View = {
  headers: ['via', 'record-route', 'contact', 'proxy-authorization', 'max-forwards', 'content-type'], body: true,
  masks: [...STANDARD_MASKS, VIA_PARAM_ORDER, ...MEDIA_PORTS],
};
const AT_PINGER: View = { headers: [], masks: STANDARD_MASKS };

type Ports = Readonly<Record<string, number>>;
const ua = (ports: Ports, user: string, nat: boolean): Ua => ({ user, port: ports[user] ?? 0, nat });

const CASES: CompatCase<never>[] = [
  {
    name: 'OPTIONS to the server itself: 200 Keepalive',
    async flow({ server, ports, keep }) {
      keep('pinger', (await options(server.port, ports.pinger ?? 0)).received);
    },
    compare: { pinger: AT_PINGER },
  },
  {
    name: 'REGISTER with digest auth: 401, then 200 with the contact',
    async flow({ server, ports, keep }) {
      keep('alice', (await register(server.port, ua(ports, 'alice', false))).received);
    },
    compare: { alice: AT_REGISTRAR_UA },
  },
  {
    name: 'a call between two registered users: 407, INVITE with Record-Route, 180, 200, ACK, BYE',
    async flow({ server, ports, keep }) {
      await register(server.port, ua(ports, 'bob', false));
      const r = await call(server.port, ua(ports, 'alice', false), ua(ports, 'bob', false), 50);
      keep('caller', r.caller.received);
      keep('callee', r.callee.received);
    },
    compare: { caller: AT_CALLER, callee: AT_CALLEE },
  },
];

const NAT_CASES: CompatCase<never>[] = [
  {
    name: 'REGISTER from behind a NAT: received stored and shown in the 200',
    async flow({ server, ports, keep }) {
      keep('carol', (await register(server.port, ua(ports, 'carol', true))).received);
    },
    compare: { carol: AT_REGISTRAR_UA },
  },
  {
    name: 'a call between two NATed users: the SDP through the relay both ways, Contact alias, BYE',
    async flow({ server, ports, keep }) {
      await register(server.port, ua(ports, 'carol', true));
      await register(server.port, ua(ports, 'dave', true));
      const r = await call(server.port, ua(ports, 'carol', true), ua(ports, 'dave', true), 50);
      keep('caller', r.caller.received);
      keep('callee', r.callee.received);
    },
    compare: { caller: AT_CALLER, callee: AT_CALLEE },
  },
];

compatSuite<never>({
  title: 'Kamailio\'s kamailio-basic example: the same script file, the same flows',
  peers: [],
  ports: ['pinger', 'alice', 'bob', 'carol', 'dave'],
  modules: MODULE_SPEC,
  script: () => ({ lua: readFileSync(EXAMPLE_SCRIPT.lua, 'utf8'), js: readFileSync(EXAMPLE_SCRIPT.js, 'utf8') }),
  cases: rtpe === null ? [] : [...CASES, ...NAT_CASES],
});
