/**
 * A UA behind a NAT registers through the example scripts' NAT handling (both engines): sipp
 * sends a REGISTER whose Via and Contact name 10.0.0.5:5070 while it sends from 127.0.0.1 and
 * another port; the script detects it (nat_uac_test 19), stores the source with
 * fix_nated_register and saves with the NAT and SIP-ping branch flags. Then the location table
 * holds the source as the contact's received address, and the keepalive OPTIONS (natping every
 * second) reach sipp's socket: sipp answers them (-aa) and the answers come back to us.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { rpcResult } from '../helpers/rpc.js';
import { ENGINES, startServer } from '../helpers/runtime.js';
import { freePort, SIPP_FIXTURES, startSipp } from '../helpers/sipp.js';
import { until } from '../helpers/until.js';

const SCRIPT = {
  lua: `FLB_NATB = 6
FLB_NATSIPPING = 7
function ksr_request_route()
  if KSR.is_REGISTER() then
    if KSR.nathelper.nat_uac_test(19) > 0 then
      KSR.nathelper.fix_nated_register()
      KSR.setbflag(FLB_NATB)
      KSR.setbflag(FLB_NATSIPPING)
    end
    KSR.registrar.save("location", 0)
    return
  end
  KSR.sl.send_reply(404, "Not Found")
end
`,
  js: `const FLB_NATB = 6;
const FLB_NATSIPPING = 7;
function ksr_request_route() {
  if (KSR.is_REGISTER()) {
    if (KSR.nathelper.nat_uac_test(19) > 0) {
      KSR.nathelper.fix_nated_register();
      KSR.setbflag(FLB_NATB);
      KSR.setbflag(FLB_NATSIPPING);
    }
    KSR.registrar.save("location", 0);
    return;
  }
  KSR.sl.send_reply(404, "Not Found");
}
`,
};

const CONFIG = {
  rpc: { listen: '127.0.0.1:0' },
  modules: {
    usrloc: { nat_bflag: 6 },
    registrar: { received_avp: '$avp(RECEIVED)' },
    nathelper: {
      received_avp: '$avp(RECEIVED)',
      natping_interval: 1,
      ping_nated_only: 1,
      sipping_bflag: 7,
      sipping_from: 'sip:pinger@kemihost.test',
    },
  },
};

interface Contact { Address: string; Received: string; CFlags: number }
interface Dump { Domains: { Domain: { AoRs: { Info: { AoR: string; Contacts: { Contact: Contact }[] } }[] } }[] }

for (const engine of ENGINES) {
  describe(`nathelper with sipp [${engine}]`, () => {
    test('a NATed REGISTER: received stored in the location table, keepalive OPTIONS answered from the UA\'s socket', async () => {
      const server = await startServer(engine, SCRIPT[engine], { config: CONFIG });
      const port = await freePort();
      const uac = startSipp([
        `127.0.0.1:${String(server.udpPort)}`, '-sf', join(SIPP_FIXTURES, 'register-nated-uac.xml'), '-i', '127.0.0.1', '-p', String(port),
        '-aa', '-m', '1', '-timeout', '30', '-timeout_error',
      ]);
      try {
        await until(() => server.rt.stats.get('registrar:accepted_regs') === 1, 10_000, 'the REGISTER saved');
        const dump = (await rpcResult(server.rt, 'ul.dump')) as Dump;
        const aor = dump.Domains[0]?.Domain.AoRs.find((a) => a.Info.AoR === 'nated')?.Info;
        const c = aor?.Contacts[0]?.Contact;
        assert.equal(c?.Address, 'sip:nated@10.0.0.5:5070', 'the Contact as the UA wrote it');
        assert.equal(c.Received, `sip:127.0.0.1:${String(port)}`, 'where the REGISTER really came from');
        assert.equal(c.CFlags & 0xc0, 0xc0, 'saved with the NAT and SIP-ping branch flags');
        await until(() => (server.rt.stats.get('nathelper:natping_replies') ?? 0) >= 1, 10_000, 'an answer to a keepalive');
        assert.ok((server.rt.stats.get('nathelper:natping_sent') ?? 0) >= 1);
      } finally {
        uac.stop();
        await uac.done;
        await server.close();
      }
    });
  });
}
