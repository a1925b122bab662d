/**
 * sipp REGISTERs with digest authentication (-au/-ap, sipp's own [authentication] answer)
 * against the server running the example script's auth shape on a SQLite subscriber table:
 * 100 calls of REGISTER → 401 → REGISTER with credentials → 200, and a wrong password refused.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { openDatabase } from '../../host/db/database.js';
import { ensureSchema } from '../../host/db/ensure-schema.js';
import { SUBSCRIBER_TABLE } from '../../host/db/schema/subscriber.js';
import { ENGINES, startServer } from '../helpers/runtime.js';
import { freePort, runSipp, SIPP_FIXTURES } from '../helpers/sipp.js';

const SCRIPT = {
  lua: `function ksr_request_route()
  if KSR.auth_db.auth_check(KSR.kx.gete_fhost(), "subscriber", 1) < 0 then
    KSR.auth.auth_challenge(KSR.kx.gete_fhost(), 0)
    KSR.x.exit()
  end
  KSR.sl.sl_send_reply(200, "OK")
end
`,
  js: `function ksr_request_route() {
  if (KSR.auth_db.auth_check(KSR.kx.gete_fhost(), "subscriber", 1) < 0) {
    KSR.auth.auth_challenge(KSR.kx.gete_fhost(), 0);
    KSR.x.exit();
  }
  KSR.sl.sl_send_reply(200, "OK");
}
`,
};

async function subscribers(): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'kemihost-authsipp-')), 'subscribers.db');
  const db = await openDatabase(`sqlite://${file}`, pino({ level: 'silent' }));
  await ensureSchema(db, [SUBSCRIBER_TABLE]);
  const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
  await db.exec('INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES (?, ?, ?, ?, ?)',
    ['alice', 'example.com', 'secret', md5('alice:example.com:secret'), md5('alice@example.com:example.com:secret')]);
  await db.close();
  return `sqlite://${file}`;
}

const DB_URL = await subscribers();

for (const engine of ENGINES) {
  describe(`sipp REGISTER with digest auth [${engine}]`, () => {
    for (const [scenario, password, what] of [['register-auth-uac.xml', 'secret', 'authenticated (200)'], ['register-auth-refused-uac.xml', 'wrong', 'refused (401 again)']] as const) {
      test(`100 calls, each challenged then ${what}`, async () => {
        const server = await startServer(engine, SCRIPT[engine], { config: { modules: { auth_db: { db_url: DB_URL, calculate_ha1: 1, password_column: 'password' } } } });
        try {
          const r = await runSipp([
            `127.0.0.1:${String(server.udpPort)}`, '-sf', join(SIPP_FIXTURES, scenario), '-i', '127.0.0.1', '-p', String(await freePort()),
            '-s', 'alice', '-au', 'alice', '-ap', password, '-m', '100', '-r', '100', '-timeout', '30', '-timeout_error',
          ]);
          assert.equal(r.code, 0, r.output);
          assert.equal(server.rt.stats.get('auth:challenges'), password === 'secret' ? 100 : 200);
          assert.equal(server.rt.stats.get('auth:authenticated'), password === 'secret' ? 100 : 0);
          assert.equal(server.rt.stats.get('auth:failed'), password === 'secret' ? 100 : 200, 'the first REGISTER of each call has no credentials');
          assert.equal(server.rt.stats.get('core:rcv_requests'), 200);
        } finally {
          await server.close();
        }
      });
    }
  });
}
