/**
 * The `location` table shared with a real Kamailio 5.6 (usrloc db_mode 3, so it reads the table
 * at every lookup) on SQLite, MariaDB and PostgreSQL: a contact Kamailio's registrar saved is
 * found by kemihost's lookup, and one kemihost saved is found by Kamailio's — same AoR, contact,
 * q, received address and branch flags. kemihost runs db_mode 3 as well (SQLite: read at every
 * call; a server: re-read every db_only_refresh s, so the test waits for that).
 * Skipped with the reason without Kamailio or its db module (a failure with CI=true).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { SipMessage } from '../../host/sip/message.js';
import { ensureSchema } from '../../host/db/ensure-schema.js';
import { LOCATION_TABLE } from '../../host/db/schema/index.js';
import { Kamailio, KAMAILIO_MODULES, kamailioMissing } from '../compat/harness/kamailio.js';
import { DIALECTS, freshDatabase, open } from '../helpers/databases.js';
import { startServer } from '../helpers/runtime.js';
import { UdpPeer, type RequestSpec } from '../helpers/sip-client.js';
import { until } from '../helpers/until.js';

const SCRIPT = `
function ksr_request_route()
  if KSR.is_REGISTER() then
    if KSR.hdr.is_present("X-Nat") > 0 then
      KSR.setbflag(6)
      KSR.pv.sets("$avp(RECEIVED)", "sip:198.51.100.9:5070")
    end
    KSR.registrar.save("location", 0)
    return
  end
  local rc = KSR.registrar.lookup("location")
  KSR.hdr.append_to_reply("X-Rc: " .. rc .. "\\r\\n")
  if rc > 0 then
    KSR.hdr.append_to_reply("X-Ru: " .. KSR.pv.get("$ru") .. "\\r\\n")
    KSR.hdr.append_to_reply("X-Du: " .. (KSR.pv.get("$du") or "-") .. "\\r\\n")
    KSR.hdr.append_to_reply("X-Nat: " .. tostring(KSR.isbflagset(6)) .. "\\r\\n")
  end
  KSR.sl.send_reply(200, "probe")
end
`;

const DB_MODULE = { sqlite: 'db_sqlite', mysql: 'db_mysql', postgres: 'db_postgres' } as const;

async function ask(peer: UdpPeer, port: number, spec: RequestSpec): Promise<SipMessage> {
  peer.request(spec, port);
  const m = await peer.next(3000);
  assert.ok(m !== null, 'no reply');
  return m;
}

const registerSpec = (user: string, contact: string, nat: boolean): RequestSpec => ({
  method: 'REGISTER', ruri: 'sip:example.com', to: `<sip:${user}@example.com>`, callId: `i-${user}`,
  headers: [`Contact: ${contact}`, ...(nat ? ['X-Nat: 1'] : [])],
});

const probeSpec = (user: string): RequestSpec => ({ method: 'OPTIONS', ruri: `sip:${user}@example.com`, to: `<sip:${user}@example.com>` });

function skipWhy(t: TestContext, why: string | null): boolean {
  if (why === null) return false;
  if (process.env.CI === 'true') assert.fail(`${why} (CI=true)`);
  t.skip(why);
  return true;
}

describe('the location table shared with Kamailio', () => {
  for (const dialect of DIALECTS) {
    test(`[${dialect}] Kamailio's rows are found by kemihost's lookup and ours by Kamailio's`, async (t) => {
      const mod = DB_MODULE[dialect];
      const missing = kamailioMissing('lua') ?? (existsSync(join(KAMAILIO_MODULES, `${mod}.so`)) ? null : `Kamailio module ${mod} is not installed`);
      if (skipWhy(t, missing)) return;
      const tdb = await freshDatabase(t, dialect);
      if (tdb === null) return;
      await ensureSchema(await open(t, tdb.url), [LOCATION_TABLE]);
      const usrloc = { db_url: tdb.url, db_mode: 3, nat_bflag: 6, preload: 'location' };
      const registrar = { received_avp: '$avp(RECEIVED)' };
      // Kamailio's db_sqlite opens what follows "sqlite:///" relative to its working directory
      // (/ for a daemon; the harness runs it in its own directory): a fourth slash makes it absolute
      const kamUrl = dialect === 'sqlite' ? tdb.url.replace('sqlite://', 'sqlite:///') : tdb.url;
      const kam = await Kamailio.start({ engine: 'lua', script: SCRIPT, modules: { sl: {}, [mod]: {}, usrloc: { ...usrloc, db_url: kamUrl }, registrar } });
      const kh = await startServer('lua', SCRIPT, { config: { db_url: tdb.url, modules: { usrloc: { ...usrloc, db_only_refresh: 1 }, registrar } } });
      const peer = await UdpPeer.open();
      try {
        const saved = await ask(peer, kam.port, registerSpec('alice', '<sip:alice@192.0.2.1:5060>;q=0.7', true));
        assert.equal(saved.status, 200, kam.logTail());
        await until(async () => (await ask(peer, kh.udpPort, probeSpec('alice'))).getHeader('x-rc') === '1', 4000, 'kemihost to find Kamailio\'s contact');
        const ours = await ask(peer, kh.udpPort, probeSpec('alice'));
        assert.equal(ours.getHeader('x-ru'), 'sip:alice@192.0.2.1:5060');
        assert.equal(ours.getHeader('x-du'), 'sip:198.51.100.9:5070');
        assert.equal(ours.getHeader('x-nat'), 'true');

        assert.equal((await ask(peer, kh.udpPort, registerSpec('bob', '<sip:bob@192.0.2.2:5060>;q=0.3', true))).status, 200);
        await until(async () => (await ask(peer, kam.port, probeSpec('bob'))).getHeader('x-rc') === '1', 4000, 'Kamailio to find kemihost\'s contact');
        const theirs = await ask(peer, kam.port, probeSpec('bob'));
        assert.equal(theirs.getHeader('x-ru'), 'sip:bob@192.0.2.2:5060');
        assert.equal(theirs.getHeader('x-du'), 'sip:198.51.100.9:5070');
        assert.equal(theirs.getHeader('x-nat'), 'true');
      } catch (e) {
        kam.markFailed();
        throw e;
      } finally {
        peer.close();
        await kh.close();
        await kam.stop();
      }
    });
  }
});
