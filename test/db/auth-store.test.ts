/**
 * The subscriber store under a running server, on SQLite, MariaDB and PostgreSQL: `kemihost ctl
 * add / passwd / rm` as child processes change the table, and the next REGISTER (whose UAC
 * computes the digest itself) sees the change — at once on SQLite (read directly), at once on
 * the servers when ctl reaches the server's control RPC (auth_db.reload), and within
 * reload_interval when it cannot.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { runCli, type Finished } from '../helpers/cli.js';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/databases.js';
import { answerLine, challengeOf } from '../helpers/digest-client.js';
import { routeScript, startServer, type TestServer } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';
import { freePort } from '../helpers/sipp.js';
import { until } from '../helpers/until.js';

const SCRIPT = routeScript('lua', `local rc = KSR.auth_db.auth_check("example.com", "subscriber", 1)
  KSR.hdr.append_to_reply("X-Rc: " .. rc .. "\\r\\n")
  if rc < 0 then KSR.auth.auth_challenge("example.com", 1) KSR.x.exit() end
  KSR.sl.sl_send_reply(200, "OK")`);

interface Setup {
  readonly cfg: string;
  readonly server: TestServer;
  ctl(...args: string[]): Promise<Finished>;
}

/** a config file for the test database (with a control RPC when asked), `db init`, a server on it */
async function setup(t: TestContext, tdb: TestDatabase, o: { rpc: boolean; reloadInterval: number }): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'kemihost-authstore-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const raw = {
    db_url: tdb.url,
    db: { connect_timeout_ms: 2000 },
    rpc: { listen: o.rpc ? `127.0.0.1:${String(await freePort())}` : 'off' },
    modules: { auth_db: { calculate_ha1: 1, password_column: 'password', reload_interval: o.reloadInterval } },
  };
  const cfg = join(dir, 'kemihost.yaml');
  writeFileSync(cfg, JSON.stringify(raw));
  const ctl = (...args: string[]): Promise<Finished> => runCli(['ctl', '-c', cfg, ...args]);
  const init = await ctl('db', 'init');
  assert.equal(init.code, 0, init.stderr);
  const server = await startServer('lua', SCRIPT, { config: raw });
  t.after(() => server.close());
  return { cfg, server, ctl };
}

/** REGISTER as alice with this password, answering the challenge; the X-Rc of the answer */
async function registerRc(t: TestContext, server: TestServer, password: string): Promise<string> {
  const peer = await UdpPeer.open();
  t.after(() => { peer.close(); });
  const spec = { method: 'REGISTER', ruri: 'sip:example.com', fromUri: 'sip:alice@example.com', toUri: 'sip:alice@example.com' };
  peer.request(spec, server.udpPort);
  const first = await peer.next(3000);
  const ch = first === null ? null : challengeOf(first);
  assert.ok(ch !== null, 'a challenge');
  peer.request({ ...spec, cseq: 2, headers: [answerLine(ch, { username: 'alice', password, method: 'REGISTER', uri: 'sip:example.com' })] }, server.udpPort);
  const r = await peer.next(3000);
  return r?.getHeader('x-rc') ?? '(no reply)';
}

function ok(r: Finished): void {
  assert.equal(r.code, 0, `exit ${String(r.code)}: ${r.stderr}`);
}

describe('the subscriber store under a running server', { concurrency: true }, () => {
  for (const dialect of DIALECTS) {
    test(`[${dialect}] ctl add, passwd, rm count for the next REGISTER at once`, async (t) => {
      const tdb = await freshDatabase(t, dialect);
      if (tdb === null) return;
      const s = await setup(t, tdb, { rpc: true, reloadInterval: 0 });
      assert.equal(await registerRc(t, s.server, 'secret'), '-3', 'no alice yet');
      const add = await s.ctl('add', 'alice@example.com', 'secret');
      ok(add);
      assert.equal(add.stderr, '');
      assert.match(add.stdout, dialect === 'sqlite' ? /^added alice@example\.com\n$/ : /^added alice@example\.com\nreloaded the subscriber tables of the server at 127\.0\.0\.1:\d+\n$/, 'told the server (SQLite: nothing to tell)');
      assert.equal(await registerRc(t, s.server, 'secret'), '1');
      ok(await s.ctl('passwd', 'alice@example.com', 'n3w'));
      assert.equal(await registerRc(t, s.server, 'secret'), '-2', 'the old password');
      assert.equal(await registerRc(t, s.server, 'n3w'), '1');
      ok(await s.ctl('rm', 'alice@example.com'));
      assert.equal(await registerRc(t, s.server, 'n3w'), '-3');
      if (dialect !== 'sqlite') assert.ok((s.server.rt.stats.get('auth_db:reloads') ?? 0) >= 3, 'three reloads by RPC');
    });

    if (dialect === 'sqlite') continue;
    test(`[${dialect}] without a control RPC, the change counts after reload_interval`, async (t) => {
      const tdb = await freshDatabase(t, dialect);
      if (tdb === null) return;
      const s = await setup(t, tdb, { rpc: false, reloadInterval: 1 });
      const add = await s.ctl('add', 'alice@example.com', 'secret');
      ok(add);
      assert.match(add.stdout, /^added alice@example\.com\nnot reloaded: no control RPC to call .*reload_interval: 1 s/);
      await until(async () => (await registerRc(t, s.server, 'secret')) === '1', 5000, 'the refresh to load alice');
    });
  }
});
